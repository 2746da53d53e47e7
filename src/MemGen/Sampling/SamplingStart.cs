using System.Globalization;
using MemGen.Images;

namespace MemGen.Sampling;

/// <summary>
/// The mean m of a sampler's start y0 = m + σ0·z: a mean image (the reference code uses the training-set mean) or a
/// constant (older code: 0.5), and optionally a covariance Σ for the Gaussian start y0 = m + (Σ + σ0²I)^½·z. It is
/// data, not a sampler setting, so it is given when a sampler is built.
/// </summary>
/// <param name="MeanImage">The mean image (d values), or null for <paramref name="MeanValue"/> everywhere.</param>
/// <param name="MeanValue">The constant used when <paramref name="MeanImage"/> is null.</param>
/// <param name="Description">How the mean was chosen, for records ("0.5", "mean image of SPEC").</param>
/// <param name="Covariance">Σ of a Gaussian start, or null for y0 = m + σ0·z.</param>
public sealed record SamplingStart(float[]? MeanImage, float MeanValue, string Description, StartCovariance? Covariance = null)
{
    /// <summary>The constant start 0.5 (mid-grey).</summary>
    public static SamplingStart Grey { get; } = Constant(0.5f);

    /// <summary>A constant start mean.</summary>
    public static SamplingStart Constant(float value) => new(null, value, value.ToString("R", CultureInfo.InvariantCulture));

    /// <summary>The mean image of <paramref name="images"/>, described as <paramref name="description"/>.</summary>
    public static SamplingStart MeanOf(ImageSet images, string description) => new(ImageStatistics.MeanImage(images), 0.5f, description);

    /// <summary>
    /// The Gaussian start of <paramref name="images"/>: their mean image and covariance (y0 = m + (Σ + σ0²I)^½·z,
    /// docs/science.md §3.4), described as <paramref name="description"/>.
    /// </summary>
    public static SamplingStart GaussianOf(ImageSet images, string description) =>
        new(ImageStatistics.MeanImage(images), 0.5f, description, StartCovariance.Of(images));
}
