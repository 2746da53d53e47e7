using System.Globalization;
using MemGen.Images;

namespace MemGen.Analysis;

/// <summary>Summary statistics of a distribution of similarities or distances (NaN values are left out).</summary>
/// <param name="Count">Number of finite values.</param>
/// <param name="Mean">Mean.</param>
/// <param name="Median">Median.</param>
/// <param name="StandardDeviation">Standard deviation (population).</param>
/// <param name="Min">Smallest value.</param>
/// <param name="Max">Largest value.</param>
public sealed record SimilaritySummary(int Count, double Mean, double Median, double StandardDeviation, double Min, double Max)
{
    /// <summary>Summarizes <paramref name="values"/>; all statistics are NaN when no value is finite.</summary>
    public static SimilaritySummary Of(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var finite = values.Where(double.IsFinite).ToArray();
        if (finite.Length == 0) return new SimilaritySummary(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        double mean = finite.Average();
        double sd = Math.Sqrt(finite.Sum(v => (v - mean) * (v - mean)) / finite.Length);
        return new SimilaritySummary(finite.Length, mean, ImageStatistics.Median(finite), sd, finite.Min(), finite.Max());
    }

    /// <inheritdoc />
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"n={Count} mean={Mean:F4} median={Median:F4} sd={StandardDeviation:F4} min={Min:F4} max={Max:F4}");
}
