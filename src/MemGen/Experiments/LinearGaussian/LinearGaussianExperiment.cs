using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis.LinearGaussian;
using MemGen.Data;
using MemGen.Images;
using MemGen.Reporting;
using MemGen.Results;
using MemGen.Experiments.Kit;

namespace MemGen.Experiments.LinearGaussian;

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
/// directory (the experiment kit's: experiment.json, run.json): measurements.csv/.json (every run: the four kernel
/// integrals behind Δ, H², KL, λ_max(Σ_G)), summary.csv/.json (per (covariance, d, n): mean and spread of E_TG, E_OG, Δ and its two parts with the
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
        _ => throw new InvalidSettingException("preset", $"unknown preset '{name}' (expected {string.Join(" or ", PresetNames)})"),
    };

    /// <summary>
    /// Runs the sweep and writes every result table and the report into <paramref name="runDirectory"/> (the sweep takes
    /// seconds to minutes, so a re-run with the same settings recomputes it). Invalid settings or a run directory holding
    /// another experiment raise an <see cref="InvalidSettingException"/> before anything is written.
    /// </summary>
    public static LinearGaussianResult Run(LinearGaussianSettings settings, string runDirectory, string preset,
        IProgress<ExperimentProgress>? progress = null, CancellationToken cancellation = default, ReportWriteOptions? reportOptions = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        LinearGaussianSweep.RequireMemory(settings); // before anything is written
        var identity = ConfigJson(settings, preset);
        using var run = RunDirectory.Open(runDirectory, identity);
        var record = RunRecord.Begin(run);
        var reporter = new ExperimentProgressReporter(progress, 1);
        var sweep = reporter.Unit(0, "sweep");
        var measurements = LinearGaussianSweep.Run(settings, f => sweep.Report("sweep", $"d ∈ {{{string.Join(", ", settings.Dimensions)}}}", f), cancellation);
        var summaries = LinearGaussianSummary.Summarize(measurements);
        reporter.Closing("tables");
        var header = new JsonObject { ["config"] = identity.DeepClone(), ["units"] = Units };
        MeasurementsTable(measurements).Write(run.File("measurements"), header);
        SummaryTable(summaries, settings.OriginalCount).Write(run.File("summary"), (JsonObject)header.DeepClone());
        var sweepTime = record.Elapsed;

        reporter.Closing("report");
        var report = LinearGaussianReport.Build(settings, summaries, identity, sweepTime, record.Started);
        var output = report.Write(run.Path, reportOptions);
        record.Finish();
        reporter.Closing("done", "", finished: true);
        var files = new List<string> { run.File(RunDirectory.ExperimentFile), run.File(RunRecord.FileName) };
        files.AddRange(new[] { "measurements", "summary" }.SelectMany(t => new[] { run.File(t + ".csv"), run.File(t + ".json") }));
        files.Add(output.JsonPath);
        files.AddRange(output.SpecPaths);
        files.AddRange(output.SvgPaths);
        files.Add(output.HtmlPath);
        return new LinearGaussianResult(summaries, record.Elapsed, files, output.Problems);
    }

    /// <summary>The settings as JSON: the run's identity (experiment.json), also recorded in the report and the tables.</summary>
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

    /// <summary>What the columns of both tables measure (recorded in their JSON).</summary>
    public const string Units =
        "e_tg, e_og, delta and its parts: integrated squared distances without the common ∫p_G², divided by ∫p² of the true law = (4π s²)^(-d/2); " +
        "self_part = ∫p_T² − ∫p_O², cross_part = −2(∫p_G·p_T − ∫p_G·p_O), delta = self_part + cross_part; self_part_predicted = E∫p_T² − E∫p_O² " +
        "(closed form); lambda_max = largest eigenvalue of the generated covariance; float32_unresolved_fraction = runs whose exact |Δ| is below 2^-23·max(|e_tg|, |e_og|); " +
        "sign_flipped_fraction = runs whose Δ in the run's precision (float32 runs) has another sign than the exact Δ; kl = KL(generated ‖ true), inf (CSV) or null (JSON) when Σ_G is singular";

    /// <summary>measurements: one row per (covariance, d, n, run).</summary>
    public static ResultTable MeasurementsTable(IEnumerable<LinearGaussianMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var table = new ResultTable(["covariance", "d", "n", "run", "e_tg", "e_og", "delta", "train_self", "original_self", "train_cross", "original_cross",
            "delta_exact", "below_float32", "sign_flipped", "hellinger2", "kl", "rank", "lambda_max"]);
        foreach (var m in measurements)
        {
            var t = m.Terms;
            table.Add(m.Covariance.Name(), m.Dimension, m.TrainingCount, m.Run, m.TrainDistance, m.OriginalDistance, m.Delta,
                t.TrainSelf, t.OriginalSelf, t.TrainCross, t.OriginalCross, m.ExactDelta, m.BelowFloat32Resolution ? 1 : 0, m.SignFlipped ? 1 : 0,
                m.SquaredHellinger, m.KullbackLeibler, m.Rank, m.LargestEigenvalue);
        }
        return table;
    }

    /// <summary>
    /// summary: one row per (covariance, d, n). self_part_predicted is the closed-form set-size bias
    /// E∫p_T² − E∫p_O² (docs/science.md §7.7) for an original set of <paramref name="originalCount"/> points.
    /// </summary>
    public static ResultTable SummaryTable(IEnumerable<LinearGaussianSummary> summaries, int originalCount)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        var table = new ResultTable(["covariance", "d", "n", "n_over_d", "runs", "p_delta_positive", "p_stderr", "e_tg_mean", "e_tg_std", "e_og_mean", "e_og_std",
            "delta_mean", "delta_std", "self_part_mean", "self_part_std", "self_part_predicted", "cross_part_mean", "cross_part_std", "lambda_max_mean", "lambda_max_std",
            "lambda_max_median", "float32_unresolved_fraction", "sign_flipped_fraction", "hellinger2_mean", "hellinger2_std", "kl_mean", "kl_std", "singular_fraction"]);
        foreach (var s in summaries)
            table.Add(s.Covariance.Name(), s.Dimension, s.TrainingCount, s.Ratio, s.Runs, s.ProbabilityDeltaPositive, s.ProbabilityStandardError,
                s.TrainDistance.Mean, s.TrainDistance.Std, s.OriginalDistance.Mean, s.OriginalDistance.Std, s.Delta.Mean, s.Delta.Std,
                s.SelfPart.Mean, s.SelfPart.Std, PredictedSelfPart(s, originalCount), s.CrossPart.Mean, s.CrossPart.Std,
                s.LargestEigenvalue.Mean, s.LargestEigenvalue.Std, s.LargestEigenvalueMedian, s.Float32UnresolvedFraction, s.SignFlippedFraction,
                s.SquaredHellinger.Mean, s.SquaredHellinger.Std, s.KullbackLeibler.Mean, s.KullbackLeibler.Std, s.SingularFraction);
        return table;
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

}
