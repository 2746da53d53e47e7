using MemGen.Tensors;

namespace MemGen.Sampling;

/// <summary>
/// The random start shared by the samplers: y0 = m + σ0·z, or y0 = m + (Σ + σ0²I)^½·z with a
/// <see cref="StartCovariance"/>, z the first d normals of the stream (seed, sample index), so the start never depends
/// on batch size or on the model.
/// </summary>
internal static class InitialNoise
{
    /// <summary>The noise stream of sample <paramref name="index"/>.</summary>
    public static DeterministicRng Stream(long seed, int index) => new(seed, index);

    /// <summary>Fills <paramref name="y"/> with m + σ0·z (or m + (Σ + σ0²I)^½·z) using <paramref name="rng"/>.</summary>
    public static void Fill(Span<float> y, DeterministicRng rng, float[]? meanImage, float meanValue, float sigma0, StartCovariance? covariance)
    {
        if (covariance is null) rng.FillNormal(y, 0f, sigma0);
        else
        {
            rng.FillNormal(y, 0f, 1f);
            covariance.Shape(y, sigma0);
        }
        for (int j = 0; j < y.Length; j++) y[j] += meanImage is null ? meanValue : meanImage[j];
    }

    /// <summary>Checks a mean image and a start covariance against the image size.</summary>
    public static void CheckStart(float[]? meanImage, StartCovariance? covariance, int size)
    {
        if (meanImage is not null && meanImage.Length != size)
            throw new ArgumentException($"Mean image has {meanImage.Length} pixels, samples have {size}.");
        if (covariance is not null && covariance.Size != size)
            throw new ArgumentException($"The start covariance is over {covariance.Size} pixels, samples have {size}.");
    }
}
