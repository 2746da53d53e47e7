using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text;
using MemGen.Analysis.LinearGaussian;
using MemGen.Data;
using MemGen.Images;
using MemGen.Reporting;
using MemGen.Results;
using MemGen.Runs;

namespace MemGen.Experiments;

/// <summary>What <see cref="LinearGaussianExperiment.Run"/> produced.</summary>
/// <param name="Summaries">One row per (d, n).</param>
/// <param name="Elapsed">Wall time of the sweep and the files.</param>
/// <param name="Files">Every file written (paths).</param>
/// <param name="ReportProblems">Warnings of the report writer (e.g. charting scripts missing).</param>
public sealed record LinearGaussianResult(
    IReadOnlyList<LinearGaussianSummary> Summaries, TimeSpan Elapsed, IReadOnlyList<string> Files, IReadOnlyList<string> ReportProblems);

/// <summary>
/// <c>memgen experiment linear-gaussian</c> (docs/science.md §7): the linear one-step diffusion model on
/// isotropic Gaussian data and its memorization → generalization transition at n ≈ d. Writes into the run
/// directory: config.json, measurements.csv (every run: the four kernel integrals behind Δ, H², KL, λ_max(Σ_G)),
/// summary.csv and summary.json (per (covariance, d, n): mean and spread of E_TG, E_OG, Δ and its two parts with the
/// closed-form set-size bias, P(Δ &gt; 0), H², KL, λ_max, the fractions of runs below float32 resolution and, in a
/// float32 run, with a sign changed by rounding), and
/// report.html with its figures.
/// </summary>
public static class LinearGaussianExperiment
{
    /// <summary>Names of the presets.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["quick", "paper"];

    /// <summary>
    /// The preset's settings. <c>quick</c>: d ∈ {8, 16, 32, 64}, R = 100, 2000 original points, n/d from 0.25 to 8
    /// (under a minute on 2 cores; the transition is already visible); <c>paper</c>: the reference values
    /// (d ∈ {16, 32, 64, 100}, R = 300, N = 10^4), n/d from 0.25 to 8, with both the model's covariance and the
    /// reference code's (docs/science.md §7.8).
    /// </summary>
    public static LinearGaussianSettings Preset(string name) => name switch
    {
        "quick" => new LinearGaussianSettings
        {
            Dimensions = [8, 16, 32, 64],
            Ratios = [0.25, 0.5, 0.75, 0.875, 1.0, 1.125, 1.25, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0],
            OriginalCount = 2000,
            Runs = 100,
        },
        "paper" => new LinearGaussianSettings { Covariances = [.. GeneratedCovariances.All] },
        _ => throw new ArgumentException($"Unknown preset '{name}' (expected {string.Join(" or ", PresetNames)}).", nameof(name)),
    };

    /// <summary>Runs the sweep and writes every result file and the report into <paramref name="runDirectory"/>.</summary>
    public static LinearGaussianResult Run(LinearGaussianSettings settings, string runDirectory, string preset,
        Action<double>? progress = null, CancellationToken cancellation = default, ReportWriteOptions? reportOptions = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Validate() is string problem) throw new ArgumentException(problem, nameof(settings));
        LinearGaussianSweep.RequireMemory(settings); // before anything is written
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        using var folderLock = RunFolderLock.Acquire(runDirectory);
        var config = ConfigJson(settings, preset);
        var files = new List<string>();
        string Path_(string name) { var p = Path.Combine(runDirectory, name); files.Add(p); return p; }

        AtomicFile.WriteAllText(Path_("config.json"), config.ToJsonString(new() { WriteIndented = true }));
        var measurements = LinearGaussianSweep.Run(settings, progress, cancellation);
        var summaries = LinearGaussianSummary.Summarize(measurements);
        AtomicFile.WriteAllText(Path_("measurements.csv"), MeasurementsCsv(measurements));
        AtomicFile.WriteAllText(Path_("summary.csv"), SummaryCsv(summaries, settings.OriginalCount));
        AtomicFile.WriteAllText(Path_("summary.json"), SummaryJson(summaries, settings.OriginalCount, config).ToJsonString(new() { WriteIndented = true }));
        var sweepTime = clock.Elapsed;

        var report = LinearGaussianReport.Build(settings, summaries, config, sweepTime, started);
        var output = report.Write(runDirectory, reportOptions);
        files.Add(output.JsonPath);
        files.AddRange(output.SpecPaths);
        files.AddRange(output.SvgPaths);
        files.Add(output.HtmlPath);
        return new LinearGaussianResult(summaries, clock.Elapsed, files, output.Problems);
    }

    /// <summary>The settings as JSON (also recorded in the report).</summary>
    public static JsonObject ConfigJson(LinearGaussianSettings settings, string preset)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new JsonObject
        {
            ["experiment"] = "linear-gaussian",
            ["preset"] = preset,
            ["dimensions"] = new JsonArray(settings.Dimensions.Select(d => (JsonNode)d).ToArray()),
            ["ratios"] = new JsonArray(settings.Ratios.Select(r => (JsonNode)r).ToArray()),
            ["mean"] = settings.Mean,
            ["std"] = settings.Std,
            ["time"] = settings.Time,
            ["lambda"] = settings.EffectiveLambda,
            ["original_count"] = settings.OriginalCount,
            ["covariances"] = new JsonArray(settings.Covariances.Select(c => (JsonNode)c.Name()).ToArray()),
            ["precision"] = settings.Precision.Name(),
            ["runs"] = settings.Runs,
            ["seed"] = settings.Seed,
            ["threads"] = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount,
        };
    }

    /// <summary>measurements.csv: one line per (covariance, d, n, run).</summary>
    public static string MeasurementsCsv(IEnumerable<LinearGaussianMeasurement> measurements)
    {
        var csv = new StringBuilder("covariance,d,n,run,e_tg,e_og,delta,train_self,original_self,train_cross,original_cross,delta_exact,below_float32,sign_flipped,hellinger2,kl,rank,lambda_max\n");
        foreach (var m in measurements)
        {
            var t = m.Terms;
            csv.Append(CultureInfo.InvariantCulture,
                $"{m.Covariance.Name()},{m.Dimension},{m.TrainingCount},{m.Run},{F(m.TrainDistance)},{F(m.OriginalDistance)},{F(m.Delta)},").Append(CultureInfo.InvariantCulture,
                $"{F(t.TrainSelf)},{F(t.OriginalSelf)},{F(t.TrainCross)},{F(t.OriginalCross)},{F(m.ExactDelta)},{(m.BelowFloat32Resolution ? 1 : 0)},{(m.SignFlipped ? 1 : 0)},").Append(CultureInfo.InvariantCulture,
                $"{F(m.SquaredHellinger)},{F(m.KullbackLeibler)},{m.Rank},{F(m.LargestEigenvalue)}\n");
        }
        return csv.ToString();
    }

    /// <summary>
    /// summary.csv: one line per (covariance, d, n). self_part_predicted is the closed-form set-size bias
    /// E∫p_T² − E∫p_O² (docs/science.md §7.7) for an original set of <paramref name="originalCount"/> points.
    /// </summary>
    public static string SummaryCsv(IEnumerable<LinearGaussianSummary> summaries, int originalCount)
    {
        var csv = new StringBuilder("covariance,d,n,n_over_d,runs,p_delta_positive,p_stderr,e_tg_mean,e_tg_std,e_og_mean,e_og_std,delta_mean,delta_std," +
            "self_part_mean,self_part_std,self_part_predicted,cross_part_mean,cross_part_std,lambda_max_mean,lambda_max_std,lambda_max_median,float32_unresolved_fraction,sign_flipped_fraction," +
            "hellinger2_mean,hellinger2_std,kl_mean,kl_std,singular_fraction\n");
        foreach (var s in summaries)
            csv.Append(CultureInfo.InvariantCulture,
                $"{s.Covariance.Name()},{s.Dimension},{s.TrainingCount},{F(s.Ratio)},{s.Runs},{F(s.ProbabilityDeltaPositive)},{F(s.ProbabilityStandardError)},{F(s.TrainDistance.Mean)},{F(s.TrainDistance.Std)},{F(s.OriginalDistance.Mean)},{F(s.OriginalDistance.Std)},{F(s.Delta.Mean)},{F(s.Delta.Std)},")
               .Append(CultureInfo.InvariantCulture,
                $"{F(s.SelfPart.Mean)},{F(s.SelfPart.Std)},{F(PredictedSelfPart(s, originalCount))},{F(s.CrossPart.Mean)},{F(s.CrossPart.Std)},{F(s.LargestEigenvalue.Mean)},{F(s.LargestEigenvalue.Std)},{F(s.LargestEigenvalueMedian)},{F(s.Float32UnresolvedFraction)},{F(s.SignFlippedFraction)},")
               .Append(CultureInfo.InvariantCulture,
                $"{F(s.SquaredHellinger.Mean)},{F(s.SquaredHellinger.Std)},{F(s.KullbackLeibler.Mean)},{F(s.KullbackLeibler.Std)},{F(s.SingularFraction)}\n");
        return csv.ToString();
    }

    /// <summary>summary.json: the config, the units, and one object per (covariance, d, n); ∞ and NaN become null.</summary>
    public static JsonObject SummaryJson(IEnumerable<LinearGaussianSummary> summaries, int originalCount, JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var rows = new JsonArray();
        foreach (var s in summaries)
        {
            rows.Add(new JsonObject
            {
                ["covariance"] = s.Covariance.Name(),
                ["d"] = s.Dimension,
                ["n"] = s.TrainingCount,
                ["n_over_d"] = s.Ratio,
                ["runs"] = s.Runs,
                ["p_delta_positive"] = s.ProbabilityDeltaPositive,
                ["p_stderr"] = s.ProbabilityStandardError,
                ["e_tg"] = SpreadJson(s.TrainDistance),
                ["e_og"] = SpreadJson(s.OriginalDistance),
                ["delta"] = SpreadJson(s.Delta),
                ["self_part"] = SpreadJson(s.SelfPart),
                ["self_part_predicted"] = Finite(PredictedSelfPart(s, originalCount)),
                ["cross_part"] = SpreadJson(s.CrossPart),
                ["lambda_max"] = SpreadJson(s.LargestEigenvalue),
                ["lambda_max_median"] = Finite(s.LargestEigenvalueMedian),
                ["float32_unresolved_fraction"] = s.Float32UnresolvedFraction,
                ["sign_flipped_fraction"] = s.SignFlippedFraction,
                ["hellinger2"] = SpreadJson(s.SquaredHellinger),
                ["kl"] = SpreadJson(s.KullbackLeibler),
                ["kl_infinite"] = double.IsPositiveInfinity(s.KullbackLeibler.Mean),
                ["singular_fraction"] = s.SingularFraction,
            });
        }
        return new JsonObject
        {
            ["config"] = config.DeepClone(),
            ["units"] = "e_tg, e_og, delta and its parts: integrated squared distances without the common ∫p_G², divided by ∫p² of the true law = (4π s²)^(-d/2); " +
                        "self_part = ∫p_T² − ∫p_O², cross_part = −2(∫p_G·p_T − ∫p_G·p_O), delta = self_part + cross_part; self_part_predicted = E∫p_T² − E∫p_O² " +
                        "(closed form); lambda_max = largest eigenvalue of the generated covariance; float32_unresolved_fraction = runs whose exact |Δ| is below 2^-23·max(|e_tg|, |e_og|); " +
                        "sign_flipped_fraction = runs whose Δ in the run's precision (float32 runs) has another sign than the exact Δ; kl = KL(generated ‖ true), null when infinite (singular Σ_G)",
            ["summary"] = rows,
        };
    }

    /// <summary>The closed-form set-size bias E∫p_T² − E∫p_O² of a summary's (d, n) (docs/science.md §7.7).</summary>
    public static double PredictedSelfPart(LinearGaussianSummary summary, int originalCount)
    {
        ArgumentNullException.ThrowIfNull(summary);
        return SetSizeBias.Expected(summary.TrainingCount, originalCount, summary.Dimension);
    }

    /// <summary>
    /// The smallest n/d (at least <paramref name="fromRatio"/>) at which P(Δ &gt; 0) reaches 1/2, linearly interpolated
    /// between sweep points (from the last point below 1/2 at or after <paramref name="fromRatio"/>); null if it never does.
    /// With <paramref name="fromRatio"/> = 1 it is the crossing above n = d, which differs from the first crossing when
    /// P already exceeds 1/2 somewhere below d.
    /// </summary>
    public static double? TransitionRatio(IEnumerable<LinearGaussianSummary> summariesOfOneD, double fromRatio = 0)
    {
        ArgumentNullException.ThrowIfNull(summariesOfOneD);
        var s = summariesOfOneD.Where(x => x.Ratio >= fromRatio).OrderBy(x => x.TrainingCount).ToList();
        for (int i = 0; i < s.Count; i++)
        {
            if (s[i].ProbabilityDeltaPositive < 0.5) continue;
            if (i == 0) return s[0].Ratio;
            double p0 = s[i - 1].ProbabilityDeltaPositive, p1 = s[i].ProbabilityDeltaPositive;
            double t = p1 > p0 ? (0.5 - p0) / (p1 - p0) : 1;
            return s[i - 1].Ratio + t * (s[i].Ratio - s[i - 1].Ratio);
        }
        return null;
    }

    private static JsonNode? Finite(double v) => ResultJson.Finite(v);

    private static JsonObject SpreadJson(Spread s) => ResultJson.MeanStd(s.Mean, s.Std);

    private static string F(double v) => double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);
}
