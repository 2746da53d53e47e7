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

/// <summary>Summary over the R runs of one (covariance, d, n) point of the sweep.</summary>
/// <param name="Covariance">Covariance of the generated law.</param>
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
/// <param name="SelfPart">∫p_T² − ∫p_O², the part of Δ without the model (docs/science.md §7.7).</param>
/// <param name="CrossPart">−2(∫p_G·p_T − ∫p_G·p_O), the part of Δ that involves the model.</param>
/// <param name="LargestEigenvalue">λ_max(Σ_G), mean and spread (heavy-tailed near n = d: one run can dominate the mean).</param>
/// <param name="LargestEigenvalueMedian">Median of λ_max(Σ_G) over the runs.</param>
/// <param name="Float32UnresolvedFraction">Fraction of runs whose exact |Δ| is below float32's resolution of E_TG, E_OG (§7.9).</param>
/// <param name="SignFlippedFraction">Fraction of runs whose Δ in the sweep's precision has another sign than the exact Δ (0 in float64).</param>
public sealed record LinearGaussianSummary(
    GeneratedCovariance Covariance, int Dimension, int TrainingCount, int Runs, Spread TrainDistance, Spread OriginalDistance, Spread Delta,
    double ProbabilityDeltaPositive, double ProbabilityStandardError, Spread SquaredHellinger, Spread KullbackLeibler,
    double SingularFraction, Spread SelfPart, Spread CrossPart, Spread LargestEigenvalue, double LargestEigenvalueMedian,
    double Float32UnresolvedFraction, double SignFlippedFraction)
{
    /// <summary>n/d.</summary>
    public double Ratio => (double)TrainingCount / Dimension;

    /// <summary>One summary per (covariance, d, n), ordered by covariance, d, then n.</summary>
    public static IReadOnlyList<LinearGaussianSummary> Summarize(IEnumerable<LinearGaussianMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        return measurements.GroupBy(m => (m.Covariance, m.Dimension, m.TrainingCount))
            .OrderBy(g => g.Key.Covariance).ThenBy(g => g.Key.Dimension).ThenBy(g => g.Key.TrainingCount)
            .Select(g =>
            {
                var runs = g.ToList();
                Spread Of(Func<LinearGaussianMeasurement, double> value) => Spread.Of(runs.Select(value).ToList());
                double p = runs.Count(m => m.Delta > 0) / (double)runs.Count;
                return new LinearGaussianSummary(g.Key.Covariance, g.Key.Dimension, g.Key.TrainingCount, runs.Count,
                    Of(m => m.TrainDistance), Of(m => m.OriginalDistance), Of(m => m.Delta),
                    p, Math.Sqrt(p * (1 - p) / runs.Count),
                    Of(m => m.SquaredHellinger), Of(m => m.KullbackLeibler),
                    runs.Count(m => m.Rank < m.Dimension) / (double)runs.Count,
                    Of(m => m.Terms.SelfPart), Of(m => m.Terms.CrossPart), Of(m => m.LargestEigenvalue), Median(runs.Select(m => m.LargestEigenvalue)),
                    runs.Count(m => m.BelowFloat32Resolution) / (double)runs.Count,
                    runs.Count(m => m.SignFlipped) / (double)runs.Count);
            }).ToList();
    }

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        int k = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[k] : 0.5 * (sorted[k - 1] + sorted[k]);
    }
}
