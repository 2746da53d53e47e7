using System.Numerics;
using MemGen.Analysis;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Tests.Analysis;

public class RadialPowerSpectrumTests
{
    [Fact]
    public void TheSeparableDftMatchesTheNaiveDoubleSumAndParseval()
    {
        int h = 5, w = 6;
        var rng = new DeterministicRng(3, 0);
        var x = new float[h * w];
        rng.FillNormal(x, 0.4f, 0.2f);
        var power = RadialPowerSpectrum.PowerOf(x, h, w);
        double mean = x.Average(v => (double)v), energy = x.Sum(v => (v - mean) * (v - mean));
        for (int u = 0; u < h; u++)
            for (int v = 0; v < w; v++)
            {
                var f = Complex.Zero;
                for (int yy = 0; yy < h; yy++)
                    for (int xx = 0; xx < w; xx++)
                        f += (x[yy * w + xx] - mean) * Complex.Exp(new Complex(0, -2 * Math.PI * ((double)u * yy / h + (double)v * xx / w)));
                Assert.Equal(f.Magnitude * f.Magnitude / (h * w), power[u * w + v], 1e-9);
            }
        Assert.Equal(energy, power.Sum(), 1e-9); // Parseval: Σ|F|²/(HW) = Σ (x − mean)²
        Assert.Equal(0, power[0], 12); // the mean is removed
    }

    [Fact]
    public void ASinusoidPutsItsPowerAtItsRadiusAndBlurLowersTheHighFrequencyRatio()
    {
        const int n = 16;
        var pixels = new float[2 * n * n];
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                pixels[y * n + x] = 0.5f + 0.3f * MathF.Cos(2 * MathF.PI * 3 * x / n);             // radius 3
                pixels[n * n + y * n + x] = 0.5f + 0.3f * MathF.Cos(2 * MathF.PI * 6 * y / n);     // radius 6
            }
        var sharp = new ImageSet(pixels, 2, 1, n, n, new Provenance("test", []));
        var spectrum = RadialPowerSpectrum.Of(sharp);
        Assert.Equal(n / 2 + 1, spectrum.Length);
        int[] peaks = [.. Enumerable.Range(0, spectrum.Length).OrderByDescending(k => spectrum[k]).Take(2).Order()];
        Assert.Equal([3, 6], peaks);
        Assert.All(Enumerable.Range(0, spectrum.Length).Where(k => k is not (3 or 6)), k => Assert.True(spectrum[k] < 1e-12));

        // A 3×3 box blur removes most of the radius-6 power, little of the radius-3 power.
        var blurred = new float[pixels.Length];
        for (int i = 0; i < 2; i++)
            for (int y = 0; y < n; y++)
                for (int x = 0; x < n; x++)
                {
                    float s = 0;
                    for (int dy = -1; dy <= 1; dy++)
                        for (int dx = -1; dx <= 1; dx++) s += pixels[i * n * n + (y + dy + n) % n * n + (x + dx + n) % n];
                    blurred[i * n * n + y * n + x] = s / 9;
                }
        var soft = RadialPowerSpectrum.Of(new ImageSet(blurred, 2, 1, n, n, new Provenance("test", [])));
        double ratio = RadialPowerSpectrum.HighFrequencyRatio(soft, spectrum);
        Assert.InRange(ratio, 0, 0.2);
        Assert.Equal(1.0, RadialPowerSpectrum.HighFrequencyRatio(spectrum, spectrum), 12);
    }
}
