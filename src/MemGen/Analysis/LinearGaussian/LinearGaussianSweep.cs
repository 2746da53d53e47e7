using MemGen.Compute;
using MemGen.Machine;
using MemGen.Tensors;

namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// One (d, n, run) outcome. E_TG, E_OG and Δ are the integrated squared distances with the common
/// ∫p_G² dropped, in units of ∫p² of the true law, (4π s²)^(−d/2) (so they are O(1) for every d).
/// </summary>
/// <param name="Dimension">d.</param>
/// <param name="TrainingCount">n.</param>
/// <param name="Run">Run index r (0-based).</param>
/// <param name="TrainDistance">E_TG = ∫p_T² − 2∫p_G·p_T (units above).</param>
/// <param name="OriginalDistance">E_OG = ∫p_O² − 2∫p_G·p_O (units above).</param>
/// <param name="Delta">Δ = E_TG − E_OG (&gt; 0: the generated law is closer to the original set: generalization).</param>
/// <param name="SquaredHellinger">H²(N(μ_G, Σ_G), N(m·1, s²I)); 1 when Σ_G is singular.</param>
/// <param name="KullbackLeibler">KL(N(μ_G, Σ_G) ‖ N(m·1, s²I)); +∞ when Σ_G is singular.</param>
/// <param name="Rank">Rank of Σ_G.</param>
public sealed record LinearGaussianMeasurement(
    int Dimension, int TrainingCount, int Run, double TrainDistance, double OriginalDistance, double Delta,
    double SquaredHellinger, double KullbackLeibler, int Rank);

/// <summary>
/// Runs the §7 study: for each d and run r, one original set (N points from the true law, shared by the
/// n values of that run), and for each n a fresh training set and forward noise, the fitted linear
/// denoiser, its generated law, and the distances. Runs go in parallel; every random stream is
/// DeterministicRng(seed, stream(d, r, n)), so results do not depend on the thread count.
/// </summary>
public static class LinearGaussianSweep
{
    /// <summary>Stream of the original set of run r at dimension d.</summary>
    public static long OriginalStream(int d, int run) => ((long)d << 44) | ((long)run << 24);

    /// <summary>Stream of the training set and forward noise of (d, run, n).</summary>
    public static long TrainingStream(int d, int run, int n) => ((long)d << 44) | ((long)run << 24) | (uint)(n + 1);

    /// <summary>
    /// Runs every (d, run) in parallel and returns all measurements ordered by (d, n, run).
    /// <paramref name="progress"/> (may be called from worker threads) receives the fraction done, weighted by d.
    /// </summary>
    public static IReadOnlyList<LinearGaussianMeasurement> Run(LinearGaussianSettings settings, Action<double>? progress = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Validate() is string problem) throw new ArgumentException(problem, nameof(settings));
        RequireMemory(settings);
        var tasks = settings.Dimensions.Distinct().OrderDescending()
            .SelectMany(d => Enumerable.Range(0, settings.Runs).Select(r => (D: d, Run: r))).ToArray();
        var results = new IReadOnlyList<LinearGaussianMeasurement>[tasks.Length];
        double totalWeight = tasks.Sum(t => (double)t.D), doneWeight = 0;
        var gate = new object();
        int threads = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount;
        // One BLAS thread per worker: no oversubscription, and the same summation order (bit-identical
        // results) whatever the number of workers.
        int blasThreads = ComputeBackend.Host.LinearAlgebra.ThreadCount;
        ComputeBackend.Host.LinearAlgebra.ThreadCount = 1;
        try
        {
            Parallel.For(0, tasks.Length, new ParallelOptions { MaxDegreeOfParallelism = threads, CancellationToken = cancellation }, i =>
            {
                results[i] = RunReplicate(settings, tasks[i].D, tasks[i].Run);
                double fraction;
                lock (gate)
                {
                    doneWeight += tasks[i].D;
                    fraction = doneWeight / totalWeight;
                }
                progress?.Invoke(fraction);
            });
        }
        finally
        {
            ComputeBackend.Host.LinearAlgebra.ThreadCount = blasThreads;
        }
        return results.SelectMany(r => r).OrderBy(m => m.Dimension).ThenBy(m => m.TrainingCount).ThenBy(m => m.Run).ToList();
    }

    /// <summary>
    /// Refuses settings whose workers would take more than the memory budget: each worker holds its original set
    /// (and the kernel-density copy), a training set with its noisy copy and fitted design (n·d values each), and a few
    /// d×d matrices (the denoiser, the generated law's covariance and eigenvectors), all in doubles.
    /// </summary>
    public static void RequireMemory(LinearGaussianSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int workers = Math.Min(settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount, settings.Dimensions.Length * settings.Runs);
        long worst = 0;
        foreach (int d in settings.Dimensions.Distinct())
        {
            long n = settings.TrainingCounts(d)[^1];
            long perWorker = MemoryBudget.Product(sizeof(double), MemoryBudget.Sum(
                MemoryBudget.Product(2, settings.OriginalCount, d), MemoryBudget.Product(5, n, d), MemoryBudget.Product(5, d, d), MemoryBudget.Product(Math.Min(n, d), Math.Min(n, d))));
            worst = Math.Max(worst, perWorker);
        }
        MemoryBudget.Require(MemoryBudget.Product(workers, worst),
            $"the linear-Gaussian sweep (d up to {settings.Dimensions.Max()}, original sets of {settings.OriginalCount}, {workers} workers)");
    }

    /// <summary>One run at dimension <paramref name="d"/>: every n of the sweep against one original set.</summary>
    public static IReadOnlyList<LinearGaussianMeasurement> RunReplicate(LinearGaussianSettings settings, int d, int run)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var truth = new IsotropicGaussianLaw(d, settings.Mean, settings.Std);
        var jump = new OrnsteinUhlenbeckJump(settings.Time, settings.EffectiveLambda);
        int nO = settings.OriginalCount;
        var original = truth.Sample(nO, new DeterministicRng(settings.Seed, OriginalStream(d, run)));
        double epsO = KernelDensityOverlaps.KernelWidth(settings.Std, nO, d);
        double logUnit = truth.LogSelfOverlap;
        double originalSelf = Math.Exp(KernelDensityOverlaps.LogSelfOverlap(original, nO, d, epsO) - logUnit);

        var list = new List<LinearGaussianMeasurement>();
        foreach (int n in settings.TrainingCounts(d))
        {
            var rng = new DeterministicRng(settings.Seed, TrainingStream(d, run, n));
            var x0 = truth.Sample(n, rng);
            var xT = jump.Forward(x0, rng);
            var denoiser = LinearDenoiser.Fit(x0, xT, n, d);
            var generated = OneStepGenerator.GeneratedLaw(denoiser, jump, x0, n);
            double epsT = KernelDensityOverlaps.KernelWidth(settings.Std, n, d);
            double trainSelf = Math.Exp(KernelDensityOverlaps.LogSelfOverlap(x0, n, d, epsT) - logUnit);
            double trainCross = Math.Exp(KernelDensityOverlaps.LogCrossOverlap(generated, x0, n, epsT) - logUnit);
            double originalCross = Math.Exp(KernelDensityOverlaps.LogCrossOverlap(generated, original, nO, epsO) - logUnit);
            double eTG = trainSelf - 2 * trainCross, eOG = originalSelf - 2 * originalCross;
            list.Add(new LinearGaussianMeasurement(d, n, run, eTG, eOG, eTG - eOG,
                GaussianDivergences.SquaredHellinger(generated, truth), GaussianDivergences.KullbackLeibler(generated, truth),
                generated.Rank));
        }
        return list;
    }
}
