using System.Text.Json.Serialization;
using MemGen.Tensors;

namespace MemGen.Training;

/// <summary>How the training noise level σ of each image is drawn.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SigmaDistribution>))]
public enum SigmaDistribution
{
    /// <summary>σ = σ_max·u^p with u ~ U(0,1) (docs/science.md §2; the paper: σ_max = 1, p = 2).</summary>
    [JsonStringEnumMemberName("power")]
    Power,

    /// <summary>ln σ ~ N(P_mean, P_std²), the training distribution of Karras et al. 2022 (EDM; docs/science.md §9.3).</summary>
    [JsonStringEnumMemberName("log-normal")]
    LogNormal,
}

/// <summary>
/// The noise of each training step (docs/science.md §2, §9.3): image i of step s gets its own level σ, drawn as σ_max·u^p
/// (u ~ U(0,1); the paper: σ_max = 1, p = 2, favouring small σ) or from EDM's log-normal ln σ ~ N(P_mean, P_std²), and
/// z ~ N(0, I), both from the stream (seed, s·2^20 + i), so the noise is a pure function of (seed, step, position), can
/// be drawn in parallel, and is the same whichever backend trains the network (it is drawn on the host).
/// </summary>
public sealed class NoiseSchedule
{
    private readonly long _seed;

    /// <summary>Creates the schedule σ = <paramref name="sigmaMax"/>·u^<paramref name="exponent"/> of the run seeded by <paramref name="seed"/>.</summary>
    public NoiseSchedule(long seed, double sigmaMax, double exponent)
    {
        if (!(sigmaMax > 0) || !double.IsFinite(sigmaMax)) throw new ArgumentOutOfRangeException(nameof(sigmaMax), sigmaMax, "σ_max must be positive.");
        if (!(exponent > 0) || !double.IsFinite(exponent)) throw new ArgumentOutOfRangeException(nameof(exponent), exponent, "The exponent must be positive.");
        _seed = seed ^ 0x6E6F697365000000L; // "noise"
        Distribution = SigmaDistribution.Power;
        SigmaMax = sigmaMax;
        Exponent = exponent;
    }

    private NoiseSchedule(long seed, double logMean, double logStd, SigmaDistribution distribution)
    {
        _seed = seed ^ 0x6E6F697365000000L;
        Distribution = distribution;
        LogMean = logMean;
        LogStd = logStd;
    }

    /// <summary>EDM's schedule ln σ ~ N(<paramref name="logMean"/>, <paramref name="logStd"/>²) of the run seeded by <paramref name="seed"/>.</summary>
    public static NoiseSchedule LogNormal(long seed, double logMean, double logStd)
    {
        if (!double.IsFinite(logMean)) throw new ArgumentOutOfRangeException(nameof(logMean), logMean, "P_mean must be a number.");
        if (!(logStd > 0) || !double.IsFinite(logStd)) throw new ArgumentOutOfRangeException(nameof(logStd), logStd, "P_std must be positive.");
        return new NoiseSchedule(seed, logMean, logStd, SigmaDistribution.LogNormal);
    }

    /// <summary>The schedule <paramref name="options"/> name for a network (conditioned or not: <see cref="TrainingOptions.EffectiveSigmaDistribution"/>).</summary>
    public static NoiseSchedule For(TrainingOptions options, bool conditioned, long seed)
    {
        ArgumentNullException.ThrowIfNull(options);
        return options.EffectiveSigmaDistribution(conditioned) == SigmaDistribution.Power
            ? new NoiseSchedule(seed, options.SigmaMax, options.SigmaExponent)
            : LogNormal(seed, options.SigmaLogMean ?? TrainingOptions.DefaultSigmaLogMean, options.SigmaLogStd ?? TrainingOptions.DefaultSigmaLogStd);
    }

    /// <summary>Which distribution.</summary>
    public SigmaDistribution Distribution { get; }

    /// <summary>σ_max, the level at u = 1 (power schedule).</summary>
    public double SigmaMax { get; }

    /// <summary>The exponent p of u (power schedule).</summary>
    public double Exponent { get; }

    /// <summary>P_mean, the mean of ln σ (log-normal schedule).</summary>
    public double LogMean { get; }

    /// <summary>P_std, the standard deviation of ln σ (log-normal schedule).</summary>
    public double LogStd { get; }

    /// <summary>The noise level of uniform draw <paramref name="u"/> ∈ [0, 1): σ_max·u^p (power schedule).</summary>
    public float SigmaOf(double u) => (float)(SigmaMax * Math.Pow(u, Exponent));

    /// <summary>Fills <paramref name="sigmas"/> (one per image) and <paramref name="scaledNoise"/> (host, σ_i·z_i per pixel) for step <paramref name="step"/>.</summary>
    public void Fill(long step, Span<float> sigmas, Tensor scaledNoise)
    {
        ArgumentNullException.ThrowIfNull(scaledNoise);
        int batch = sigmas.Length, d = scaledNoise.ItemLength;
        if (scaledNoise.N != batch) throw new ArgumentException($"Noise tensor holds {scaledNoise.N} images, {batch} sigmas requested.");
        var sigmaArray = new float[batch];
        Parallel.For(0, batch, i =>
        {
            var rng = new DeterministicRng(_seed, (step << 20) + i);
            float sigma = Distribution == SigmaDistribution.Power
                ? SigmaOf(rng.NextDouble())
                : (float)Math.Exp(LogMean + LogStd * rng.NextNormal());
            sigmaArray[i] = sigma;
            rng.FillNormal(scaledNoise.Data.AsSpan(i * d, d), 0f, sigma);
        });
        sigmaArray.CopyTo(sigmas);
    }
}
