using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Data;

/// <summary>The 5 generating parameters of a disk image (pixel units; the image spans [0, size] on both axes).</summary>
/// <param name="CenterX">Centre column coordinate.</param>
/// <param name="CenterY">Centre row coordinate.</param>
/// <param name="Radius">Radius.</param>
/// <param name="Foreground">Intensity inside the disk.</param>
/// <param name="Background">Intensity outside the disk.</param>
public readonly record struct DiskParameters(double CenterX, double CenterY, double Radius, double Foreground, double Background)
{
    /// <summary>Number of parameters (the manifold dimension).</summary>
    public const int Count = 5;

    /// <summary>Parameter <paramref name="k"/> in the order CenterX, CenterY, Radius, Foreground, Background.</summary>
    public double this[int k] => k switch
    {
        0 => CenterX,
        1 => CenterY,
        2 => Radius,
        3 => Foreground,
        4 => Background,
        _ => throw new ArgumentOutOfRangeException(nameof(k)),
    };

    /// <summary>These parameters with parameter <paramref name="k"/> increased by <paramref name="delta"/>.</summary>
    public DiskParameters Shifted(int k, double delta) => k switch
    {
        0 => this with { CenterX = CenterX + delta },
        1 => this with { CenterY = CenterY + delta },
        2 => this with { Radius = Radius + delta },
        3 => this with { Foreground = Foreground + delta },
        4 => this with { Background = Background + delta },
        _ => throw new ArgumentOutOfRangeException(nameof(k)),
    };
}

/// <summary>Disk images with the parameters that generated each one.</summary>
/// <param name="Images">The images (one channel).</param>
/// <param name="Parameters">Parameters of image i.</param>
public sealed record DiskSet(ImageSet Images, DiskParameters[] Parameters);

/// <summary>
/// Disks (docs/science.md §6): radius ~ U(3, (n−3)/2), centre ~ U(r, n−r) per axis, foreground and background ~ U(0,1);
/// hard edge, anti-aliased by F×F supersampling, or rendered with the exact covered area of each pixel
/// (<see cref="ExactArea"/>). A 5-D manifold — a smooth one only with exact areas: a hard (or supersampled) edge is
/// piecewise constant in the centre and radius, so at noise far below the edge contrast only foreground and background
/// can move. Pixel (row y, column x) is the square [x, x+1]×[y, y+1], centre (y + ½, x + ½). Image i is drawn from its own
/// random stream (seed, i).
/// </summary>
public static class Disks
{
    /// <summary>The supersampling value (spec <c>aa=exact</c>) that renders each pixel by the exact area the disk covers (<see cref="DiskCoverage"/>).</summary>
    public const int ExactArea = 0;

    /// <summary>
    /// Generates <paramref name="count"/> disks of <paramref name="size"/>×<paramref name="size"/> (size ≥ 9), hard edge
    /// (<paramref name="supersample"/> 1), F×F supersampled, or <see cref="ExactArea"/>.
    /// </summary>
    public static DiskSet Generate(int count, int size, long seed, int supersample = 1, Provenance? provenance = null)
    {
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        if (size < 9) throw new ArgumentOutOfRangeException(nameof(size), "Disks need size ≥ 9 (radius range is [3, (n−3)/2]).");
        if (supersample < 0) throw new ArgumentOutOfRangeException(nameof(supersample));
        int d = size * size;
        var pixels = new float[(long)count * d];
        var parameters = new DiskParameters[count];
        Parallel.For(0, count, i =>
        {
            var rng = new DeterministicRng(seed, i);
            double r = rng.NextUniform(3, (size - 3) / 2.0);
            double cx = rng.NextUniform(r, size - r), cy = rng.NextUniform(r, size - r);
            double fg = rng.NextDouble(), bg = rng.NextDouble();
            parameters[i] = new DiskParameters(cx, cy, r, fg, bg);
            Render(parameters[i], size, supersample, pixels.AsSpan(i * d, d));
        });
        var images = new ImageSet(pixels, count, 1, size, size,
            provenance ?? new Provenance($"disks:size={size},n={count},seed={seed}" + (supersample == ExactArea ? ",aa=exact" : supersample > 1 ? $",aa={supersample}" : ""), [], seed));
        return new DiskSet(images, parameters);
    }

    /// <summary>
    /// Renders one disk: each pixel is bg + (fg − bg)·(covered fraction), the fraction being that of F×F sub-pixel points
    /// inside (distance ≤ r), or the exact covered area for <see cref="ExactArea"/>.
    /// </summary>
    public static void Render(DiskParameters p, int size, int supersample, Span<float> destination)
    {
        if (destination.Length != size * size) throw new ArgumentException("Destination must hold size×size pixels.");
        if (supersample < 0) throw new ArgumentOutOfRangeException(nameof(supersample));
        if (supersample == ExactArea)
        {
            for (int y = 0; y < size; y++)
                for (int x = 0; x < size; x++)
                    destination[y * size + x] = (float)(p.Background + (p.Foreground - p.Background) * DiskCoverage.PixelFraction(p, x, y));
            return;
        }
        int f = supersample;
        double r2 = p.Radius * p.Radius;
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int inside = 0;
                for (int sy = 0; sy < f; sy++)
                {
                    double dy = y + (sy + 0.5) / f - p.CenterY;
                    for (int sx = 0; sx < f; sx++)
                    {
                        double dx = x + (sx + 0.5) / f - p.CenterX;
                        if (dx * dx + dy * dy <= r2) inside++;
                    }
                }
                double frac = (double)inside / (f * f);
                destination[y * size + x] = (float)(p.Background + (p.Foreground - p.Background) * frac);
            }
    }

    /// <summary>
    /// The 5 tangent vectors of the manifold at <paramref name="p"/> (row k = ∂image/∂parameter k, order as in
    /// <see cref="DiskParameters"/>), by central finite differences of step <paramref name="step"/> on an image
    /// supersampled <paramref name="supersample"/>×<paramref name="supersample"/> (so geometric derivatives are smooth).
    /// These are the tangents of a smoothed edge: against the exact tangents of exact-area disks (<see cref="ExactTangents"/>)
    /// the default half-pixel step tilts the span by up to 20° (smallest principal-angle cosine 0.93–0.95, mean 0.97–0.98,
    /// on 20×20 and 32×32 disks); a step of 0.1 pixel gives 0.98–0.999. Returns 5·size² floats.
    /// </summary>
    public static float[] Tangents(DiskParameters p, int size, double step = 0.5, int supersample = 16)
    {
        if (!(step > 0)) throw new ArgumentOutOfRangeException(nameof(step));
        int d = size * size;
        var tangents = new float[DiskParameters.Count * d];
        var plus = new float[d];
        var minus = new float[d];
        for (int k = 0; k < DiskParameters.Count; k++)
        {
            Render(p.Shifted(k, step), size, supersample, plus);
            Render(p.Shifted(k, -step), size, supersample, minus);
            for (int i = 0; i < d; i++) tangents[k * d + i] = (float)((plus[i] - minus[i]) / (2 * step));
        }
        return tangents;
    }

    /// <summary>
    /// The exact tangents of the exact-area disk manifold (<see cref="ExactArea"/>) at <paramref name="p"/>, in closed form
    /// (row k = ∂image/∂parameter k): per pixel, with contrast c = fg − bg, ∂/∂cx = c·(chord on its left side − chord on
    /// its right side), ∂/∂cy likewise with its upper and lower sides (divergence theorem), ∂/∂r = c·(length of the circle
    /// inside the pixel), ∂/∂fg = covered fraction, ∂/∂bg = 1 − covered fraction. Returns 5·size² floats.
    /// </summary>
    public static float[] ExactTangents(DiskParameters p, int size)
    {
        int d = size * size;
        double c = p.Foreground - p.Background, r = p.Radius;
        var tangents = new float[DiskParameters.Count * d];
        for (int y = 0; y < size; y++)
            for (int x = 0; x < size; x++)
            {
                int i = y * size + x;
                double fraction = DiskCoverage.PixelFraction(p, x, y);
                tangents[i] = (float)(c * (DiskCoverage.Chord(x, p.CenterX, p.CenterY, r, y, y + 1) - DiskCoverage.Chord(x + 1, p.CenterX, p.CenterY, r, y, y + 1)));
                tangents[d + i] = (float)(c * (DiskCoverage.Chord(y, p.CenterY, p.CenterX, r, x, x + 1) - DiskCoverage.Chord(y + 1, p.CenterY, p.CenterX, r, x, x + 1)));
                tangents[2 * d + i] = (float)(c * DiskCoverage.ArcLength(p.CenterX, p.CenterY, r, x, x + 1, y, y + 1));
                tangents[3 * d + i] = (float)fraction;
                tangents[4 * d + i] = (float)(1 - fraction);
            }
        return tangents;
    }
}
