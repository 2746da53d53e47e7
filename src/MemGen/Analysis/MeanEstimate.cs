using MemGen.Analysis.LinearGaussian;

namespace MemGen.Analysis;

/// <summary>A mean with its standard error (sample sd / √n; NaN for fewer than two values).</summary>
/// <param name="Mean">Mean.</param>
/// <param name="StandardError">Standard error of the mean.</param>
public readonly record struct MeanEstimate(double Mean, double StandardError)
{
    /// <summary>The mean and standard error of <paramref name="values"/>.</summary>
    public static MeanEstimate Of(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var spread = Spread.Of(values);
        return new MeanEstimate(spread.Mean, spread.Std / Math.Sqrt(values.Count));
    }
}
