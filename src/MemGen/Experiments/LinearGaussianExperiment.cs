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
/// directory: config.json, measurements.csv (every run), summary.csv and summary.json (per (d, n): mean
/// and spread of E_TG, E_OG, Δ, P(Δ &gt; 0), H², KL), and report.html with its figures.
/// </summary>
public static class LinearGaussianExperiment
{
    /// <summary>Names of the presets.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["quick", "paper"];

    /// <summary>
    /// The preset's settings. <c>quick</c>: d ∈ {8, 16, 32, 64}, R = 100, 2000 original points, n/d from 0.25 to 8
    /// (under a minute on 2 cores; the transition is already visible); <c>paper</c>: the reference values
    /// (d ∈ {16, 32, 64, 100}, R = 300, N = 10^4), n/d from 0.25 to 8.
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
        "paper" => new LinearGaussianSettings(),
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
        AtomicFile.WriteAllText(Path_("summary.csv"), SummaryCsv(summaries));
        AtomicFile.WriteAllText(Path_("summary.json"), SummaryJson(summaries, config).ToJsonString(new() { WriteIndented = true }));
        var sweepTime = clock.Elapsed;

        var report = BuildReport(settings, summaries, config, sweepTime, started);
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
            ["runs"] = settings.Runs,
            ["seed"] = settings.Seed,
            ["threads"] = settings.Threads > 0 ? settings.Threads : Environment.ProcessorCount,
        };
    }

    /// <summary>measurements.csv: one line per (d, n, run).</summary>
    public static string MeasurementsCsv(IEnumerable<LinearGaussianMeasurement> measurements)
    {
        var csv = new StringBuilder("d,n,run,e_tg,e_og,delta,hellinger2,kl,rank\n");
        foreach (var m in measurements)
            csv.Append(CultureInfo.InvariantCulture, $"{m.Dimension},{m.TrainingCount},{m.Run},{F(m.TrainDistance)},{F(m.OriginalDistance)},{F(m.Delta)},{F(m.SquaredHellinger)},{F(m.KullbackLeibler)},{m.Rank}\n");
        return csv.ToString();
    }

    /// <summary>summary.csv: one line per (d, n).</summary>
    public static string SummaryCsv(IEnumerable<LinearGaussianSummary> summaries)
    {
        var csv = new StringBuilder("d,n,n_over_d,runs,p_delta_positive,p_stderr,e_tg_mean,e_tg_std,e_og_mean,e_og_std,delta_mean,delta_std,hellinger2_mean,hellinger2_std,kl_mean,kl_std,singular_fraction\n");
        foreach (var s in summaries)
            csv.Append(CultureInfo.InvariantCulture,
                $"{s.Dimension},{s.TrainingCount},{F(s.Ratio)},{s.Runs},{F(s.ProbabilityDeltaPositive)},{F(s.ProbabilityStandardError)},{F(s.TrainDistance.Mean)},{F(s.TrainDistance.Std)},{F(s.OriginalDistance.Mean)},{F(s.OriginalDistance.Std)},{F(s.Delta.Mean)},{F(s.Delta.Std)},{F(s.SquaredHellinger.Mean)},{F(s.SquaredHellinger.Std)},{F(s.KullbackLeibler.Mean)},{F(s.KullbackLeibler.Std)},{F(s.SingularFraction)}\n");
        return csv.ToString();
    }

    /// <summary>summary.json: the config, the units, and one object per (d, n); ∞ and NaN become null.</summary>
    public static JsonObject SummaryJson(IEnumerable<LinearGaussianSummary> summaries, JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        var rows = new JsonArray();
        foreach (var s in summaries)
        {
            rows.Add(new JsonObject
            {
                ["d"] = s.Dimension,
                ["n"] = s.TrainingCount,
                ["n_over_d"] = s.Ratio,
                ["runs"] = s.Runs,
                ["p_delta_positive"] = s.ProbabilityDeltaPositive,
                ["p_stderr"] = s.ProbabilityStandardError,
                ["e_tg"] = SpreadJson(s.TrainDistance),
                ["e_og"] = SpreadJson(s.OriginalDistance),
                ["delta"] = SpreadJson(s.Delta),
                ["hellinger2"] = SpreadJson(s.SquaredHellinger),
                ["kl"] = SpreadJson(s.KullbackLeibler),
                ["kl_infinite"] = double.IsPositiveInfinity(s.KullbackLeibler.Mean),
                ["singular_fraction"] = s.SingularFraction,
            });
        }
        return new JsonObject
        {
            ["config"] = config.DeepClone(),
            ["units"] = "e_tg, e_og, delta: integrated squared distances without the common ∫p_G², divided by ∫p² of the true law = (4π s²)^(-d/2); kl = KL(generated ‖ true), null when infinite (singular Σ_G)",
            ["summary"] = rows,
        };
    }

    /// <summary>
    /// The smallest n/d at which P(Δ &gt; 0) reaches 1/2, linearly interpolated between sweep points;
    /// null if it never does.
    /// </summary>
    public static double? TransitionRatio(IEnumerable<LinearGaussianSummary> summariesOfOneD)
    {
        ArgumentNullException.ThrowIfNull(summariesOfOneD);
        var s = summariesOfOneD.OrderBy(x => x.TrainingCount).ToList();
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

    private static ReportBuilder BuildReport(LinearGaussianSettings settings, IReadOnlyList<LinearGaussianSummary> summaries,
        JsonObject config, TimeSpan elapsed, DateTimeOffset started)
    {
        var report = new ReportBuilder("Linear diffusion model on Gaussian data: the n ≈ d transition",
            $"docs/science.md §7 · d ∈ {{{string.Join(", ", settings.Dimensions)}}} · R = {settings.Runs} runs per point · N_original = {settings.OriginalCount}");
        var byD = summaries.GroupBy(s => s.Dimension).OrderBy(g => g.Key).ToList();
        var transitions = byD.Select(g => (D: g.Key, Ratio: TransitionRatio(g))).ToList();
        string Describe((int D, double? Ratio) t) => t.Ratio is double r
            ? string.Create(CultureInfo.InvariantCulture, $"d = {t.D}: n/d ≈ {r:F2}")
            : $"d = {t.D}: not reached";
        report.AddText(
            "Data x0 ~ N(m·1, s²I) in d dimensions; one jump of an Ornstein–Uhlenbeck process to time T; a linear denoiser " +
            "x0 ≈ β0 + B·x_T fitted by least squares on n training pairs (minimum-norm when n ≤ d); one-step generation gives " +
            "the Gaussian N(μ_G, Σ_G) with Σ_G = s_T²·B·Bᵀ. E_TG and E_OG are the integrated squared distances between the " +
            "generated density and Gaussian-kernel smoothings (ε_N = s·N^(−1/d)) of the training set and of a fresh 'original' " +
            "set from the true law; Δ = E_TG − E_OG > 0 means the model is closer to the law than to its own training set " +
            "(generalization). Each point is R independent runs.\n\n" +
            "Where P(Δ > 0) first reaches 1/2 (interpolated): " + string.Join("; ", transitions.Select(Describe)) + ". " +
            "The claim of [H24] is a jump of P(Δ > 0) from near 0 to near 1 around n = d, with the squared Hellinger " +
            "distance to the true law exactly 1 for n ≤ d (Σ_G singular) and falling after. This run follows docs/science.md §7 " +
            "(Σ_G = s_T²·B·Bᵀ, exact Gaussian normalizations); the reference code's Bᵀ·B covariance and (2π)^(1/2) " +
            "normalization are not copied, so where P(Δ > 0) rises can differ from the paper's figure. Even for n → ∞ the " +
            "linear one-step model does not reach the true law: Σ_G tends to s²·e^(−2T)s²/(e^(−2T)s² + Λ(1 − e^(−2T)))·I " +
            "(about s²/2 at the reference values), so H² and KL level off above 0.",
            heading: "Summary");
        report.AddSettings(config, elapsed, started);

        var ratioDomain = (summaries.Min(s => s.Ratio), summaries.Max(s => s.Ratio));
        var rows = new JsonArray();
        foreach (var s in summaries)
        {
            rows.Add(new JsonObject
            {
                ["d"] = s.Dimension,
                ["n"] = s.TrainingCount,
                ["n_over_d"] = s.Ratio,
                ["p"] = s.ProbabilityDeltaPositive,
                ["p_lo"] = Math.Max(0, s.ProbabilityDeltaPositive - s.ProbabilityStandardError),
                ["p_hi"] = Math.Min(1, s.ProbabilityDeltaPositive + s.ProbabilityStandardError),
                ["hellinger2"] = Finite(s.SquaredHellinger.Mean),
                ["kl"] = Finite(s.KullbackLeibler.Mean),
            });
        }
        report.AddFigure("p-delta-positive", "P(Δ > 0) vs n/d",
            "Fraction of runs in which the generated law is closer (in integrated squared distance) to the original set than to the training set, " +
            "one line per d; bars are ± one binomial standard error; the dashed line marks n = d.",
            RatioChart(rows, "p", "P(Δ > 0)", logY: false, band: ("p_lo", "p_hi"), yDomain: (0, 1), ratioDomain));
        report.AddFigure("hellinger", "Squared Hellinger distance to the true law vs n/d",
            "Mean over runs of H²(N(μ_G, Σ_G), N(m·1, s²I)), one line per d. It is exactly 1 while Σ_G is singular (n ≤ d).",
            RatioChart(rows, "hellinger2", "mean H²", logY: false, band: null, yDomain: (0, 1), ratioDomain));
        var finiteKl = new JsonArray(rows.Where(r => r!["kl"] is not null).Select(r => r!.DeepClone()).ToArray());
        report.AddFigure("kl", "KL divergence to the true law vs n/d",
            "Mean over runs of KL(N(μ_G, Σ_G) ‖ N(m·1, s²I)) (log scale), one line per d; infinite (not drawn) while Σ_G is singular (n ≤ d).",
            RatioChart(finiteKl, "kl", "mean KL (nats)", logY: true, band: null, yDomain: null, ratioDomain));
        report.AddFigure("distances", "E_TG and E_OG vs n",
            "Mean over runs of the integrated squared distance of the generated density to the smoothed training set (E_TG) and to the smoothed " +
            "original set (E_OG), both without the common ∫p_G² term and in units of ∫p² of the true law; bands are ± one standard deviation " +
            "over runs (symmetric-log axis: E_TG is very negative while the model memorizes); one panel per d, the dashed line marks n = d.",
            DistanceChart(summaries));

        report.AddTable("near-transition", "P(Δ > 0) around n = d",
            "P(Δ > 0) ± binomial standard error at the sweep points with 0.5 ≤ n/d ≤ 2.",
            ["d", "n", "n/d", "P(Δ > 0)", "± s.e.", "mean H²", "mean KL"],
            summaries.Where(s => s.Ratio >= 0.5 && s.Ratio <= 2).Select(s => (IReadOnlyList<object?>)
            [
                s.Dimension, s.TrainingCount, Math.Round(s.Ratio, 3), s.ProbabilityDeltaPositive, s.ProbabilityStandardError,
                s.SquaredHellinger.Mean, double.IsInfinity(s.KullbackLeibler.Mean) ? "∞" : s.KullbackLeibler.Mean,
            ]));
        report.AddTable("summary", "All sweep points",
            "Mean ± standard deviation over runs (files: summary.csv, summary.json; every run: measurements.csv).",
            ["d", "n", "P(Δ > 0)", "E_TG", "E_OG", "Δ", "H²", "KL"],
            summaries.Select(s => (IReadOnlyList<object?>)
            [
                s.Dimension, s.TrainingCount, s.ProbabilityDeltaPositive, Pm(s.TrainDistance), Pm(s.OriginalDistance), Pm(s.Delta),
                Pm(s.SquaredHellinger), double.IsInfinity(s.KullbackLeibler.Mean) ? "∞" : Pm(s.KullbackLeibler),
            ]));
        return report;
    }

    private static double[] PowersOfTwo(double lo, double hi)
    {
        var values = new List<double>();
        for (double v = Math.Pow(2, Math.Ceiling(Math.Log2(lo))); v <= hi * (1 + 1e-12); v *= 2) values.Add(v);
        return [.. values];
    }

    private static JsonObject RatioChart(JsonArray values, string field, string title, bool logY, (string Lo, string Hi)? band, (double, double)? yDomain,
        (double, double) xDomain)
    {
        var y = new JsonObject { ["field"] = field, ["type"] = "quantitative", ["title"] = title };
        if (logY) y["scale"] = new JsonObject { ["type"] = "log" };
        if (yDomain is var (lo, hi)) y["scale"] = new JsonObject { ["domain"] = new JsonArray(lo, hi) };
        var x = new JsonObject
        {
            ["field"] = "n_over_d",
            ["type"] = "quantitative",
            ["title"] = "n / d",
            ["scale"] = new JsonObject { ["type"] = "log", ["base"] = 2, ["domain"] = new JsonArray(xDomain.Item1, xDomain.Item2) },
            ["axis"] = new JsonObject { ["values"] = new JsonArray(PowersOfTwo(xDomain.Item1, xDomain.Item2).Select(v => (JsonNode)v).ToArray()) },
        };
        var color = new JsonObject { ["field"] = "d", ["type"] = "ordinal", ["title"] = "d", ["scale"] = new JsonObject { ["scheme"] = "category10" } };
        var layers = new JsonArray();
        if (band is var (bLo, bHi))
        {
            layers.Add(new JsonObject
            {
                ["mark"] = new JsonObject { ["type"] = "rule" },
                ["encoding"] = new JsonObject
                {
                    ["x"] = x.DeepClone(),
                    ["y"] = new JsonObject { ["field"] = bLo, ["type"] = "quantitative" },
                    ["y2"] = new JsonObject { ["field"] = bHi },
                    ["color"] = color.DeepClone(),
                },
            });
        }
        layers.Add(new JsonObject
        {
            ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
            ["encoding"] = new JsonObject
            {
                ["x"] = x.DeepClone(),
                ["y"] = y,
                ["color"] = color.DeepClone(),
                ["tooltip"] = new JsonArray(
                    new JsonObject { ["field"] = "d", ["type"] = "ordinal" },
                    new JsonObject { ["field"] = "n", ["type"] = "quantitative" },
                    new JsonObject { ["field"] = field, ["type"] = "quantitative", ["format"] = ".4g" }),
            },
        });
        layers.Add(new JsonObject
        {
            ["data"] = new JsonObject { ["values"] = new JsonArray(new JsonObject { ["n_over_d"] = 1.0 }) },
            ["mark"] = new JsonObject { ["type"] = "rule", ["strokeDash"] = new JsonArray(4, 4), ["color"] = "gray" },
            ["encoding"] = new JsonObject { ["x"] = new JsonObject { ["field"] = "n_over_d", ["type"] = "quantitative" } },
        });
        return new JsonObject
        {
            ["width"] = 520,
            ["height"] = 300,
            ["data"] = new JsonObject { ["values"] = values.DeepClone() },
            ["layer"] = layers,
        };
    }

    private static JsonObject DistanceChart(IReadOnlyList<LinearGaussianSummary> summaries)
    {
        var values = new JsonArray();
        foreach (var s in summaries)
        {
            foreach (var (name, spread) in new[] { ("E_TG (training set)", s.TrainDistance), ("E_OG (original set)", s.OriginalDistance) })
            {
                double sd = double.IsNaN(spread.Std) ? 0 : spread.Std;
                values.Add(new JsonObject
                {
                    ["d"] = s.Dimension,
                    ["n"] = s.TrainingCount,
                    ["quantity"] = name,
                    ["mean"] = Finite(spread.Mean),
                    ["lo"] = Finite(spread.Mean - sd),
                    ["hi"] = Finite(spread.Mean + sd),
                });
            }
        }
        var color = new JsonObject { ["field"] = "quantity", ["type"] = "nominal", ["title"] = null };
        var x = new JsonObject { ["field"] = "n", ["type"] = "quantitative", ["title"] = "n (training points)" };
        return new JsonObject
        {
            ["data"] = new JsonObject { ["values"] = values },
            ["facet"] = new JsonObject { ["field"] = "d", ["type"] = "ordinal", ["title"] = "d" },
            ["columns"] = 2,
            ["resolve"] = new JsonObject { ["scale"] = new JsonObject { ["x"] = "independent", ["y"] = "independent" } },
            ["spec"] = new JsonObject
            {
                ["width"] = 240,
                ["height"] = 220,
                ["layer"] = new JsonArray(
                    new JsonObject
                    {
                        ["mark"] = new JsonObject { ["type"] = "area", ["opacity"] = 0.2 },
                        ["encoding"] = new JsonObject
                        {
                            ["x"] = x.DeepClone(),
                            ["y"] = new JsonObject
                            {
                                ["field"] = "lo",
                                ["type"] = "quantitative",
                                ["title"] = "distance (units of ∫p², symlog scale)",
                                ["scale"] = new JsonObject { ["type"] = "symlog" },
                            },
                            ["y2"] = new JsonObject { ["field"] = "hi" },
                            ["color"] = color.DeepClone(),
                        },
                    },
                    new JsonObject
                    {
                        ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
                        ["encoding"] = new JsonObject
                        {
                            ["x"] = x.DeepClone(),
                            ["y"] = new JsonObject { ["field"] = "mean", ["type"] = "quantitative" },
                            ["color"] = color.DeepClone(),
                        },
                    },
                    new JsonObject
                    {
                        ["mark"] = new JsonObject { ["type"] = "rule", ["strokeDash"] = new JsonArray(4, 4), ["color"] = "gray" },
                        ["encoding"] = new JsonObject { ["x"] = new JsonObject { ["aggregate"] = "min", ["field"] = "d", ["type"] = "quantitative" } },
                    }),
            },
        };
    }

    private static JsonNode? Finite(double v) => ResultJson.Finite(v);

    private static JsonObject SpreadJson(Spread s) => ResultJson.MeanStd(s.Mean, s.Std);

    private static string Pm(Spread s) => double.IsNaN(s.Std)
        ? s.Mean.ToString("G4", CultureInfo.InvariantCulture)
        : $"{s.Mean.ToString("G4", CultureInfo.InvariantCulture)} ± {s.Std.ToString("G2", CultureInfo.InvariantCulture)}";

    private static string F(double v) => double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);
}
