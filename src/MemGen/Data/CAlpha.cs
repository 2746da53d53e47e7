using System.Numerics;
using MathNet.Numerics.IntegralTransforms;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Data;

/// <summary>
/// Cα images (docs/science.md §6, [K24] App. E): two power-law random backgrounds separated by a Cα contour.
/// Image i is drawn from its own random stream (seed, i), so the first k images of any n ≥ k are the same.
/// </summary>
public static class CAlpha
{
    /// <summary>Generates <paramref name="count"/> one-channel <paramref name="size"/>×<paramref name="size"/> images.</summary>
    public static ImageSet Generate(int count, int size, double alpha, double beta, long seed, Provenance? provenance = null)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (size < 2) throw new ArgumentOutOfRangeException(nameof(size));
        int d = size * size;
        var pixels = new float[(long)count * d];
        Parallel.For(0, count, i => Render(new DeterministicRng(seed, i), size, alpha, beta, pixels.AsSpan(i * d, d)));
        return new ImageSet(pixels, count, 1, size, size,
            provenance ?? new Provenance(FormattableString.Invariant($"calpha:alpha={alpha},beta={beta},size={size},n={count},seed={seed}"), [], seed));
    }

    /// <summary>
    /// One image: contour rows r_j = clamp(round(c_j·n) + n/2, 0, n); mask = 0 above (row &lt; r_j), 1 below,
    /// blurred by a 2×2 box (edges replicated); x = B1·mask + B2·(1 − mask), one background min-max rescaled to
    /// [U1, 1] and the other to [0, U2], a coin flip deciding which is B1.
    /// </summary>
    public static void Render(DeterministicRng rng, int n, double alpha, double beta, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var contour = Contour(rng, n, alpha);
        var b1 = Background(rng, n, beta);
        var b2 = Background(rng, n, beta);
        double u1 = rng.NextDouble(), u2 = rng.NextDouble();
        if (rng.NextDouble() < 0.5) (b1, b2) = (b2, b1);
        Rescale(b1, u1, 1);
        Rescale(b2, 0, u2);
        var mask = new double[n * n];
        for (int x = 0; x < n; x++)
        {
            int row = (int)Math.Clamp(Math.Round(contour[x] * n, MidpointRounding.ToEven) + n / 2, 0, n);
            for (int y = row; y < n; y++) mask[y * n + x] = 1;
        }
        for (int y = 0; y < n; y++)
            for (int x = 0; x < n; x++)
            {
                int y1 = Math.Min(y + 1, n - 1), x1 = Math.Min(x + 1, n - 1);
                double m = 0.25 * (mask[y * n + x] + mask[y * n + x1] + mask[y1 * n + x] + mask[y1 * n + x1]);
                destination[y * n + x] = (float)(b1[y * n + x] * m + b2[y * n + x] * (1 - m));
            }
    }

    /// <summary>The contour c = real(ifft(fft(u)·|m|^(−α))), u ~ U[−1,1]^n, m the integer frequencies, DC filter 1.</summary>
    public static double[] Contour(DeterministicRng rng, int n, double alpha)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var u = new Complex[n];
        for (int i = 0; i < n; i++) u[i] = rng.NextUniform(-1, 1);
        Fourier.Forward(u, FourierOptions.Matlab);
        for (int k = 1; k < n; k++) u[k] *= Math.Pow(Math.Abs(Frequency(k, n)), -alpha);
        Fourier.Inverse(u, FourierOptions.Matlab);
        return u.Select(z => z.Real).ToArray();
    }

    /// <summary>A background real(ifft2(fft2(U)·(n·|k|)^(−β))), U ~ U[−1,1]^(n×n), DC filter 1 (row-major n×n).</summary>
    public static double[] Background(DeterministicRng rng, int n, double beta)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var u = new Complex[n * n];
        for (int i = 0; i < u.Length; i++) u[i] = rng.NextUniform(-1, 1);
        Transform2D(u, n, inverse: false);
        for (int ky = 0; ky < n; ky++)
            for (int kx = 0; kx < n; kx++)
            {
                if (kx == 0 && ky == 0) continue;
                double fy = Frequency(ky, n), fx = Frequency(kx, n);
                u[ky * n + kx] *= Math.Pow(Math.Sqrt(fx * fx + fy * fy), -beta);
            }
        Transform2D(u, n, inverse: true);
        return u.Select(z => z.Real).ToArray();
    }

    /// <summary>The integer frequency of FFT bin <paramref name="k"/> of <paramref name="n"/> (numpy's fftfreq·n).</summary>
    public static double Frequency(int k, int n) => k <= (n - 1) / 2 ? k : k - n;

    /// <summary>
    /// In-place 2-D DFT of an n×n row-major array (numpy convention: forward unscaled, inverse scaled by 1/n²),
    /// as 1-D MathNet transforms of the rows then the columns (MathNet's managed provider has no multi-dim FFT).
    /// </summary>
    internal static void Transform2D(Complex[] data, int n, bool inverse)
    {
        var line = new Complex[n];
        for (int pass = 0; pass < 2; pass++)
            for (int r = 0; r < n; r++)
            {
                for (int k = 0; k < n; k++) line[k] = pass == 0 ? data[r * n + k] : data[k * n + r];
                if (inverse) Fourier.Inverse(line, FourierOptions.Matlab);
                else Fourier.Forward(line, FourierOptions.Matlab);
                for (int k = 0; k < n; k++)
                {
                    if (pass == 0) data[r * n + k] = line[k];
                    else data[k * n + r] = line[k];
                }
            }
    }

    private static void Rescale(double[] values, double lo, double hi)
    {
        double min = values.Min(), max = values.Max();
        double range = max - min;
        for (int i = 0; i < values.Length; i++)
            values[i] = range > 0 ? lo + (hi - lo) * (values[i] - min) / range : lo;
    }
}
