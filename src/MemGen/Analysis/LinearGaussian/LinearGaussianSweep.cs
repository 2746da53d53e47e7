using MemGen.Compute;
using MemGen.Machine;
using MemGen.Tensors;

namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// One (covariance, d, n, run) outcome. The kernel integrals (and so E_TG, E_OG and Δ) are in units of ∫p² of the
/// true law, (4π s²)^(−d/2), with the common ∫p_G² dropped, so they are O(1) for every d.
/// </summary>
/// <param name="Covariance">Which covariance the generated law has.</param>
/// <param name="Dimension">d.</param>
/// <param name="TrainingCount">n.</param>
/// <param name="Run">Run index r (0-based).</param>
/// <param name="Terms">∫p_T², ∫p_O², ∫p_G·p_T, ∫p_G·p_O, the self overlaps in the sweep's precision.</param>
/// <param name="ExactDelta">Δ with the self overlaps in float64 (equal to Terms.Delta in a float64 sweep).</param>
/// <param name="SquaredHellinger">H²(N(μ_G, Σ_G), N(m·1, s²I)); 1 when Σ_G is singular.</param>
/// <param name="KullbackLeibler">KL(N(μ_G, Σ_G) ‖ N(m·1, s²I)); +∞ when Σ_G is singular.</param>
/// <param name="Rank">Rank of Σ_G.</param>
/// <param name="LargestEigenvalue">λ_max(Σ_G) (the interpolation peak at n ≈ d, docs/science.md §7.3).</param>
public sealed record LinearGaussianMeasurement(
    GeneratedCovariance Covariance, int Dimension, int TrainingCount, int Run, DeltaTerms Terms, double ExactDelta,
    double SquaredHellinger, double KullbackLeibler, int Rank, double LargestEigenvalue)
{
    /// <summary>E_TG = ∫p_T² − 2∫p_G·p_T.</summary>
    public double TrainDistance => Terms.TrainDistance;

    /// <summary>E_OG = ∫p_O² − 2∫p_G·p_O.</summary>
    public double OriginalDistance => Terms.OriginalDistance;

    /// <summary>Δ = E_TG − E_OG in the sweep's precision (&gt; 0: the generated law is closer to the original set: generalization).</summary>
    public double Delta => Terms.Delta;

    /// <summary>Whether the exact |Δ| is below float32's resolution of E_TG and E_OG (docs/science.md §7.9).</summary>
    public bool BelowFloat32Resolution => KernelSumPrecisions.BelowFloat32Resolution(ExactDelta, TrainDistance, OriginalDistance);

    /// <summary>Whether the sweep's precision gave Δ &gt; 0 where the exact Δ is not, or the other way round.</summary>
    public bool SignFlipped => Delta > 0 != ExactDelta > 0;
}

/// <summary>
/// Runs the study of docs/science.md §7.5: for each d and run r, one original set (N points from the true law, shared by the
/// n values of that run), and for each n a fresh training set and forward noise, the fitted linear
/// denoiser, and for each requested covariance its generated law and the distances (the covariances share
/// everything else, so they are compared on the same data). Runs go in parallel; every random stream is
/// DeterministicRng(seed, stream(d, r, n)), so results do not depend on the thread count.
/// </summary>
public static class LinearGaussianSweep
{
    /// <summary>Stream of the original set of run r at dimension d.</summary>
    public static long OriginalStream(int d, int run) => ((long)d << 44) | ((long)run << 24);

    /// <summary>Stream of the training set and forward noise of (d, run, n).</summary>
    public static long TrainingStream(int d, int run, int n) => ((long)d << 44) | ((long)run << 24) | (uint)(n + 1);

    /// <summary>
    /// Runs every (d, run) in parallel and returns all measurements ordered by (covariance, d, n, run).
    /// <paramref name="progress"/> (may be called from worker threads) receives the fraction done, weighted by d.
    /// </summary>
    public static IReadOnlyList<LinearGaussianMeasurement> Run(LinearGaussianSettings settings, Action<double>? progress = null,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
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
        return results.SelectMany(r => r).OrderBy(m => m.Covariance).ThenBy(m => m.Dimension).ThenBy(m => m.TrainingCount).ThenBy(m => m.Run).ToList();
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

    /// <summary>One run at dimension <paramref name="d"/>: every n of the sweep, every covariance, against one original set.</summary>
    public static IReadOnlyList<LinearGaussianMeasurement> RunReplicate(LinearGaussianSettings settings, int d, int run)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var truth = new IsotropicGaussianLaw(d, settings.Mean, settings.Std);
        var jump = new OrnsteinUhlenbeckJump(settings.Time, settings.EffectiveLambda);
        int nO = settings.OriginalCount;
        var original = truth.Sample(nO, new DeterministicRng(settings.Seed, OriginalStream(d, run)));
        double epsO = KernelDensityOverlaps.KernelWidth(settings.Std, nO, d);
        double logUnit = truth.LogSelfOverlap;
        var precision = settings.Precision;
        double originalSelf = KernelDensityOverlaps.SelfOverlap(original, nO, d, settings.Std, precision);
        double originalExact = precision == KernelSumPrecision.Float64
            ? originalSelf
            : KernelDensityOverlaps.SelfOverlap(original, nO, d, settings.Std, KernelSumPrecision.Float64);

        var list = new List<LinearGaussianMeasurement>();
        foreach (int n in settings.TrainingCounts(d))
        {
            var rng = new DeterministicRng(settings.Seed, TrainingStream(d, run, n));
            var x0 = truth.Sample(n, rng);
            var xT = jump.Forward(x0, rng);
            var denoiser = LinearDenoiser.Fit(x0, xT, n, d);
            double epsT = KernelDensityOverlaps.KernelWidth(settings.Std, n, d);
            double trainSelf = KernelDensityOverlaps.SelfOverlap(x0, n, d, settings.Std, precision);
            double trainExact = precision == KernelSumPrecision.Float64
                ? trainSelf
                : KernelDensityOverlaps.SelfOverlap(x0, n, d, settings.Std, KernelSumPrecision.Float64);
            foreach (var covariance in settings.Covariances)
            {
                var generated = OneStepGenerator.GeneratedLaw(denoiser, jump, x0, n, covariance);
                double trainCross = Math.Exp(KernelDensityOverlaps.LogCrossOverlap(generated, x0, n, epsT) - logUnit);
                double originalCross = Math.Exp(KernelDensityOverlaps.LogCrossOverlap(generated, original, nO, epsO) - logUnit);
                var exact = new DeltaTerms(trainExact, originalExact, trainCross, originalCross);
                list.Add(new LinearGaussianMeasurement(covariance, d, n, run, exact with { TrainSelf = trainSelf, OriginalSelf = originalSelf }, exact.Delta,
                    GaussianDivergences.SquaredHellinger(generated, truth), GaussianDivergences.KullbackLeibler(generated, truth),
                    generated.Rank, generated.Eigenvalues[d - 1]));
            }
        }
        return list;
    }
}
