using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis.LinearGaussian;
using MemGen.Experiments.Kit;
using MemGen.Reporting;
using MemGen.Results;

namespace MemGen.Experiments.GaussianNetwork;

/// <summary>The report of the gaussian-network experiment (docs/science.md §7, nonlinear variant).</summary>
public static class GaussianNetworkReport
{
    /// <summary>Builds the report: what was run, P(Δ &gt; 0), Δ per run, the distances, the nearest-neighbour ratio, grids and the table.</summary>
    public static ReportBuilder Build(GaussianNetworkSettings settings, IReadOnlyList<GaussianNetworkSummary> summaries,
        IReadOnlyList<GaussianNetworkMeasurement> measurements, IReadOnlyList<(int N, string Path)> grids, JsonObject config, RunRecord record,
        GaussianNetworkComparison? comparison = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(summaries);
        bool conditioned = Nn.NetworkSpec.Parse(settings.Model).IsConditioned;
        string primaryLabel = comparison is null ? "network samples" : settings.Model;
        var report = new ReportBuilder("Trained denoiser on Gaussian images: per-pixel KDE transition",
            string.Create(CultureInfo.InvariantCulture, $"docs/science.md §7 (nonlinear variant) · d = {settings.Dimension} ({settings.Size}×{settings.Size}) · {settings.Model}{(comparison is null ? "" : " vs " + comparison.Model)} · R = {settings.Runs} runs per n"));
        report.AddText(
            string.Create(CultureInfo.InvariantCulture,
                $"Training images x ~ N({settings.Mean}·1, {settings.Std}²·I) in d = {settings.Dimension} pixels. For each n and run a fresh training set, a ") +
                (conditioned ? "noise-conditioned network (told σ; log-normal training noise levels, EDM loss weights)" : "blind bias-free network") +
                string.Create(CultureInfo.InvariantCulture, $" ({settings.Model}, {settings.TrainingBudget} training images seen), {settings.SampleCount} samples ") +
                $"({settings.SamplerSpec.Explain()}; started at the training mean) " +
                string.Create(CultureInfo.InvariantCulture, $"and a fresh original set of {settings.OriginalCount} images. ") +
            "Per pixel, each set is smoothed by a 1-D Gaussian kernel of width ε = ŝ_i/N (ŝ_i its sample standard deviation of that pixel, N its size); " +
            "E_TG and E_OG are the closed-form integrated squared differences between the samples' density and the training / original densities, " +
            "averaged over pixels; Δ = E_TG − E_OG > 0 means the samples are closer to the law than to the training set. " +
            "The 'true law' reference applies the same metric to a set drawn from the law itself (what a perfect generalizer would score). " +
            "The nearest-neighbour ratio compares the samples' distance to their nearest training image with that to an equally large fresh set: " +
            "≪ 1 when the network reproduces its training images. 'Sample std' is the generated sets' per-pixel standard deviation, " +
            string.Create(CultureInfo.InvariantCulture, $"to compare with the law's s = {settings.Std} (a check of sample quality independent of the KDE metric). ") +
            "Caveat: a blind bias-free network is positively homogeneous, f(αy) = α·f(y), so it cannot pin the overall intensity of an image; " +
            "on this data (mean m, small s) Algorithm 1 samples can end at any brightness along the ray through an image (see the grids), " +
            "which the per-pixel metric counts against them. A noise-conditioned network (unet-cond) has biases and is told σ, so it is not homogeneous " +
            "and can pin the intensity." +
            (comparison is null ? "" : $" Compared model: {comparison.Model}, trained on the same training sets with the same seeds and sampled the same way " +
                "(its numbers: compare-summary.csv, compare-measurements.csv)."),
            heading: "What was run");
        report.AddSettings(config, record.Describe());

        var rows = new JsonArray();
        foreach (var s in summaries)
        {
            rows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["p"] = s.ProbabilityDeltaPositive, ["set"] = primaryLabel });
            rows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["p"] = s.LawProbabilityDeltaPositive, ["set"] = "true-law reference" });
        }
        foreach (var s in comparison?.Summaries ?? [])
            rows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["p"] = s.ProbabilityDeltaPositive, ["set"] = comparison!.Model });
        report.AddFigure("p-delta-positive", "P(Δ > 0) vs n/d",
            "Fraction of runs in which the samples are closer (per-pixel KDE distance) to the original set than to the training set; " +
            "the dashed line marks n = d.",
            RatioLines(rows, "p", "P(Δ > 0)", (0, 1)));

        var deltaRows = new JsonArray();
        foreach (var m in measurements)
        {
            deltaRows.Add(new JsonObject { ["n_over_d"] = m.Ratio, ["n"] = m.TrainingCount, ["value"] = Finite(m.Delta), ["set"] = primaryLabel });
            deltaRows.Add(new JsonObject { ["n_over_d"] = m.Ratio, ["n"] = m.TrainingCount, ["value"] = Finite(m.LawDelta), ["set"] = "true-law reference" });
        }
        foreach (var m in comparison?.Measurements ?? [])
            deltaRows.Add(new JsonObject { ["n_over_d"] = m.Ratio, ["n"] = m.TrainingCount, ["value"] = Finite(m.Delta), ["set"] = comparison!.Model });
        report.AddFigure("delta", "Δ = E_TG − E_OG per run vs n/d",
            "Every run as a point, the mean as a line; Δ in units of 1/(image intensity) (a 1-D density squared, integrated).",
            VegaLiteCharts.Line(deltaRows, "n_over_d", "value", RatioAxis() with { YTitle = "Δ", PointsOnly = true, MeanLine = true }));

        var distRows = new JsonArray();
        foreach (var s in summaries)
        {
            distRows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["value"] = Finite(s.TrainDistance.Mean), ["set"] = "E_TG (training set)" });
            distRows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["value"] = Finite(s.OriginalDistance.Mean), ["set"] = "E_OG (original set)" });
        }
        report.AddFigure("distances", "E_TG and E_OG vs n/d", "Means over runs of the per-pixel KDE distances of the network samples.", RatioLines(distRows, "value", "distance", null));

        var nearRows = new JsonArray();
        foreach (var s in summaries)
            nearRows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["value"] = Finite(s.NearestRatio), ["set"] = comparison is null ? "nearest training / nearest fresh" : settings.Model });
        foreach (var s in comparison?.Summaries ?? [])
            nearRows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["value"] = Finite(s.NearestRatio), ["set"] = comparison!.Model });
        report.AddFigure("nearest", "Memorization: nearest-neighbour distance ratio vs n/d",
            "Median RMS distance of a sample to its nearest training image divided by that to its nearest image in a fresh set of the same size (mean over runs); " +
            "near 0: samples are copies of training images; near 1: no closer to the training set than to new data.",
            RatioLines(nearRows, "value", "ratio", null));

        foreach (var (n, path) in grids)
            report.AddImage($"grid-n{n}", string.Create(CultureInfo.InvariantCulture, $"n = {n} (n/d = {(double)n / settings.Dimension:G3}), run 0"),
                "Top row: training images; below: samples (values clamped to [0,1]).", path);

        AddSummaryTable(report, "summary", comparison is null ? "Per n" : $"Per n: {settings.Model}",
            "Mean ± standard deviation over runs (files: summary.csv, summary.json, measurements.csv).", summaries);
        if (comparison is not null)
            AddSummaryTable(report, "compare-summary", $"Per n: {comparison.Model}",
                "The compared model on the same training sets (files: compare-summary.csv, compare-measurements.csv).", comparison.Summaries);
        return report;
    }

    private static void AddSummaryTable(ReportBuilder report, string id, string title, string caption, IReadOnlyList<GaussianNetworkSummary> summaries) =>
        report.AddTable(id, title, caption,
            ["n", "n/d", "P(Δ>0)", "P(Δ>0) law", "E_TG", "E_OG", "Δ", "Δ law", "pixels Δ_i>0", "NN ratio", "sample std", "diverged"],
            summaries.Select(s => (IReadOnlyList<object?>)
            [
                s.TrainingCount, Math.Round(s.Ratio, 3), s.ProbabilityDeltaPositive, s.LawProbabilityDeltaPositive, Pm(s.TrainDistance), Pm(s.OriginalDistance),
                Pm(s.Delta), Pm(s.LawDelta), Math.Round(s.PositivePixelFraction, 3), Math.Round(s.NearestRatio, 3), Math.Round(s.SampleStd, 4), s.Diverged,
            ]));

    /// <summary>Lines per set against n/d on a log₂ axis, with n = d marked.</summary>
    private static LineChartOptions RatioAxis() => new()
    {
        XTitle = "n / d",
        LogX = true,
        LogXBase = 2,
        Color = "set",
        ColorTitle = null,
        VerticalRules = [1.0],
        Tooltip = [("n", null)],
        Width = 480,
        Height = 280,
    };

    private static JsonObject RatioLines(JsonArray rows, string field, string title, (double, double)? domain) =>
        VegaLiteCharts.Line(rows, "n_over_d", field, RatioAxis() with { YTitle = title, YDomain = domain });

    private static JsonNode? Finite(double v) => ResultJson.Finite(v);

    private static string Pm(Spread s) => double.IsNaN(s.Std)
        ? s.Mean.ToString("G4", CultureInfo.InvariantCulture)
        : $"{s.Mean.ToString("G4", CultureInfo.InvariantCulture)} ± {s.Std.ToString("G2", CultureInfo.InvariantCulture)}";
}
