using MemGen.Analysis;
using MemGen.Images;

namespace MemGen.Tests.Analysis;

public class ImageIntensityTests
{
    [Fact]
    public void MeanAndContrastByHand()
    {
        // Image 1: 0, 0, 1, 1 (mean 0.5, variance 0.25); image 2: 0.2 everywhere (variance 0).
        var images = new ImageSet([0f, 0f, 1f, 1f, 0.2f, 0.2f, 0.2f, 0.2f], 2, 1, 2, 2, new Provenance("hand", []));
        var intensity = ImageIntensity.Of(images);
        Assert.Equal(0.35, intensity.Mean, 6);
        Assert.Equal(Math.Sqrt((0.25 + 0) / 2), intensity.Contrast, 6);
    }

    [Fact]
    public void HalvingAnImageHalvesBothRatios()
    {
        var bright = new ImageSet([0f, 0.4f, 0.8f, 0.2f], 1, 1, 2, 2, new Provenance("hand", []));
        var dim = new ImageSet([0f, 0.2f, 0.4f, 0.1f], 1, 1, 2, 2, new Provenance("hand", []));
        var a = ImageIntensity.Of(dim);
        var b = ImageIntensity.Of(bright);
        Assert.Equal(0.5, a.MeanRatio(b), 6);
        Assert.Equal(0.5, a.ContrastRatio(b), 6);
        Assert.True(double.IsNaN(a.MeanRatio(new ImageIntensity(0, 0))));
    }
}
