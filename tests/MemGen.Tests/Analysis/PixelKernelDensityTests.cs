using MemGen.Analysis;
using MemGen.Data;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Tests.Analysis;

public sealed class PixelKernelDensityTests
{
    private static double[] Sorted(int n, long seed, double mean, double std)
    {
        var rng = new DeterministicRng(seed, 3);
        var v = new double[n];
        for (int i = 0; i < n; i++) v[i] = mean + std * rng.NextNormal();
        Array.Sort(v);
        return v;
    }

    private static double Kde(double x, double[] points, double eps)
    {
        double s = 0;
        foreach (var p in points) s += Math.Exp(-0.5 * (x - p) * (x - p) / (eps * eps));
        return s / (points.Length * eps * Math.Sqrt(2 * Math.PI));
    }

    /// <summary>Composite Simpson rule of (p_A − p_B)² on a grid fine enough for the narrowest kernel.</summary>
    private static double NumericalIsd(double[] a, double epsA, double[] b, double epsB)
    {
        double lo = Math.Min(a[0], b[0]) - 15 * Math.Max(epsA, epsB), hi = Math.Max(a[^1], b[^1]) + 15 * Math.Max(epsA, epsB);
        int steps = 2 * (int)Math.Ceiling((hi - lo) / (0.02 * Math.Min(epsA, epsB)) / 2);
        double h = (hi - lo) / steps, sum = 0;
        for (int i = 0; i <= steps; i++)
        {
            double x = lo + i * h;
            double f = Kde(x, a, epsA) - Kde(x, b, epsB);
            sum += f * f * (i == 0 || i == steps ? 1 : i % 2 == 1 ? 4 : 2);
        }
        return sum * h / 3;
    }

    [Theory]
    [InlineData(5, 7, 0.3, 0.2)]
    [InlineData(12, 4, 0.05, 0.5)]
    [InlineData(30, 30, 0.02, 0.03)]
    public void ClosedFormMatchesNumericalIntegrationIn1D(int na, int nb, double epsA, double epsB)
    {
        var a = Sorted(na, 1, 0.5, 0.2);
        var b = Sorted(nb, 2, 0.6, 0.3);
        double closed = PixelKernelDensity.IntegratedSquaredDifference(a, epsA, b, epsB);
        double numeric = NumericalIsd(a, epsA, b, epsB);
        Assert.True(closed > 0);
        Assert.Equal(numeric, closed, 1e-8 * Math.Max(1, numeric));
        // ∫p² alone, also against the quadrature (B = nothing is not allowed, so compare ∫p_A² via A against itself shifted far away).
        var far = b.Select(x => x + 1000).ToArray();
        double selfPlusOther = PixelKernelDensity.IntegratedSquaredDifference(a, epsA, far, epsB);
        Assert.Equal(PixelKernelDensity.Overlap(a, epsA, a, epsA) + PixelKernelDensity.Overlap(far, epsB, far, epsB), selfPlusOther, 1e-12);
    }

    [Fact]
    public void WindowedOverlapEqualsTheFullDoubleSum()
    {
        // Tiny bandwidths (ε = ŝ/N) make most pairs negligible: the sliding window must still keep every pair that counts.
        var a = Sorted(400, 5, 0.5, 0.1);
        var b = Sorted(300, 6, 0.5, 0.1);
        b[10] = a[17]; // an exact coincidence, the largest possible term
        Array.Sort(b);
        double ea = PixelKernelDensity.Bandwidth(a), eb = PixelKernelDensity.Bandwidth(b);
        double v = ea * ea + eb * eb, naive = 0;
        foreach (var x in a)
            foreach (var y in b)
                naive += Math.Exp(-0.5 * (x - y) * (x - y) / v) / Math.Sqrt(2 * Math.PI * v);
        naive /= a.Length * (double)b.Length;
        Assert.Equal(naive, PixelKernelDensity.Overlap(a, ea, b, eb), 1e-12 * naive);
    }

    [Fact]
    public void BandwidthIsSampleStdOverN()
    {
        double[] v = [0.1, 0.4, 0.2, 0.9, 0.5];
        double mean = v.Average();
        double sd = Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / 4);
        Assert.Equal(sd / 5, PixelKernelDensity.Bandwidth(v), 1e-15);
        Assert.Throws<ArgumentException>(() => PixelKernelDensity.Bandwidth([0.3]));
    }

    [Fact]
    public void CompareSeesACopiedTrainingSetAsMemorization()
    {
        var training = GaussianImages.Generate(40, new ImageShape(1, 2, 3), 0.5, 0.1, seed: 1);
        var original = GaussianImages.Generate(500, new ImageShape(1, 2, 3), 0.5, 0.1, seed: 2);
        var copy = new ImageSet((float[])training.Pixels.Clone(), 40, 1, 2, 3, new Provenance("copy", []));
        var fresh = GaussianImages.Generate(40, new ImageShape(1, 2, 3), 0.5, 0.1, seed: 3);

        var memorized = PixelKernelDensity.Compare(copy, training, original);
        Assert.All(memorized.TrainDistance, e => Assert.True(Math.Abs(e) < 1e-9));
        Assert.True(memorized.Delta < 0);
        Assert.Equal(0, memorized.PositivePixelFraction);

        // A fresh draw from the law is not closer to the training set than the training set itself: Δ moves up.
        var generalized = PixelKernelDensity.Compare(fresh, training, original);
        Assert.True(generalized.Delta > memorized.Delta + 0.5 * memorized.MeanOriginalDistance, $"Δ = {generalized.Delta} vs {memorized.Delta}");

        // Per-pixel values equal the 1-D function applied to that pixel's columns.
        var g = Enumerable.Range(0, 40).Select(k => (double)fresh.Pixels[k * 6 + 4]).Order().ToArray();
        var t = Enumerable.Range(0, 40).Select(k => (double)training.Pixels[k * 6 + 4]).Order().ToArray();
        double expected = PixelKernelDensity.IntegratedSquaredDifference(g, PixelKernelDensity.Bandwidth(g), t, PixelKernelDensity.Bandwidth(t));
        Assert.Equal(expected, generalized.TrainDistance[4], 1e-9 * expected);
    }
}
