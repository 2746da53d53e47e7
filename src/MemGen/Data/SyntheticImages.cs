using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Data;

/// <summary>Isotropic Gaussian "images" x ~ N(m·1, s²I) in d dimensions (docs/science.md §6, §7). Image i uses stream (seed, i).</summary>
public static class GaussianImages
{
    /// <summary>Generates <paramref name="count"/> vectors of <paramref name="shape"/> with i.i.d. N(mean, std²) entries.</summary>
    public static ImageSet Generate(int count, ImageShape shape, double mean, double std, long seed, Provenance? provenance = null)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        int d = shape.Size;
        var pixels = new float[(long)count * d];
        Parallel.For(0, count, i => new DeterministicRng(seed, i).FillNormal(pixels.AsSpan(i * d, d), (float)mean, (float)std));
        return new ImageSet(pixels, count, shape.Channels, shape.Height, shape.Width,
            provenance ?? new Provenance(FormattableString.Invariant($"gaussian:d={d},mean={mean},std={std},n={count},seed={seed}"), [], seed));
    }

    /// <summary>The image shape for d pixels: 1×s×s when d = s², else 1×1×d.</summary>
    public static ImageShape ShapeFor(int d)
    {
        int s = (int)Math.Round(Math.Sqrt(d));
        return s * s == d ? new ImageShape(1, s, s) : new ImageShape(1, 1, d);
    }
}

/// <summary>The 2 generating parameters of a sinusoid image.</summary>
/// <param name="Amplitude">A ≥ 0.</param>
/// <param name="Phase">φ (radians).</param>
public readonly record struct SinusoidParameters(double Amplitude, double Phase)
{
    /// <summary>Number of parameters (the manifold dimension).</summary>
    public const int Count = 2;
}

/// <summary>
/// 2-D sinusoids with random amplitude and phase: x[y, c] = 0.5 + A·cos(2π(fx·c + fy·y)/n + φ), A ~ U(0, amp),
/// φ ~ U(0, 2π) — a 2-D manifold: 0.5 + u·cos θ + v·sin θ with (u, v) = A·(cos φ, −sin φ) in a disk of radius amp, a flat
/// disk in a 2-D plane (θ = 2π(fx·c + fy·y)/n). Image i uses stream (seed, i).
/// </summary>
public static class Sinusoids
{
    /// <summary>Generates <paramref name="count"/> one-channel <paramref name="size"/>×<paramref name="size"/> sinusoids.</summary>
    public static ImageSet Generate(int count, int size, long seed, double fx = 3, double fy = 2, double amplitude = 0.5, Provenance? provenance = null)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        int d = size * size;
        var pixels = new float[(long)count * d];
        Parallel.For(0, count, i => Render(Draw(seed, i, amplitude), size, fx, fy, pixels.AsSpan(i * d, d)));
        return new ImageSet(pixels, count, 1, size, size,
            provenance ?? new Provenance(FormattableString.Invariant($"sinusoids:size={size},n={count},seed={seed},fx={fx},fy={fy},amp={amplitude}"), [], seed));
    }

    /// <summary>The parameters of image <paramref name="index"/> of <see cref="Generate"/> with <paramref name="seed"/>.</summary>
    public static SinusoidParameters Draw(long seed, int index, double amplitude = 0.5)
    {
        var rng = new DeterministicRng(seed, index);
        double a = rng.NextUniform(0, amplitude), phi = rng.NextUniform(0, 2 * Math.PI);
        return new SinusoidParameters(a, phi);
    }

    /// <summary>Renders one sinusoid of parameters <paramref name="p"/>.</summary>
    public static void Render(SinusoidParameters p, int size, double fx, double fy, Span<float> destination)
    {
        if (destination.Length != size * size) throw new ArgumentException("Destination must hold size×size pixels.");
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
                destination[y * size + x] = (float)(0.5 + p.Amplitude * Math.Cos(Angle(x, y, size, fx, fy) + p.Phase));
    }

    /// <summary>
    /// The 2 tangent vectors at <paramref name="p"/> in closed form: ∂x/∂A = cos(θ + φ), ∂x/∂φ = −A·sin(θ + φ) (row k for
    /// parameter k of <see cref="SinusoidParameters"/>). At A = 0 (the disk's centre) the second one vanishes; the plane's
    /// basis <see cref="PlaneBasis"/> spans the tangent space there.
    /// </summary>
    public static double[] Tangents(SinusoidParameters p, int size, double fx = 3, double fy = 2)
    {
        int d = size * size;
        var tangents = new double[2 * d];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double angle = Angle(x, y, size, fx, fy) + p.Phase;
                tangents[y * size + x] = Math.Cos(angle);
                tangents[d + y * size + x] = -p.Amplitude * Math.Sin(angle);
            }
        return tangents;
    }

    /// <summary>The plane of the manifold: rows cos θ and sin θ (2·size² values); images are 0.5 + u·cos θ + v·sin θ.</summary>
    public static double[] PlaneBasis(int size, double fx = 3, double fy = 2)
    {
        int d = size * size;
        var basis = new double[2 * d];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                double angle = Angle(x, y, size, fx, fy);
                basis[y * size + x] = Math.Cos(angle);
                basis[d + y * size + x] = Math.Sin(angle);
            }
        return basis;
    }

    private static double Angle(int x, int y, int size, double fx, double fy) => 2 * Math.PI * (fx * x + fy * y) / size;
}

/// <summary>One image with random intensity rescalings x_i = a_i·x0, a_i ~ U(min, max): a 1-D ray (docs/science.md §4, §6). Image i uses stream (seed, i).</summary>
public static class RescaledImages
{
    /// <summary>Generates <paramref name="count"/> rescaled copies of <paramref name="image"/> (of <paramref name="shape"/>).</summary>
    public static ImageSet Generate(ReadOnlySpan<float> image, ImageShape shape, int count, long seed, double min = 0, double max = 1, Provenance? provenance = null)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (image.Length != shape.Size) throw new ArgumentException("Image size does not match its shape.");
        if (max < min) throw new ArgumentException("max must be at least min.");
        int d = shape.Size;
        var pixels = new float[(long)count * d];
        for (int i = 0; i < count; i++)
        {
            float a = (float)new DeterministicRng(seed, i).NextUniform(min, max);
            var dst = pixels.AsSpan(i * d, d);
            for (int k = 0; k < d; k++) dst[k] = a * image[k];
        }
        return new ImageSet(pixels, count, shape.Channels, shape.Height, shape.Width,
            provenance ?? new Provenance(FormattableString.Invariant($"rescaled:n={count},seed={seed},min={min},max={max}"), [], seed));
    }
}
