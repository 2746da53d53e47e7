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

/// <summary>
/// 2-D sinusoids with random amplitude and phase: x[y, c] = 0.5 + A·cos(2π(fx·c + fy·y)/n + φ), A ~ U(0, amp),
/// φ ~ U(0, 2π) — a 2-D manifold (a disk in a 2-D plane). Image i uses stream (seed, i).
/// </summary>
public static class Sinusoids
{
    /// <summary>Generates <paramref name="count"/> one-channel <paramref name="size"/>×<paramref name="size"/> sinusoids.</summary>
    public static ImageSet Generate(int count, int size, long seed, double fx = 3, double fy = 2, double amplitude = 0.5, Provenance? provenance = null)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        int d = size * size;
        var pixels = new float[(long)count * d];
        Parallel.For(0, count, i =>
        {
            var rng = new DeterministicRng(seed, i);
            double a = rng.NextUniform(0, amplitude), phi = rng.NextUniform(0, 2 * Math.PI);
            var img = pixels.AsSpan(i * d, d);
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    img[y * size + x] = (float)(0.5 + a * Math.Cos(2 * Math.PI * (fx * x + fy * y) / size + phi));
        });
        return new ImageSet(pixels, count, 1, size, size,
            provenance ?? new Provenance(FormattableString.Invariant($"sinusoids:size={size},n={count},seed={seed},fx={fx},fy={fy},amp={amplitude}"), [], seed));
    }
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
