using MemGen.Images;

namespace MemGen.Analysis;

/// <summary>
/// Brightness and contrast of a set of images (docs/science.md §5.9): the mean pixel value over all images, and the
/// root mean square over images of each image's own pixel standard deviation. Mean-removed cosine similarity is blind
/// to both (a sample with the right shapes at half the data's contrast scores as high as a faithful one), so the
/// transition study compares them between samples and training images.
/// </summary>
/// <param name="Mean">Mean pixel value.</param>
/// <param name="Contrast">√(mean over images of the variance of the image's pixels).</param>
public sealed record ImageIntensity(double Mean, double Contrast)
{
    /// <summary>The intensity of <paramref name="images"/>.</summary>
    public static ImageIntensity Of(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("The intensity of an empty set is undefined.", nameof(images));
        int d = images.ImageSize;
        double total = 0, variances = 0;
        for (int i = 0; i < images.Count; i++)
        {
            var x = images.Image(i);
            double sum = 0, squares = 0;
            foreach (var v in x) sum += v;
            double mean = sum / d;
            foreach (var v in x) squares += (v - mean) * (v - mean);
            total += sum;
            variances += squares / d;
        }
        return new ImageIntensity(total / ((double)images.Count * d), Math.Sqrt(variances / images.Count));
    }

    /// <summary>This mean over <paramref name="reference"/>'s (1 = as bright as the reference; NaN when it is 0).</summary>
    public double MeanRatio(ImageIntensity reference) => reference is { Mean: not 0 } ? Mean / reference.Mean : double.NaN;

    /// <summary>This contrast over <paramref name="reference"/>'s (1 = as much contrast as the reference; NaN when it is 0).</summary>
    public double ContrastRatio(ImageIntensity reference) => reference is { Contrast: not 0 } ? Contrast / reference.Contrast : double.NaN;
}
