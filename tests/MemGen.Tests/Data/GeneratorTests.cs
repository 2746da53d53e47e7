using System.Numerics;
using MemGen.Data;
using MemGen.Tensors;

namespace MemGen.Tests.Data;

public class GeneratorTests
{
    [Fact]
    public void CAlphaContourMatchesNaiveDftReference()
    {
        int n = 24;
        double alpha = 2.5;
        var c = CAlpha.Contour(new DeterministicRng(4, 1), n, alpha);
        var rng = new DeterministicRng(4, 1);
        var u = Enumerable.Range(0, n).Select(_ => rng.NextUniform(-1, 1)).ToArray();
        for (int t = 0; t < n; t++)
        {
            Complex acc = 0;
            for (int k = 0; k < n; k++)
            {
                Complex uk = 0;
                for (int s = 0; s < n; s++) uk += u[s] * Complex.Exp(new Complex(0, -2 * Math.PI * k * s / n));
                int m = k <= (n - 1) / 2 ? k : k - n;
                double filter = m == 0 ? 1 : Math.Pow(Math.Abs(m), -alpha);
                acc += uk * filter * Complex.Exp(new Complex(0, 2 * Math.PI * k * t / n));
            }
            Assert.Equal(acc.Real / n, c[t], 10);
        }
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(3.0)]
    public void CAlphaBackgroundPowerSpectrumFallsWithTheChosenExponent(double beta)
    {
        int n = 32, samples = 40;
        // Radially averaged power |FFT|² by integer frequency radius, averaged over backgrounds.
        var power = new double[n / 2];
        var counts = new int[n / 2];
        for (int s = 0; s < samples; s++)
        {
            var b = CAlpha.Background(new DeterministicRng(s, 7), n, beta);
            var z = NaiveDft2(b, n);
            for (int ky = 0; ky < n; ky++)
                for (int kx = 0; kx < n; kx++)
                {
                    double r = Math.Sqrt(Math.Pow(CAlpha.Frequency(kx, n), 2) + Math.Pow(CAlpha.Frequency(ky, n), 2));
                    int bin = (int)Math.Round(r);
                    if (bin < 1 || bin >= n / 2) continue;
                    power[bin] += z[ky * n + kx].Magnitude * z[ky * n + kx].Magnitude;
                    counts[bin]++;
                }
        }
        var xs = new List<double>();
        var ys = new List<double>();
        for (int k = 2; k < n / 2; k++) { xs.Add(Math.Log(k)); ys.Add(Math.Log(power[k] / counts[k])); }
        double mx = xs.Average(), my = ys.Average();
        double slope = xs.Zip(ys).Sum(p => (p.First - mx) * (p.Second - my)) / xs.Sum(x => (x - mx) * (x - mx));
        Assert.InRange(slope, -2 * beta - 0.25, -2 * beta + 0.25);
    }

    /// <summary>Separable naive 2-D DFT (rows, then columns), independent of MathNet.</summary>
    private static Complex[] NaiveDft2(double[] values, int n)
    {
        var rows = new Complex[n * n];
        for (int r = 0; r < n; r++)
            for (int k = 0; k < n; k++)
                for (int s = 0; s < n; s++)
                    rows[r * n + k] += values[r * n + s] * Complex.Exp(new Complex(0, -2 * Math.PI * k * s / n));
        var result = new Complex[n * n];
        for (int c = 0; c < n; c++)
            for (int k = 0; k < n; k++)
                for (int s = 0; s < n; s++)
                    result[k * n + c] += rows[s * n + c] * Complex.Exp(new Complex(0, -2 * Math.PI * k * s / n));
        return result;
    }

    [Fact]
    public void CAlphaImagesAreInUnitRangeDeterministicAndPrefixStable()
    {
        var a = CAlpha.Generate(20, 16, 3, 3, seed: 5);
        var b = CAlpha.Generate(10, 16, 3, 3, seed: 5);
        Assert.Equal(a.Pixels.AsSpan(0, b.Pixels.Length).ToArray(), b.Pixels);
        Assert.InRange(a.Pixels.Min(), 0f, 1f);
        Assert.InRange(a.Pixels.Max(), 0f, 1f);
        Assert.NotEqual(a.Image(0).ToArray(), a.Image(1).ToArray());
        // Every image has a contour or is a single background: its values come from two regions.
        Assert.All(Enumerable.Range(0, 20), i => Assert.True(a.Image(i).ToArray().Distinct().Count() > 16));
    }

    [Fact]
    public void DiskParametersLieInTheirRangesAndHardEdgesAreExact()
    {
        int size = 24;
        var disks = Disks.Generate(500, size, seed: 3);
        foreach (var p in disks.Parameters)
        {
            Assert.InRange(p.Radius, 3, (size - 3) / 2.0);
            Assert.InRange(p.CenterX, p.Radius, size - p.Radius);
            Assert.InRange(p.CenterY, p.Radius, size - p.Radius);
            Assert.InRange(p.Foreground, 0, 1);
            Assert.InRange(p.Background, 0, 1);
        }
        Assert.InRange(disks.Parameters.Average(p => p.Radius), (3 + 10.5) / 2 - 0.4, (3 + 10.5) / 2 + 0.4);
        for (int i = 0; i < 20; i++)
        {
            var p = disks.Parameters[i];
            var img = disks.Images.Image(i);
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                {
                    bool inside = Math.Pow(x + 0.5 - p.CenterX, 2) + Math.Pow(y + 0.5 - p.CenterY, 2) <= p.Radius * p.Radius;
                    Assert.Equal((float)(inside ? p.Foreground : p.Background), img[y * size + x], 6);
                }
        }
    }

    [Fact]
    public void DiskTangentsMatchClosedFormMoments()
    {
        int size = 32;
        var p = new DiskParameters(15.3, 16.8, 7.2, 0.9, 0.2);
        var t = Disks.Tangents(p, size);
        int d = size * size;
        double contrast = p.Foreground - p.Background;
        double Sum(int k, Func<int, int, double> weight)
        {
            double s = 0;
            for (int y = 0; y < size; y++) for (int x = 0; x < size; x++) s += t[k * d + y * size + x] * weight(y, x);
            return s;
        }
        // d(area)/dr = 2πr; translation keeps the area and moves the first moment by the area.
        Assert.Equal(contrast * 2 * Math.PI * p.Radius, Sum(2, (_, _) => 1), 1);
        Assert.Equal(0, Sum(0, (_, _) => 1), 1);
        Assert.Equal(contrast * Math.PI * p.Radius * p.Radius, Sum(0, (_, x) => x + 0.5 - p.CenterX), 0);
        Assert.Equal(contrast * Math.PI * p.Radius * p.Radius, Sum(1, (y, _) => y + 0.5 - p.CenterY), 0);
        // Intensity tangents are the inside fraction and its complement, which add to 1 everywhere.
        for (int i = 0; i < d; i++) Assert.Equal(1f, t[3 * d + i] + t[4 * d + i], 5);
        Assert.Equal(Math.PI * p.Radius * p.Radius, Sum(3, (_, _) => 1), 0);
    }

    [Fact]
    public void GaussianSampleMeanAndCovarianceMatch()
    {
        int n = 4000, d = 16;
        var set = DatasetLoader.Load($"gaussian:d={d},mean=10,std=2,n={n},seed=9");
        Assert.Equal((1, 4, 4), (set.Channels, set.Height, set.Width));
        var mean = new double[d];
        for (int i = 0; i < n; i++) for (int k = 0; k < d; k++) mean[k] += set.Pixels[i * d + k] / (double)n;
        Assert.All(mean, m => Assert.InRange(m, 10 - 4 * 2 / Math.Sqrt(n), 10 + 4 * 2 / Math.Sqrt(n)));
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++)
            {
                double cov = 0;
                for (int i = 0; i < n; i++) cov += (set.Pixels[i * d + a] - mean[a]) * (set.Pixels[i * d + b] - mean[b]);
                cov /= n - 1;
                Assert.InRange(cov, (a == b ? 4 : 0) - 5 * 4 * Math.Sqrt(2.0 / n), (a == b ? 4 : 0) + 5 * 4 * Math.Sqrt(2.0 / n));
            }
        Assert.Equal((1, 1, 10), (DatasetLoader.Load("gaussian:d=10,mean=0,std=1,n=2,seed=1").Channels, 1, 10));
    }

    [Fact]
    public void SinusoidsLieInTheirThreeDimensionalSpan()
    {
        int size = 16;
        var set = DatasetLoader.Load($"sinusoids:size={size},n=30,seed=2,fx=2,fy=1,amp=0.4");
        Assert.InRange(set.Pixels.Min(), 0.1f - 1e-6f, 0.9f + 1e-6f);
        for (int i = 0; i < 30; i++)
        {
            var img = set.Image(i);
            // Project out 1, cos θ and sin θ (orthogonal on this grid): nothing may remain.
            double c0 = 0, cc = 0, cs = 0;
            for (int y = 0; y < size; y++) for (int x = 0; x < size; x++)
            {
                double th = 2 * Math.PI * (2 * x + y) / size;
                c0 += img[y * size + x];
                cc += img[y * size + x] * Math.Cos(th);
                cs += img[y * size + x] * Math.Sin(th);
            }
            int d = size * size;
            for (int y = 0; y < size; y++) for (int x = 0; x < size; x++)
            {
                double th = 2 * Math.PI * (2 * x + y) / size;
                double fit = c0 / d + 2 * cc / d * Math.Cos(th) + 2 * cs / d * Math.Sin(th);
                Assert.Equal(fit, img[y * size + x], 4);
            }
            Assert.InRange(Math.Sqrt(cc * cc + cs * cs) * 2 / d, 0, 0.4 + 1e-5);
        }
    }

    [Fact]
    public void RescaledCopiesAreMultiplesOfOneImage()
    {
        var source = DatasetLoader.Load("disks:size=16,n=3,seed=1");
        var set = DatasetLoader.Load("rescaled:n=25,seed=4,index=2,min=0.2,max=0.8,from=disks:size=16,n=3,seed=1");
        var x0 = source.Image(2).ToArray();
        int argmax = Array.IndexOf(x0, x0.Max());
        for (int i = 0; i < 25; i++)
        {
            var img = set.Image(i);
            float a = img[argmax] / x0[argmax];
            Assert.InRange(a, 0.2f, 0.8f);
            for (int k = 0; k < x0.Length; k++) Assert.Equal(a * x0[k], img[k], 5);
        }
    }
}
