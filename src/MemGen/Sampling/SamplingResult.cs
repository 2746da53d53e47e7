using System.Globalization;
using System.Text;
using MemGen.Data;
using MemGen.Images;
using MemGen.Runs;
using MemGen.Tensors;

namespace MemGen.Sampling;

/// <summary>How the trajectory of one sample ended.</summary>
public enum SampleOutcome
{
    /// <summary>The stopping rule was met (σ_t ≤ σ∞ for Algorithm 1; the schedule ran out for probability flow).</summary>
    Converged,

    /// <summary>The noise estimate σ_t exceeded the divergence threshold (or became NaN/∞): not converging.</summary>
    SigmaExceeded,

    /// <summary>The step limit was reached before σ_t fell to σ∞: not converging.</summary>
    MaxStepsExceeded,
}

/// <summary>
/// The samples drawn by a sampler plus per-sample trajectory statistics. Sample k is the sampler's global index
/// <see cref="FirstIndex"/> + k, whose noise depends only on (<see cref="Seed"/>, that index).
/// Diverged samples are returned (as their last iterate) but marked in <see cref="Outcomes"/>.
/// </summary>
public sealed class SamplingResult
{
    /// <summary>Creates a result; the arrays must have one entry per sample (and <paramref name="trajectories"/>, if any, one trajectory).</summary>
    public SamplingResult(Tensor samples, int[] steps, float[] finalSigma, SampleOutcome[] outcomes,
        long seed, int firstIndex, string sampler, string denoiser, SampledTrajectories? trajectories = null)
    {
        ArgumentNullException.ThrowIfNull(samples);
        int n = samples.Shape[0];
        if (steps.Length != n || finalSigma.Length != n || outcomes.Length != n)
            throw new ArgumentException($"Per-sample arrays must have {n} entries.");
        if (trajectories is not null && trajectories.Count != n) throw new ArgumentException($"Trajectories must have {n} entries.");
        Trajectories = trajectories;
        Samples = samples;
        Steps = steps;
        FinalSigma = finalSigma;
        Outcomes = outcomes;
        Seed = seed;
        FirstIndex = firstIndex;
        Sampler = sampler;
        Denoiser = denoiser;
    }

    /// <summary>The samples (N,C,H,W).</summary>
    public Tensor Samples { get; }

    /// <summary>Update steps each sample took (denoiser evaluations, not counting a final denoising step).</summary>
    public int[] Steps { get; }

    /// <summary>The last noise estimate σ_t = ‖y − f(y)‖/√d of each sample.</summary>
    public float[] FinalSigma { get; }

    /// <summary>How each trajectory ended.</summary>
    public SampleOutcome[] Outcomes { get; }

    /// <summary>The seed the noise was drawn from.</summary>
    public long Seed { get; }

    /// <summary>The global index of the first sample.</summary>
    public int FirstIndex { get; }

    /// <summary>A description of the sampler and its settings.</summary>
    public string Sampler { get; }

    /// <summary>The denoiser's name.</summary>
    public string Denoiser { get; }

    /// <summary>Every k-th iterate of each sample, when the sampler's options asked for them (SaveEvery = k); else null.</summary>
    public SampledTrajectories? Trajectories { get; }

    /// <summary>Number of samples.</summary>
    public int Count => Samples.Shape[0];

    /// <summary>True for each sample that did not converge.</summary>
    public bool[] Diverged => Outcomes.Select(o => o != SampleOutcome.Converged).ToArray();

    /// <summary>Number of samples that did not converge.</summary>
    public int DivergedCount => Outcomes.Count(o => o != SampleOutcome.Converged);

    /// <summary>
    /// Throws a <see cref="NonFiniteResultException"/> when any sample holds NaN or ±∞ pixels or ended with a
    /// non-finite σ_t (its values overflowed): the denoiser's output was not finite along the trajectory, and such
    /// samples must not be written as a result.
    /// </summary>
    public void RequireFinite()
    {
        int n = Samples.Shape[0], d = Samples.ItemLength, bad = 0, first = -1;
        for (int i = 0; i < n; i++)
        {
            if (float.IsFinite(FinalSigma[i]) && AllFinite(Samples.Data.AsSpan(i * d, d))) continue;
            bad++;
            if (first < 0) first = i;
        }
        if (bad > 0)
            throw new NonFiniteResultException(
                $"{bad} of {n} samples from {Denoiser} hold NaN or infinite pixels or noise levels (first: sample {FirstIndex + first}); the denoiser's output is not finite along their trajectories; nothing was written");
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>The samples as an image set (pixels copied) with a provenance naming sampler, denoiser and seed.</summary>
    public ImageSet ToImageSet()
    {
        var pixels = (float[])Samples.Data.Clone();
        var provenance = new Provenance($"samples:{Denoiser}", [Sampler, $"indices {FirstIndex}..{FirstIndex + Count - 1}"], Seed);
        return new ImageSet(pixels, Count, Samples.C, Samples.H, Samples.W, provenance);
    }

    /// <summary>
    /// Writes the per-sample trajectory statistics as CSV (index, steps, final_sigma, outcome, diverged), atomically.
    /// </summary>
    public void WriteTrajectoryCsv(string path)
    {
        var sb = new StringBuilder("index,steps,final_sigma,outcome,diverged\n");
        for (int k = 0; k < Count; k++)
            sb.Append(CultureInfo.InvariantCulture, $"{FirstIndex + k},{Steps[k]},{FinalSigma[k]:R},{Outcomes[k]},{(Outcomes[k] != SampleOutcome.Converged ? 1 : 0)}\n");
        AtomicFile.WriteAllText(path, sb.ToString());
    }
}
