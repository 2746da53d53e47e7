namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// Every setting of the linear-Gaussian study (docs/science.md §7). Defaults are the reference values:
/// m = 10, s = 1, T = 2, Λ = e^(−2T), 10^4 original points, R = 300 runs, d ∈ {16, 32, 64, 100}.
/// </summary>
public sealed record LinearGaussianSettings
{
    /// <summary>Data dimensions d to sweep.</summary>
    public int[] Dimensions { get; init; } = [16, 32, 64, 100];

    /// <summary>Training-set sizes as multiples of d; n = max(2, round(ratio·d)), duplicates removed.</summary>
    public double[] Ratios { get; init; } = [0.25, 0.5, 0.625, 0.75, 0.875, 0.95, 1.0, 1.05, 1.125, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 4.0, 6.0, 8.0];

    /// <summary>m: mean of every coordinate of the true law.</summary>
    public double Mean { get; init; } = 10;

    /// <summary>s: standard deviation of every coordinate of the true law.</summary>
    public double Std { get; init; } = 1;

    /// <summary>T: time of the single OU jump.</summary>
    public double Time { get; init; } = 2;

    /// <summary>Λ; null means the reference value e^(−2T).</summary>
    public double? Lambda { get; init; }

    /// <summary>N of the "original" set drawn fresh from the true law in each run.</summary>
    public int OriginalCount { get; init; } = 10_000;

    /// <summary>R: independent runs per (d, n).</summary>
    public int Runs { get; init; } = 300;

    /// <summary>Seed of all random streams.</summary>
    public long Seed { get; init; }

    /// <summary>
    /// Covariances of the generated law to evaluate, each on the same training sets, fits and original sets
    /// (docs/science.md §7.3): the model's s_T²·B·Bᵀ, the reference code's s_T²·Bᵀ·B, or both.
    /// </summary>
    public GeneratedCovariance[] Covariances { get; init; } = [GeneratedCovariance.Model];

    /// <summary>Arithmetic of the self overlaps ∫p_S² (docs/science.md §7.9); float32 only to show rounding.</summary>
    public KernelSumPrecision Precision { get; init; } = KernelSumPrecision.Float64;

    /// <summary>Worker threads (runs in parallel); 0 means one per core.</summary>
    public int Threads { get; init; }

    /// <summary>Λ actually used.</summary>
    public double EffectiveLambda => Lambda ?? Math.Exp(-2 * Time);

    /// <summary>The training-set sizes n swept at dimension <paramref name="d"/>, ascending.</summary>
    public int[] TrainingCounts(int d) =>
        Ratios.Select(r => Math.Max(2, (int)Math.Round(r * d, MidpointRounding.AwayFromZero))).Distinct().Order().ToArray();

    /// <summary>Checks every setting; throws <see cref="InvalidSettingException"/> naming the first invalid one.</summary>
    public void Validate()
    {
        if (Dimensions.Length == 0) throw new InvalidSettingException("dimensions", "give at least one d");
        if (Dimensions.Any(d => d < 1 || d > 4096)) throw new InvalidSettingException("dimensions", "each d must be in 1..4096");
        if (Ratios.Length == 0) throw new InvalidSettingException("ratios", "give at least one n/d");
        if (Ratios.Any(r => !(r > 0) || double.IsInfinity(r))) throw new InvalidSettingException("ratios", "each n/d must be positive");
        if (Dimensions.Any(d => TrainingCounts(d)[^1] > 1_000_000)) throw new InvalidSettingException("ratios", "n = ratio·d must stay below 10^6");
        if (!(Std > 0) || double.IsInfinity(Std)) throw new InvalidSettingException("std", "s must be positive");
        if (!double.IsFinite(Mean)) throw new InvalidSettingException("mean", "m must be finite");
        if (!(Time > 0) || double.IsInfinity(Time)) throw new InvalidSettingException("time", "T must be positive");
        if (!(EffectiveLambda > 0) || double.IsInfinity(EffectiveLambda)) throw new InvalidSettingException("lambda", "Λ must be positive");
        if (OriginalCount < 2) throw new InvalidSettingException("original-count", "needs at least 2 points");
        if (Runs < 1) throw new InvalidSettingException("runs", "needs at least 1 run");
        if (Runs >= 1 << 20) throw new InvalidSettingException("runs", "at most 1048575");
        if (Covariances.Length == 0) throw new InvalidSettingException("covariance", "give at least one of model, reference-code");
        if (Covariances.Distinct().Count() != Covariances.Length) throw new InvalidSettingException("covariance", "each covariance at most once");
        if (Covariances.Any(c => !Enum.IsDefined(c))) throw new InvalidSettingException("covariance", "unknown value");
        if (!Enum.IsDefined(Precision)) throw new InvalidSettingException("kernel-precision", "unknown value");
        if (Threads < 0) throw new InvalidSettingException("threads", "must be 0 (all cores) or positive");
    }
}
