using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis;
using MemGen.Experiments.Kit;
using MemGen.Images;
using MemGen.Reporting;
using MemGen.Results;

namespace MemGen.Experiments.Transition;

/// <summary>The report of a transition experiment: verdicts, paper-style figures ([K24] Fig 1, 2, 15), image grids and tables.</summary>
public static class TransitionReport
{
    /// <summary>Width of the histogram bins of the similarity figures.</summary>
    public const double BinWidth = 0.05;

    /// <summary>Lower end of the histograms; smaller similarities are counted in the first bin.</summary>
    public const double BinStart = -0.2;

    /// <summary>Output PSNRs above this are drawn at it (the empirical optimal denoiser recovers its training images almost exactly).</summary>
    public const double PsnrCeiling = 60;

    /// <summary>Builds the report (grids are read from each N's folder in <paramref name="runDirectory"/>).</summary>
    public static ReportBuilder Build(TransitionSettings settings, JsonObject config, IReadOnlyList<TransitionPoint> points, string runDirectory,
        RunRecord record)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(points);
        var report = new ReportBuilder("Memorization to generalization as the training set grows", settings.Describe());
        report.AddText(
            "For each training-set size N, two denoisers of the same architecture are trained on two disjoint subsets S1 (the first N " +
            "images of the pool) and S2 (the last N), then used as diffusion models: K samples are drawn from each with the " +
            "same seeds, so sample i of both models starts from the same noise (and, with Algorithm 1, receives the same injected noise). A model that memorizes " +
            "returns copies of its own training images, so the two models give different images. A model that generalizes learns the " +
            "underlying density, so two models trained on different images give nearly the same image for the same seed ([K24], docs/science.md §5.3, §8.1). " +
            "The empirical optimal denoiser of each subset (the optimum of the training loss, a pure memorizer) is sampled the same way as a baseline.\n\n" +
            $"Sampler: {settings.SamplerSpec.Explain()}; " +
            (settings.Start == "gaussian"
                ? "every model starts from the Gaussian of S1 ∪ S2 at the first noise level, m + (Σ + σ0²I)^½·z with m and Σ their mean image and covariance " +
                  "and z the seed's noise (docs/science.md §3.4). "
                : "every model starts from the mean image of S1 ∪ S2 plus the seed's noise. ") +
            "Similarities are cosine similarities after removing each " +
            "image's mean (plain cosine similarities are in the CSV files).",
            heading: "What this shows");
        report.AddText(TransitionPoint.Criterion + "\n\n" + string.Join("\n\n", points.Select(p => p.Verdict)), heading: "Verdict per N");
        report.AddSettings(config, record.Describe());

        report.AddTable("summary", "Summary per N",
            "Medians over samples. S1–S2: similarity of the two networks' samples of the same seed; nearest: similarity of each sample to the most similar image of " +
            "its own training set; copies: fraction of samples that are copies of a training image (criterion below); reference: similarity of each S1 image to its nearest S2 image; gap: mean over σ of " +
            "train − test PSNR (S1 and S2 networks averaged); held-out: similarity of each held-out test image to its nearest training image (a generalizing " +
            "sample should sit about as close to the training set as a real unseen image); HF power: high-frequency power of the samples relative to the training " +
            "images (radially averaged spectrum, top half of the frequencies; below 1 = blurrier than the data); brightness and contrast: the samples' mean pixel value and pixel standard deviation relative to the training images' (below 1 = dimmer, flatter; similarity is blind to both); NN search: rate of the exact nearest-neighbour " +
            "searches (blocked matrix products, all metrics, sample × training-image pairs per second; includes setup, so small N understate it). Files: summary.csv, summary.json, n-N/*.",
            ["N", "regime", "S1–S2", "nearest", "held-out", "copies", "HF power", "brightness", "contrast", "reference", "PSNR gap (dB)", "optimal S1–S2", "optimal nearest", "diverged", "training (s)", "NN search (pairs/s)"],
            points.Select(p => (IReadOnlyList<object?>)
            [
                p.N, p.Regime.ToString().ToLowerInvariant(), R(p.Network.Cross.Median), R(p.Network.Nearest.Median), R(p.HeldOutNearestMedian), P(p.FractionMemorized),
                R(p.HighFrequencyRatio), R(p.IntensityRatio), R(p.ContrastRatio), R(SimilaritySummary.Of(p.NearestPairCenteredCosine).Median), R(p.PsnrGap), R(p.Optimal.Cross.Median), R(p.Optimal.Nearest.Median),
                p.Network.Diverged, double.IsFinite(p.TrainingSeconds) ? Math.Round(p.TrainingSeconds) : null,
                double.IsFinite(p.SearchPairsPerSecond) ? p.SearchPairsPerSecond.ToString("G3", CultureInfo.InvariantCulture) : null,
            ]));

        report.AddFigure("denoising-curves", "Denoising curves: training vs test images, per N",
            "Output PSNR vs input PSNR (−20·log10 σ) of the S1 and S2 networks on their own training images and on held-out test images " +
            $"({settings.EvalImages} each at most), and of the empirical optimal denoiser of S1. A memorizing network denoises its training images far better than " +
            "test images; as N grows the two curves meet ([K24] Fig 1). The dotted line is the identity (no denoising). Values above 60 dB are drawn at 60 dB " +
            "(the empirical optimal denoiser recovers its own training images almost exactly; exact values in the tooltips and curve-*.csv).",
            CurvesChart(points));
        report.AddFigure("psnr-gap", "PSNR gap vs N",
            "Mean over the noise levels of train PSNR − test PSNR ([K24] Fig 15). Left: the S1 and S2 networks; it falls toward 0 as they pass from " +
            "memorization to generalization. Right, on its own axis: the empirical optimal denoiser of S1, a pure memorizer, which keeps a large gap at every N.",
            GapChart(points));
        report.AddFigure("similarity-histograms", "Similarity histograms per N",
            "Fraction of samples per similarity bin: S1 vs S2 network samples of the same seed; each network sample vs the most similar image of its own " +
            "training set; and the reference, each S1 image vs its most similar S2 image. Memorization: samples sit at similarity ≈ 1 to a training " +
            "image and the S1–S2 similarity is low. Generalization: the S1–S2 similarity moves to ≈ 1, above both other distributions ([K24] Fig 2). " +
            "The dashed line is the median similarity of held-out test images to their nearest training image: samples of a model that generalizes well sit " +
            "near it (as close to the training set as real unseen images); samples far below it are not yet on the image manifold.",
            HistogramChart(points));
        report.AddFigure("power-spectrum", "Sample quality: radially averaged power spectrum per N",
            "Mean power of the mean-removed images at each spatial frequency (radius in cycles per pixel; log scale) for the networks' samples and for their " +
            "training images. Blurry samples fall below the training images at high frequencies; the table's HF power is the ratio over the top half of the frequencies.",
            SpectrumChart(points));
        report.AddFigure("optimal-histograms", "Baseline: the empirical optimal denoisers",
            "The same histograms for samples of the empirical optimal denoisers of S1 and S2 (pure memorizers): their samples are training images at every N.",
            HistogramChart(points, optimal: true));

        foreach (var p in points)
        {
            var grid = Path.Combine(TransitionExperiment.PointDirectory(runDirectory, p.N), "grid.png");
            if (!File.Exists(grid)) continue;
            report.AddImage($"grid-n{p.N}", $"Samples for N = {p.N} ({p.Regime.ToString().ToLowerInvariant()})",
                $"One row per seed: the S1 network's sample, the S2 network's sample (same seed), then the most similar training image of each in its own " +
                $"training set. Median S1–S2 similarity {p.Network.Cross.Median:F3}, median similarity to the nearest training image {p.Network.Nearest.Median:F3}.",
                grid);
        }

        report.AddTable("psnr-table", "Train and test PSNR at each σ",
            "Output PSNR (dB) of the networks, S1 and S2 averaged, on training (train) and held-out test images (test), at each noise level.",
            ["σ·255", "input PSNR", .. points.SelectMany(p => new[] { $"N={p.N} train", $"N={p.N} test" })],
            points.Count == 0 ? [] : Enumerable.Range(0, points[0].Sigmas.Length).Select(k => (IReadOnlyList<object?>)
            [
                Math.Round(points[0].Sigmas[k] * 255, 2), Math.Round(ImageStatistics.InputPsnr(points[0].Sigmas[k]), 2),
                .. points.SelectMany(p => new object?[]
                {
                    R((p.CurveS1.TrainPsnr[k] + p.CurveS2.TrainPsnr[k]) / 2), R((p.CurveS1.TestPsnr[k] + p.CurveS2.TestPsnr[k]) / 2),
                }),
            ]));
        return report;
    }

    private static object? R(double v) => double.IsFinite(v) ? Math.Round(v, 3) : null;

    private static object? P(double v) => double.IsFinite(v) ? v.ToString("P0", CultureInfo.InvariantCulture) : "n/a";

    private static JsonNode? J(double v) => ResultJson.Finite(v);

    private static JsonObject CurvesChart(IReadOnlyList<TransitionPoint> points)
    {
        var values = new JsonArray();
        foreach (var p in points)
        {
            for (int k = 0; k < p.Sigmas.Length; k++)
            {
                double input = ImageStatistics.InputPsnr(p.Sigmas[k]);
                foreach (var (model, curve) in new[] { ("S1 network", p.CurveS1), ("S2 network", p.CurveS2), ("optimal (S1)", p.CurveOptimal) })
                {
                    values.Add(Row(p.N, model, "train", input, curve.TrainPsnr[k]));
                    values.Add(Row(p.N, model, "test", input, curve.TestPsnr[k]));
                }
            }
        }
        static JsonObject Row(int n, string model, string set, double input, double output) => new()
        {
            ["N"] = n,
            ["model"] = model,
            ["set"] = set,
            ["input_psnr"] = input,
            ["output_psnr"] = J(Math.Min(output, PsnrCeiling)),
            ["output_psnr_exact"] = J(output),
        };
        return VegaLiteCharts.Line(values, "input_psnr", "output_psnr", new LineChartOptions
        {
            XTitle = "input PSNR (dB)",
            YTitle = "output PSNR (dB)",
            Color = "set",
            ColorTitle = "images",
            ColorDomain = ["train", "test"],
            ColorRange = ["#d62728", "#1f77b4"],
            StrokeDash = "model",
            StrokeDashTitle = "denoiser",
            Diagonal = true,
            Facet = "N",
            FacetTitle = "N (images per subset)",
            FacetColumns = Math.Min(4, Math.Max(1, points.Count)),
            Tooltip = [("output_psnr_exact", ".2f")],
            Width = 220,
            Height = 200,
        });
    }

    private static JsonObject GapChart(IReadOnlyList<TransitionPoint> points)
    {
        const string networks = "trained networks", optimal = "empirical optimal denoiser (own axis)";
        var values = new JsonArray();
        foreach (var p in points)
        {
            foreach (var (model, gap, panel) in new[] { ("S1 network", p.CurveS1.Gap, networks), ("S2 network", p.CurveS2.Gap, networks), ("optimal (S1)", p.CurveOptimal.Gap, optimal) })
                values.Add(new JsonObject { ["N"] = p.N, ["model"] = model, ["gap"] = J(gap), ["panel"] = panel });
        }
        return VegaLiteCharts.Line(values, "N", "gap", new LineChartOptions
        {
            XTitle = "N (images per subset)",
            YTitle = "PSNR gap, train − test (dB)",
            LogX = true,
            Color = "model",
            ColorTitle = "denoiser",
            Facet = "panel",
            FacetTitle = "",
            FacetOrder = [networks, optimal],
            FacetColumns = 2,
            IndependentScales = true,
            Width = 320,
            Height = 260,
        });
    }

    private static JsonObject SpectrumChart(IReadOnlyList<TransitionPoint> points)
    {
        var values = new JsonArray();
        foreach (var p in points)
        {
            if (p.SampleSpectrum is not { } samples || p.TrainingSpectrum is not { } training) continue;
            int s = 2 * (samples.Length - 1);
            for (int k = 1; k < samples.Length; k++)
            {
                double radius = (double)k / Math.Max(1, s);
                values.Add(new JsonObject { ["N"] = p.N, ["images"] = "network samples", ["radius"] = radius, ["power"] = J(samples[k] > 0 ? samples[k] : double.NaN) });
                values.Add(new JsonObject { ["N"] = p.N, ["images"] = "training images", ["radius"] = radius, ["power"] = J(training[k] > 0 ? training[k] : double.NaN) });
            }
        }
        return VegaLiteCharts.Line(values, "radius", "power", new LineChartOptions
        {
            XTitle = "spatial frequency (cycles per pixel)",
            YTitle = "mean power",
            LogY = true,
            Color = "images",
            ColorTitle = null,
            ColorDomain = ["network samples", "training images"],
            ColorRange = ["#1f77b4", "#7f7f7f"],
            Facet = "N",
            FacetTitle = "N (images per subset)",
            FacetColumns = Math.Min(4, Math.Max(1, points.Count)),
            Width = 200,
            Height = 170,
        });
    }

    /// <summary>Fractions of <paramref name="values"/> per bin [BinStart + k·BinWidth, +BinWidth) up to 1 (values below the range go to the first bin).</summary>
    public static double[] Histogram(IEnumerable<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        int bins = (int)Math.Round((1 - BinStart) / BinWidth);
        var counts = new double[bins];
        int total = 0;
        foreach (var v in values)
        {
            if (!double.IsFinite(v)) continue;
            int k = Math.Clamp((int)Math.Floor((v - BinStart) / BinWidth), 0, bins - 1);
            counts[k]++;
            total++;
        }
        if (total > 0)
            for (int k = 0; k < bins; k++) counts[k] /= total;
        return counts;
    }

    private static JsonObject HistogramChart(IReadOnlyList<TransitionPoint> points, bool optimal = false)
    {
        var values = new JsonArray();
        foreach (var p in points)
        {
            var family = optimal ? p.Optimal : p.Network;
            var groups = new[]
            {
                (s_histogramGroups[0], (IEnumerable<double>)family.CrossCenteredCosine),
                (s_histogramGroups[1], family.NearestCenteredCosineS1.Concat(family.NearestCenteredCosineS2)),
                (s_histogramGroups[2], p.NearestPairCenteredCosine),
            };
            foreach (var (name, data) in groups)
            {
                var h = Histogram(data);
                for (int k = 0; k < h.Length; k++)
                {
                    values.Add(new JsonObject
                    {
                        ["N"] = p.N,
                        ["quantity"] = name,
                        ["lo"] = Math.Round(BinStart + k * BinWidth, 6),
                        ["hi"] = Math.Round(BinStart + (k + 1) * BinWidth, 6),
                        ["fraction"] = h[k],
                    });
                }
            }
        }
        var references = new JsonArray();
        if (!optimal)
            foreach (var p in points.Where(p => double.IsFinite(p.HeldOutNearestMedian)))
                references.Add(new JsonObject { ["N"] = p.N, ["x"] = p.HeldOutNearestMedian, ["label"] = "held-out images vs nearest training image (median)" });
        return VegaLiteCharts.Histogram(values, new HistogramChartOptions
        {
            Group = "quantity",
            GroupDomain = s_histogramGroups,
            GroupRange = ["#1f77b4", "#d62728", "#7f7f7f"],
            FacetRow = "N",
            FacetTitle = "N (images per subset)",
            XTitle = "similarity (mean-removed cosine)",
            XDomain = (BinStart, 1.0),
        }, references);
    }

    private static readonly string[] s_histogramGroups =
        ["S1 vs S2 sample (same seed)", "sample vs nearest own training image", "reference: S1 image vs nearest S2 image"];
}
