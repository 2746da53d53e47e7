using MemGen.Tensors;

namespace MemGen.Training;

/// <summary>
/// The noise of each training step (docs/science.md §2): image i of step s gets its own level σ = σ_max·u^p with
/// u ~ U(0,1) (the paper: σ_max = 1, p = 2, favouring small σ) and z ~ N(0, I), both from the stream
/// (seed, s·2^20 + i), so the noise is a pure function of (seed, step, position), can be drawn in parallel, and is
/// the same whichever backend trains the network (it is drawn on the host).
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
        SigmaMax = sigmaMax;
        Exponent = exponent;
    }

    /// <summary>σ_max, the level at u = 1.</summary>
    public double SigmaMax { get; }

    /// <summary>The exponent p of u.</summary>
    public double Exponent { get; }

    /// <summary>The noise level of uniform draw <paramref name="u"/> ∈ [0, 1): σ_max·u^p.</summary>
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
            float sigma = SigmaOf(rng.NextDouble());
            sigmaArray[i] = sigma;
            rng.FillNormal(scaledNoise.Data.AsSpan(i * d, d), 0f, sigma);
        });
        sigmaArray.CopyTo(sigmas);
    }
}
