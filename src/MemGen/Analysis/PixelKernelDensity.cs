using MemGen.Data;
using MemGen.Images;

namespace MemGen.Analysis;

/// <summary>Per-pixel KDE distances of a generated set to a training set and to an original set (docs/science.md §7.10).</summary>
/// <param name="TrainDistance">E_TG per pixel: ∫(p_G − p_T)² of the pixel's 1-D kernel density estimates.</param>
/// <param name="OriginalDistance">E_OG per pixel: ∫(p_G − p_O)².</param>
public sealed record PixelKdeDistances(double[] TrainDistance, double[] OriginalDistance)
{
    /// <summary>E_TG averaged over pixels.</summary>
    public double MeanTrainDistance => TrainDistance.Average();

    /// <summary>E_OG averaged over pixels.</summary>
    public double MeanOriginalDistance => OriginalDistance.Average();

    /// <summary>Δ = mean E_TG − mean E_OG; positive means the generated set is closer to the original set (generalization).</summary>
    public double Delta => MeanTrainDistance - MeanOriginalDistance;

    /// <summary>Fraction of pixels whose own Δ_i = E_TG,i − E_OG,i is positive.</summary>
    public double PositivePixelFraction => TrainDistance.Zip(OriginalDistance).Count(p => p.First > p.Second) / (double)TrainDistance.Length;
}

/// <summary>
/// The per-pixel 1-D kernel density metric of the nonlinear variant, docs/science.md §7.10. For each pixel i and each set S
/// (N values x_k), p_S(x) = (1/N) Σ_k N(x; x_k, ε²) with ε = ŝ_i/N (ŝ_i the set's sample standard deviation of that
/// pixel, N − 1 in the denominator; floored at <see cref="MinimumBandwidth"/>). Integrated squared differences
/// ∫(p_A − p_B)² = ∫p_A² + ∫p_B² − 2∫p_A·p_B are exact Gaussian integrals,
/// ∫N(x; a, ε_A²)·N(x; b, ε_B²) dx = N(a − b; 0, ε_A² + ε_B²), summed over pairs closer than
/// <see cref="CutoffSigmas"/> kernel widths (sorted values, sliding window; the rest weigh &lt; e^(−72) each).
/// All sets must be on the same scale (MemGen images are in [0,1] units).
/// </summary>
public static class PixelKernelDensity
{
    /// <summary>Pairs further apart than this many combined kernel widths are skipped.</summary>
    public const double CutoffSigmas = 12.0;

    /// <summary>Smallest bandwidth used (for a pixel whose values are all equal).</summary>
    public const double MinimumBandwidth = 1e-9;

    /// <summary>ε = ŝ/N for <paramref name="values"/> (at least two values), floored at <see cref="MinimumBandwidth"/>.</summary>
    public static double Bandwidth(ReadOnlySpan<double> values)
    {
        int n = values.Length;
        if (n < 2) throw new ArgumentException($"A kernel density bandwidth needs at least two values, got {n}.", nameof(values));
        double mean = 0;
        foreach (var v in values) mean += v;
        mean /= n;
        double ss = 0;
        foreach (var v in values) ss += (v - mean) * (v - mean);
        return Math.Max(Math.Sqrt(ss / (n - 1)) / n, MinimumBandwidth);
    }

    /// <summary>
    /// ∫p_A·p_B dx for the Gaussian KDEs of <paramref name="a"/> (bandwidth <paramref name="epsA"/>) and <paramref name="b"/>
    /// (<paramref name="epsB"/>); both spans must be sorted ascending.
    /// </summary>
    public static double Overlap(ReadOnlySpan<double> a, double epsA, ReadOnlySpan<double> b, double epsB)
    {
        if (a.Length == 0 || b.Length == 0) throw new ArgumentException("Kernel density sets must not be empty.");
        if (!(epsA > 0) || !(epsB > 0)) throw new ArgumentException($"Bandwidths must be positive, got {epsA} and {epsB}.");
        double variance = epsA * epsA + epsB * epsB;
        double reach = CutoffSigmas * Math.Sqrt(variance);
        double scale = -0.5 / variance;
        double total = 0;
        int lo = 0;
        for (int j = 0; j < a.Length; j++)
        {
            double x = a[j];
            while (lo < b.Length && b[lo] < x - reach) lo++;
            for (int k = lo; k < b.Length && b[k] <= x + reach; k++)
            {
                double diff = x - b[k];
                total += Math.Exp(scale * diff * diff);
            }
        }
        return total / (Math.Sqrt(2 * Math.PI * variance) * a.Length * (double)b.Length);
    }

    /// <summary>∫(p_A − p_B)² dx for sorted <paramref name="a"/>, <paramref name="b"/> with the given bandwidths.</summary>
    public static double IntegratedSquaredDifference(ReadOnlySpan<double> a, double epsA, ReadOnlySpan<double> b, double epsB) =>
        Overlap(a, epsA, a, epsA) + Overlap(b, epsB, b, epsB) - 2 * Overlap(a, epsA, b, epsB);

    /// <summary>
    /// E_TG and E_OG for every pixel: the generated set <paramref name="generated"/> against the training set
    /// <paramref name="training"/> and the original set <paramref name="original"/> (each at least two images of the same
    /// size; bandwidths ε = ŝ_i/N per set and pixel). Pixels are processed in parallel.
    /// </summary>
    public static PixelKdeDistances Compare(ImageSet generated, ImageSet training, ImageSet original)
    {
        ArgumentNullException.ThrowIfNull(generated);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(original);
        int d = generated.ImageSize;
        foreach (var (set, name) in new[] { (training, "training"), (original, "original") })
            if (set.ImageSize != d) throw new ArgumentException($"The {name} set has {set.ImageSize} pixels per image, the generated set {d}.");
        var train = new double[d];
        var orig = new double[d];
        Parallel.For(0, d, i =>
        {
            var g = Column(generated, i);
            var t = Column(training, i);
            var o = Column(original, i);
            double eg = Bandwidth(g), et = Bandwidth(t), eo = Bandwidth(o);
            double gg = Overlap(g, eg, g, eg);
            train[i] = gg + Overlap(t, et, t, et) - 2 * Overlap(g, eg, t, et);
            orig[i] = gg + Overlap(o, eo, o, eo) - 2 * Overlap(g, eg, o, eo);
        });
        return new PixelKdeDistances(train, orig);
    }

    /// <summary>The values of pixel <paramref name="pixel"/> over all images of <paramref name="set"/>, sorted ascending.</summary>
    private static double[] Column(ImageSet set, int pixel)
    {
        var values = new double[set.Count];
        for (int k = 0; k < set.Count; k++) values[k] = set.Pixels[(long)k * set.ImageSize + pixel];
        Array.Sort(values);
        return values;
    }
}
