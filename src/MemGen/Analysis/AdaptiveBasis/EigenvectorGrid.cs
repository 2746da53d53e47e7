using MemGen.Images;

namespace MemGen.Analysis.AdaptiveBasis;

/// <summary>
/// A PNG grid of the adaptive basis at one point: optional leading images (clean, noisy, denoised; shown on [0,1]) and
/// the given eigenvectors, each scaled to its own [min, max] (eigenvectors have either sign and unit norm).
/// </summary>
public static class EigenvectorGrid
{
    /// <summary>
    /// Writes <paramref name="count"/> eigenvectors (rows of <paramref name="eigenvectors"/>, each <paramref name="shape"/>.Size
    /// values) after <paramref name="leading"/> to <paramref name="path"/>, <paramref name="columns"/> per row.
    /// </summary>
    public static void Write(string path, ImageShape shape, ReadOnlySpan<double> eigenvectors, int count, int columns,
        IReadOnlyList<ReadOnlyMemory<float>>? leading = null)
    {
        int d = shape.Size;
        if (count < 0 || (long)count * d > eigenvectors.Length) throw new ArgumentException($"{eigenvectors.Length} values do not hold {count} eigenvectors of {d} pixels.");
        var tiles = new List<ReadOnlyMemory<float>>(leading ?? []);
        for (int k = 0; k < count; k++) tiles.Add(Scaled(eigenvectors.Slice(k * d, d)));
        PngWriter.WriteGrid(path, tiles, shape, columns, zoom: shape.Height < 64 ? 2 : 1);
    }

    /// <summary><paramref name="vector"/> mapped affinely onto [0,1] (its minimum to 0, its maximum to 1; a constant vector to 0).</summary>
    public static float[] Scaled(ReadOnlySpan<double> vector)
    {
        double lo = double.PositiveInfinity, hi = double.NegativeInfinity;
        foreach (var v in vector) (lo, hi) = (Math.Min(lo, v), Math.Max(hi, v));
        double range = hi > lo ? hi - lo : 1;
        var scaled = new float[vector.Length];
        for (int i = 0; i < vector.Length; i++) scaled[i] = (float)((vector[i] - lo) / range);
        return scaled;
    }
}
