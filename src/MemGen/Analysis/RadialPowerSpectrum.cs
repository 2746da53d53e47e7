using MemGen.Images;

namespace MemGen.Analysis;

/// <summary>
/// The radially averaged power spectrum of a set of images (docs/science.md §5.9): per image and channel, the mean is
/// removed, the 2-D DFT taken, and |F(u, v)|²/(H·W) averaged over the frequencies whose radius ρ = √((u/H)² + (v/W)²)
/// (cycles per pixel, u and v the signed frequencies) rounds to k/S, S = min(H, W), for k = 0 … S/2; then averaged over
/// images and channels. Blurry images lack power at high k: <see cref="HighFrequencyRatio"/> compares the top half of the
/// frequencies of two spectra (1 = as much fine detail as the reference).
/// </summary>
public static class RadialPowerSpectrum
{
    /// <summary>The spectrum (S/2 + 1 values, index = radius bin) averaged over the first <paramref name="maxImages"/> images.</summary>
    public static double[] Of(ImageSet images, int maxImages = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(images);
        int n = Math.Min(images.Count, maxImages);
        if (n < 1) throw new ArgumentException("The spectrum of an empty set is undefined.", nameof(images));
        int h = images.Height, w = images.Width, plane = h * w;
        int bins = Math.Min(h, w) / 2 + 1;
        var bin = BinOf(h, w);
        var counts = new int[bins];
        foreach (var b in bin)
            if (b >= 0) counts[b]++;
        var total = new double[bins];
        var power = new double[plane];
        var dft = new Dft2(h, w);
        for (int i = 0; i < n; i++)
        {
            var image = images.Image(i);
            for (int c = 0; c < images.Channels; c++)
            {
                dft.Power(image.Slice(c * plane, plane), power);
                for (int j = 0; j < plane; j++)
                    if (bin[j] >= 0) total[bin[j]] += power[j];
            }
        }
        for (int k = 0; k < bins; k++) total[k] /= (double)counts[k] * n * images.Channels;
        return total;
    }

    /// <summary>
    /// Σ of <paramref name="spectrum"/> over the upper half of the radii (k ≥ ⌈K/2⌉, K the last bin) divided by the same sum of
    /// <paramref name="reference"/>: below 1 when the images have less fine detail than the reference (blur), NaN when the
    /// reference has no power there.
    /// </summary>
    public static double HighFrequencyRatio(IReadOnlyList<double> spectrum, IReadOnlyList<double> reference)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        ArgumentNullException.ThrowIfNull(reference);
        if (spectrum.Count != reference.Count) throw new ArgumentException("Spectra of different sizes.");
        int from = (spectrum.Count - 1 + 1) / 2;
        double a = 0, b = 0;
        for (int k = Math.Max(1, from); k < spectrum.Count; k++)
        {
            a += spectrum[k];
            b += reference[k];
        }
        return b > 0 ? a / b : double.NaN;
    }

    /// <summary>|F(u, v)|²/(H·W) of one mean-removed plane, row-major (u = row frequency); exposed for tests.</summary>
    internal static double[] PowerOf(ReadOnlySpan<float> plane, int height, int width)
    {
        var power = new double[height * width];
        new Dft2(height, width).Power(plane, power);
        return power;
    }

    /// <summary>The radius bin of every (u, v), −1 beyond the last bin (the corners past the Nyquist circle).</summary>
    internal static int[] BinOf(int height, int width)
    {
        int s = Math.Min(height, width), last = s / 2;
        var bin = new int[height * width];
        for (int u = 0; u < height; u++)
        {
            double fu = (u <= height / 2 ? u : u - height) / (double)height;
            for (int v = 0; v < width; v++)
            {
                double fv = (v <= width / 2 ? v : v - width) / (double)width;
                int k = (int)Math.Round(Math.Sqrt(fu * fu + fv * fv) * s);
                bin[u * width + v] = k <= last ? k : -1;
            }
        }
        return bin;
    }

    /// <summary>A separable 2-D DFT with precomputed twiddles (O(HW(H+W)), enough for the image sizes studied here).</summary>
    private sealed class Dft2
    {
        private readonly int _h, _w;
        private readonly double[] _cosH, _sinH, _cosW, _sinW;
        private readonly double[] _re, _im;

        public Dft2(int height, int width)
        {
            (_h, _w) = (height, width);
            (_cosH, _sinH) = Twiddles(height);
            (_cosW, _sinW) = Twiddles(width);
            _re = new double[height * width];
            _im = new double[height * width];
        }

        public void Power(ReadOnlySpan<float> plane, double[] power)
        {
            double mean = 0;
            foreach (var v in plane) mean += v;
            mean /= plane.Length;
            // Rows: G(y, v) = Σ_x (x(y, x) − mean)·e^(−2πi·v·x/W).
            for (int y = 0; y < _h; y++)
                for (int v = 0; v < _w; v++)
                {
                    double re = 0, im = 0;
                    for (int x = 0; x < _w; x++)
                    {
                        double value = plane[y * _w + x] - mean;
                        int t = v * x % _w;
                        re += value * _cosW[t];
                        im -= value * _sinW[t];
                    }
                    _re[y * _w + v] = re;
                    _im[y * _w + v] = im;
                }
            // Columns: F(u, v) = Σ_y G(y, v)·e^(−2πi·u·y/H).
            double norm = 1.0 / (_h * _w);
            for (int u = 0; u < _h; u++)
                for (int v = 0; v < _w; v++)
                {
                    double re = 0, im = 0;
                    for (int y = 0; y < _h; y++)
                    {
                        int t = u * y % _h;
                        double c = _cosH[t], s = _sinH[t], gr = _re[y * _w + v], gi = _im[y * _w + v];
                        re += gr * c + gi * s;
                        im += gi * c - gr * s;
                    }
                    power[u * _w + v] = (re * re + im * im) * norm;
                }
        }

        private static (double[] Cos, double[] Sin) Twiddles(int n)
        {
            var cos = new double[n];
            var sin = new double[n];
            for (int t = 0; t < n; t++)
            {
                cos[t] = Math.Cos(2 * Math.PI * t / n);
                sin[t] = Math.Sin(2 * Math.PI * t / n);
            }
            return (cos, sin);
        }
    }
}
