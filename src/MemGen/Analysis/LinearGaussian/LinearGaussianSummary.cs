namespace MemGen.Analysis.LinearGaussian;

/// <summary>Mean and standard deviation (over runs) of one quantity; NaN std for a single run.</summary>
/// <param name="Mean">Mean over runs (+∞ if any run is +∞).</param>
/// <param name="Std">Sample standard deviation over runs (NaN if fewer than 2 runs or any is infinite).</param>
public readonly record struct Spread(double Mean, double Std)
{
    /// <summary>Mean and sample standard deviation of <paramref name="values"/>.</summary>
    public static Spread Of(IReadOnlyList<double> values)
    {
        if (values.Count == 0) return new Spread(double.NaN, double.NaN);
        if (values.Any(double.IsInfinity)) return new Spread(values.Average(), double.NaN);
        double mean = values.Average();
        if (values.Count < 2) return new Spread(mean, double.NaN);
        double ss = values.Sum(v => (v - mean) * (v - mean));
        return new Spread(mean, Math.Sqrt(ss / (values.Count - 1)));
    }
}

/// <summary>Summary over the R runs of one (d, n) point of the sweep.</summary>
/// <param name="Dimension">d.</param>
/// <param name="TrainingCount">n.</param>
/// <param name="Runs">R.</param>
/// <param name="TrainDistance">E_TG (units of ∫p² of the true law, common ∫p_G² dropped).</param>
/// <param name="OriginalDistance">E_OG (same units).</param>
/// <param name="Delta">Δ = E_TG − E_OG.</param>
/// <param name="ProbabilityDeltaPositive">P(Δ &gt; 0): fraction of runs with Δ &gt; 0.</param>
/// <param name="ProbabilityStandardError">Binomial standard error sqrt(P(1 − P)/R).</param>
/// <param name="SquaredHellinger">H² to the true law.</param>
/// <param name="KullbackLeibler">KL(generated ‖ true); mean +∞ when Σ_G is singular.</param>
/// <param name="SingularFraction">Fraction of runs with singular Σ_G.</param>
public sealed record LinearGaussianSummary(
    int Dimension, int TrainingCount, int Runs, Spread TrainDistance, Spread OriginalDistance, Spread Delta,
    double ProbabilityDeltaPositive, double ProbabilityStandardError, Spread SquaredHellinger, Spread KullbackLeibler,
    double SingularFraction)
{
    /// <summary>n/d.</summary>
    public double Ratio => (double)TrainingCount / Dimension;

    /// <summary>One summary per (d, n), ordered by d then n.</summary>
    public static IReadOnlyList<LinearGaussianSummary> Summarize(IEnumerable<LinearGaussianMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        return measurements.GroupBy(m => (m.Dimension, m.TrainingCount)).OrderBy(g => g.Key.Dimension).ThenBy(g => g.Key.TrainingCount)
            .Select(g =>
            {
                var runs = g.ToList();
                double p = runs.Count(m => m.Delta > 0) / (double)runs.Count;
                return new LinearGaussianSummary(g.Key.Dimension, g.Key.TrainingCount, runs.Count,
                    Spread.Of(runs.Select(m => m.TrainDistance).ToList()),
                    Spread.Of(runs.Select(m => m.OriginalDistance).ToList()),
                    Spread.Of(runs.Select(m => m.Delta).ToList()),
                    p, Math.Sqrt(p * (1 - p) / runs.Count),
                    Spread.Of(runs.Select(m => m.SquaredHellinger).ToList()),
                    Spread.Of(runs.Select(m => m.KullbackLeibler).ToList()),
                    runs.Count(m => m.Rank < m.Dimension) / (double)runs.Count);
            }).ToList();
    }
}
