using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis;
using MemGen.Images;
using MemGen.Reporting;

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
        TimeSpan elapsed, DateTimeOffset started)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(points);
        var report = new ReportBuilder("Memorization to generalization as the training set grows", settings.Describe());
        report.AddText(
            "For each training-set size N, two denoisers of the same architecture are trained on two disjoint subsets S1 (the first N " +
            "images of the pool) and S2 (the last N), then used as diffusion models: K samples are drawn from each with Algorithm 1, with the " +
            "same seeds, so sample i of both models starts from the same noise and receives the same injected noise. A model that memorizes " +
            "returns copies of its own training images, so the two models give different images. A model that generalizes learns the " +
            "underlying density, so two models trained on different images give nearly the same image for the same seed ([K24], docs/science.md §5, §8). " +
            "The empirical optimal denoiser of each subset (the optimum of the training loss, a pure memorizer) is sampled the same way as a baseline.\n\n" +
            $"Sampler: Algorithm 1, {(settings.SamplerVariant == Sampling.Algorithm1Variant.Code ? "reference-code variant (step h_t = h0·t/(1 + h0·(t−1)) growing toward 1, and one final denoising step f(y), which returns clean images rather than images with σ∞ of noise left)" : "paper variant (fixed step h0, returns the last iterate)")}, " +
            string.Create(CultureInfo.InvariantCulture, $"h0 = {settings.SamplerStep}, β = {settings.SamplerBeta}, σ0 = 1, σ∞ = {settings.SamplerFinalSigma}, at most {settings.SamplerMaxSteps} steps; ") +
            "every model starts from the mean image of S1 ∪ S2 plus the seed's noise. Similarities are cosine similarities after removing each " +
            "image's mean (plain cosine similarities are in the CSV files).",
            heading: "What this shows");
        report.AddText(TransitionPoint.Criterion + "\n\n" + string.Join("\n\n", points.Select(p => p.Verdict)), heading: "Verdict per N");
        report.AddSettings(config, elapsed, started);

        report.AddTable("summary", "Summary per N",
            "Medians over samples. S1–S2: similarity of the two networks' samples of the same seed; nearest: similarity of each sample to the most similar image of " +
            "its own training set; copies: fraction of samples that are copies of a training image (criterion below); reference: similarity of each S1 image to its nearest S2 image; gap: mean over σ of " +
            "train − test PSNR (S1 and S2 networks averaged); NN search: rate of the exact nearest-neighbour searches (blocked matrix products, all metrics, sample × training-image pairs per second; includes setup, so small N understate it). Files: summary.csv, summary.json, n-N/*.",
            ["N", "regime", "S1–S2", "nearest", "copies", "reference", "PSNR gap (dB)", "optimal S1–S2", "optimal nearest", "diverged", "training (s)", "NN search (pairs/s)"],
            points.Select(p => (IReadOnlyList<object?>)
            [
                p.N, p.Regime.ToString().ToLowerInvariant(), R(p.Network.Cross.Median), R(p.Network.Nearest.Median), P(p.FractionMemorized),
                R(SimilaritySummary.Of(p.NearestPairCenteredCosine).Median), R(p.PsnrGap), R(p.Optimal.Cross.Median), R(p.Optimal.Nearest.Median),
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
            "Mean over the noise levels of train PSNR − test PSNR, for the S1 and S2 networks and the empirical optimal denoiser of S1 ([K24] Fig 15). " +
            "It falls toward 0 as the networks pass from memorization to generalization; the empirical optimal denoiser keeps a large gap at every N.",
            GapChart(points));
        report.AddFigure("similarity-histograms", "Similarity histograms per N",
            "Fraction of samples per similarity bin: S1 vs S2 network samples of the same seed; each network sample vs the most similar image of its own " +
            "training set; and the reference, each S1 image vs its most similar S2 image. Memorization: samples sit at similarity ≈ 1 to a training " +
            "image and the S1–S2 similarity is low. Generalization: the S1–S2 similarity moves to ≈ 1, above both other distributions ([K24] Fig 2).",
            HistogramChart(points));
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
        var x = new JsonObject { ["field"] = "input_psnr", ["type"] = "quantitative", ["title"] = "input PSNR (dB)" };
        var y = new JsonObject { ["field"] = "output_psnr", ["type"] = "quantitative", ["title"] = "output PSNR (dB)" };
        return new JsonObject
        {
            ["data"] = new JsonObject { ["values"] = values },
            ["facet"] = new JsonObject { ["field"] = "N", ["type"] = "ordinal", ["title"] = "N (images per subset)" },
            ["columns"] = Math.Min(4, Math.Max(1, points.Count)),
            ["spec"] = new JsonObject
            {
                ["width"] = 220,
                ["height"] = 200,
                ["layer"] = new JsonArray(
                    new JsonObject
                    {
                        ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
                        ["encoding"] = new JsonObject
                        {
                            ["x"] = x.DeepClone(),
                            ["y"] = y.DeepClone(),
                            ["color"] = new JsonObject { ["field"] = "set", ["type"] = "nominal", ["title"] = "images", ["scale"] = new JsonObject { ["domain"] = new JsonArray("train", "test"), ["range"] = new JsonArray("#d62728", "#1f77b4") } },
                            ["strokeDash"] = new JsonObject
                            {
                                ["field"] = "model",
                                ["type"] = "nominal",
                                ["title"] = "denoiser",
                                ["legend"] = new JsonObject { ["symbolType"] = "stroke", ["symbolStrokeWidth"] = 2, ["symbolSize"] = 300 },
                            },
                            ["tooltip"] = new JsonArray(
                                new JsonObject { ["field"] = "model" }, new JsonObject { ["field"] = "set" },
                                new JsonObject { ["field"] = "input_psnr", ["format"] = ".2f" }, new JsonObject { ["field"] = "output_psnr_exact", ["format"] = ".2f" }),
                        },
                    },
                    new JsonObject
                    {
                        ["mark"] = new JsonObject { ["type"] = "line", ["color"] = "gray", ["strokeDash"] = new JsonArray(2, 2) },
                        ["encoding"] = new JsonObject { ["x"] = x.DeepClone(), ["y"] = new JsonObject { ["field"] = "input_psnr", ["type"] = "quantitative" } },
                    }),
            },
        };
    }

    private static JsonObject GapChart(IReadOnlyList<TransitionPoint> points)
    {
        var values = new JsonArray();
        foreach (var p in points)
        {
            foreach (var (model, gap) in new[] { ("S1 network", p.CurveS1.Gap), ("S2 network", p.CurveS2.Gap), ("optimal (S1)", p.CurveOptimal.Gap) })
                values.Add(new JsonObject { ["N"] = p.N, ["model"] = model, ["gap"] = J(gap) });
        }
        return new JsonObject
        {
            ["width"] = 480,
            ["height"] = 280,
            ["data"] = new JsonObject { ["values"] = values },
            ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
            ["encoding"] = new JsonObject
            {
                ["x"] = new JsonObject { ["field"] = "N", ["type"] = "quantitative", ["title"] = "N (images per subset)", ["scale"] = new JsonObject { ["type"] = "log" } },
                ["y"] = new JsonObject { ["field"] = "gap", ["type"] = "quantitative", ["title"] = "PSNR gap, train − test (dB)" },
                ["color"] = new JsonObject { ["field"] = "model", ["type"] = "nominal", ["title"] = "denoiser" },
                ["tooltip"] = new JsonArray(new JsonObject { ["field"] = "N" }, new JsonObject { ["field"] = "model" }, new JsonObject { ["field"] = "gap", ["format"] = ".2f" }),
            },
        };
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
                ("S1 vs S2 sample (same seed)", (IEnumerable<double>)family.CrossCenteredCosine),
                ("sample vs nearest own training image", family.NearestCenteredCosineS1.Concat(family.NearestCenteredCosineS2)),
                ("reference: S1 image vs nearest S2 image", p.NearestPairCenteredCosine),
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
                        ["base"] = 0.0,
                    });
                }
            }
        }
        return new JsonObject
        {
            ["data"] = new JsonObject { ["values"] = values },
            ["facet"] = new JsonObject { ["row"] = new JsonObject { ["field"] = "N", ["type"] = "ordinal", ["title"] = "N (images per subset)" } },
            ["spec"] = new JsonObject
            {
                ["width"] = 520,
                ["height"] = 110,
                ["mark"] = new JsonObject { ["type"] = "bar", ["opacity"] = 0.55 },
                ["encoding"] = new JsonObject
                {
                    ["x"] = new JsonObject { ["field"] = "lo", ["type"] = "quantitative", ["title"] = "similarity (mean-removed cosine)", ["scale"] = new JsonObject { ["domain"] = new JsonArray(BinStart, 1.0) } },
                    ["x2"] = new JsonObject { ["field"] = "hi" },
                    ["y"] = new JsonObject { ["field"] = "fraction", ["type"] = "quantitative", ["title"] = "fraction", ["stack"] = null },
                    ["y2"] = new JsonObject { ["field"] = "base" },
                    ["color"] = new JsonObject
                    {
                        ["field"] = "quantity",
                        ["type"] = "nominal",
                        ["title"] = null,
                        ["legend"] = new JsonObject { ["labelLimit"] = 400, ["orient"] = "top", ["direction"] = "vertical" },
                        ["scale"] = new JsonObject
                        {
                            ["domain"] = new JsonArray("S1 vs S2 sample (same seed)", "sample vs nearest own training image", "reference: S1 image vs nearest S2 image"),
                            ["range"] = new JsonArray("#1f77b4", "#d62728", "#7f7f7f"),
                        },
                    },
                    ["tooltip"] = new JsonArray(new JsonObject { ["field"] = "quantity" }, new JsonObject { ["field"] = "lo" }, new JsonObject { ["field"] = "fraction", ["format"] = ".2f" }),
                },
            },
        };
    }
}
