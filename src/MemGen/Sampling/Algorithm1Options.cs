using MemGen.Data;
using MemGen.Images;

namespace MemGen.Sampling;

/// <summary>The two variants of Algorithm 1 (docs/science.md §3).</summary>
public enum Algorithm1Variant
{
    /// <summary>Paper: fixed step h_t = h0; return the last iterate y.</summary>
    Paper,

    /// <summary>Reference code: step h_t = h0·t/(1 + h0·(t−1)) grows toward 1; return f(y) (one final denoising step).</summary>
    Code,
}

/// <summary>Settings of Algorithm 1; the defaults are the paper's values (docs/science.md §3).</summary>
public sealed record Algorithm1Options
{
    /// <summary>Paper (default) or reference-code variant.</summary>
    public Algorithm1Variant Variant { get; init; } = Algorithm1Variant.Paper;

    /// <summary>h0, the (initial) step size. Paper: 0.01.</summary>
    public double InitialStep { get; init; } = 0.01;

    /// <summary>β, the fraction of the noise removed per step that is not re-injected. Paper: 0.1.</summary>
    public double Beta { get; init; } = 0.1;

    /// <summary>σ0, the standard deviation of the initial noise. Paper: 1.</summary>
    public float InitialSigma { get; init; } = 1f;

    /// <summary>σ∞: stop once σ_t ≤ σ∞. Paper: 0.05 (code demos 0.1).</summary>
    public double FinalSigma { get; init; } = 0.05;

    /// <summary>max_T: a sample still above σ∞ after this many steps is marked as not converging.</summary>
    public int MaxSteps { get; init; } = 10_000;

    /// <summary>A sample whose σ_t exceeds this is marked as diverging. docs/science.md §3: 2.</summary>
    public double DivergenceSigma { get; init; } = 2.0;

    /// <summary>m: the mean image of the start (reference code: the training-set mean). Null: <see cref="MeanValue"/> everywhere.</summary>
    public float[]? MeanImage { get; init; }

    /// <summary>The constant start mean used when <see cref="MeanImage"/> is null (older code: 0.5).</summary>
    public float MeanValue { get; init; } = 0.5f;

    /// <summary>Σ of a Gaussian start y0 = m + (Σ + σ0²I)^½·z; null: y0 = m + σ0·z.</summary>
    public StartCovariance? StartCovariance { get; init; }

    /// <summary>Images denoised per call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// k &gt; 0: keep every k-th iterate of each trajectory (steps 0, k, 2k, … and the last) in
    /// <see cref="SamplingResult.Trajectories"/>; 0 (default): keep none.
    /// </summary>
    public int SaveEvery { get; init; }

    /// <summary>These options with the start mean set to the mean image of <paramref name="training"/> (as the reference code does).</summary>
    public Algorithm1Options WithTrainingMean(ImageSet training) => this with { MeanImage = ImageStatistics.MeanImage(training) };

    /// <summary>h_t for step t (1-based).</summary>
    public double StepSize(int t) => Variant == Algorithm1Variant.Paper
        ? InitialStep
        : InitialStep * t / (1.0 + InitialStep * (t - 1));

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!(InitialStep > 0 && InitialStep <= 1)) throw new ArgumentException($"Algorithm 1: h0 = {InitialStep} must be in (0, 1].");
        if (!(Beta > 0 && Beta <= 1)) throw new ArgumentException($"Algorithm 1: beta = {Beta} must be in (0, 1].");
        if (!(InitialSigma > 0) || !float.IsFinite(InitialSigma)) throw new ArgumentException($"Algorithm 1: sigma0 = {InitialSigma} must be positive.");
        if (!(FinalSigma > 0)) throw new ArgumentException($"Algorithm 1: sigma_inf = {FinalSigma} must be positive.");
        if (!(DivergenceSigma > FinalSigma)) throw new ArgumentException($"Algorithm 1: divergence sigma {DivergenceSigma} must exceed sigma_inf {FinalSigma}.");
        if (MaxSteps <= 0) throw new ArgumentException($"Algorithm 1: max steps {MaxSteps} must be positive.");
        if (BatchSize <= 0) throw new ArgumentException($"Algorithm 1: batch size {BatchSize} must be positive.");
        if (SaveEvery < 0) throw new ArgumentException($"Algorithm 1: save every {SaveEvery} steps must not be negative.");
    }

    /// <summary>A one-line description of the settings.</summary>
    public string Describe() =>
        $"algorithm1 variant={Variant} h0={InitialStep} beta={Beta} sigma0={InitialSigma} sigma_inf={FinalSigma} max_steps={MaxSteps} divergence_sigma={DivergenceSigma} mean={(MeanImage is null ? MeanValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : "image")}{(StartCovariance is null ? "" : " covariance=data")}" +
        (SaveEvery > 0 ? $" save_every={SaveEvery}" : "");
}
