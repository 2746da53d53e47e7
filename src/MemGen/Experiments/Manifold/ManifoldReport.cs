using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis;
using MemGen.Experiments.Kit;
using MemGen.Images;
using MemGen.Reporting;
using MemGen.Results;

namespace MemGen.Experiments.Manifold;

/// <summary>The report of the manifold experiment ([K24] §3.2).</summary>
public static class ManifoldReport
{
    /// <summary>Builds the report: what was run, the PSNR curves, the eigenvalues, the tangent-space cosines, the count of eigenvalues &gt; ½ vs σ and the eigenvector grid.</summary>
    public static ReportBuilder Build(ManifoldResult result, string gridPath, JsonObject config, RunRecord record)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentNullException.ThrowIfNull(record);
        var s = result.Settings;
        int k = s.ManifoldDimension;
        string I(FormattableString f) => f.ToString(CultureInfo.InvariantCulture);
        var report = new ReportBuilder($"Optimality on a known manifold: {s.Kind}",
            I($"[K24] §3.2 · {s.Size}×{s.Size} (d = {s.Dimension}) · k = {k} · {s.Model} · {s.TrainingCount} training images"));
        report.AddText(
            I($"Images of a {k}-dimensional manifold ({Describe(s)}). A blind bias-free network ({s.Model}) was trained on {s.TrainingCount} of them ") +
            I($"({s.TrainingBudget} images seen). On {s.TestImages} fresh images its denoising curve is compared with the oracle's, ") +
            I($"{ManifoldExperiment.OracleDescription(s.Kind)}, measured on the first {s.OracleImages} of them, and with the small-σ line of an ideal ") +
            I($"projection onto the tangent space, PSNR_in + 10·log10(d/k) = PSNR_in + {10 * Math.Log10((double)s.Dimension / k):F1} dB. ") +
            I($"At {s.JacobianPoints} fresh manifold points x, the exact Jacobian of the network at y = x + σz gives the eigenvalues of its symmetric part ") +
            I($"(σ = {s.JacobianSigma}: an optimal denoiser has k = {k} eigenvalues near 1 — its adaptive basis contains the tangent space — and the rest near 0), ") +
            "the cosines of the principal angles between the span of its top-k eigenvectors and the tangent space at x (near 1: the tangent space is spanned), " +
            "and the number of eigenvalues > ½ against σ. " +
            "PSNR is averaged per image, so even an exact projection onto a k-dimensional tangent space lies above the line by " +
            "−10·E[log10(χ²_k/k)] at small σ (5.5 dB for k = 1, 2.5 dB for k = 2, 0.9 dB for k = 5).",
            heading: "What is measured");
        report.AddSettings(config, record.Describe());

        var rows = new JsonArray();
        for (int i = 0; i < result.Sigmas.Length; i++)
        {
            double input = ImageStatistics.InputPsnr(result.Sigmas[i]);
            rows.Add(Row(input, result.Network.Psnr[i], I($"network ({result.Network.Images} images)"), "measured", result.Sigmas[i]));
            rows.Add(Row(input, result.Oracle.Psnr[i], I($"oracle ({result.Oracle.Images} images)"), "measured", result.Sigmas[i]));
            rows.Add(Row(input, ManifoldOracle.Psnr(input, s.Dimension, k), I($"PSNR_in + 10·log10(d/{k})"), "reference", result.Sigmas[i]));
        }
        report.AddFigure("curves", "Denoising curves: network, oracle and the manifold line",
            "Output PSNR against input PSNR on fresh images of the manifold; grey dashed: the identity. The oracle's advantage over the network at small σ " +
            "is the network's distance from optimality; the reference line is what any denoiser that keeps exactly the k tangent directions reaches at small σ.",
            VegaLiteCharts.Line(rows, "input_psnr", "output_psnr", new LineChartOptions
            {
                XTitle = "input PSNR (dB)",
                YTitle = "output PSNR (dB)",
                Color = "curve",
                ColorTitle = null,
                StrokeDash = "kind",
                StrokeDashTitle = "line",
                Diagonal = true,
                Tooltip = [("sigma", ".4g")],
                Width = 520,
                Height = 340,
            }));

        var at = result.AtJacobianSigma;
        var eigRows = new JsonArray();
        foreach (var j in at)
            for (int i = 0; i < j.TopEigenvalues.Length; i++)
                eigRows.Add(new JsonObject { ["index"] = i + 1, ["eigenvalue"] = j.TopEigenvalues[i], ["set"] = "network", ["point"] = j.Point });
        report.AddFigure("eigenvalues", I($"Top eigenvalues of the Jacobian at σ = {s.JacobianSigma}"),
            I($"Each point: one manifold point; line: mean over the {at.Count} points. The dashed rule marks index k = {k}: an optimal denoiser has k eigenvalues near 1 then a gap."),
            VegaLiteCharts.Line(eigRows, "index", "eigenvalue", new LineChartOptions
            {
                XTitle = "eigenvalue index",
                YTitle = "λ",
                Color = "set",
                ColorTitle = null,
                PointsOnly = true,
                MeanLine = true,
                VerticalRules = [k + 0.5],
                Tooltip = [("point", null)],
                Width = 480,
                Height = 280,
            }));

        var countRows = new JsonArray();
        foreach (var g in result.Jacobians.GroupBy(j => j.Sigma).OrderBy(g => g.Key))
        {
            countRows.Add(new JsonObject { ["sigma"] = g.Key, ["count"] = g.Average(j => j.AboveHalf), ["series"] = "network: eigenvalues > ½ (mean over points)" });
            countRows.Add(new JsonObject { ["sigma"] = g.Key, ["count"] = k, ["series"] = I($"k = {k}") });
        }
        report.AddFigure("count", "Eigenvalues > ½ against σ",
            "The number of eigenvalues of the Jacobian's symmetric part above ½ (the dimensions the denoiser keeps), mean over the manifold points, against the noise level; " +
            "an optimal denoiser of the manifold keeps k at small σ.",
            VegaLiteCharts.Line(countRows, "sigma", "count", new LineChartOptions
            {
                XTitle = "σ",
                YTitle = "eigenvalues > ½",
                YDomain = (0, Math.Max(k, result.Jacobians.Max(j => j.AboveHalf)) + 1),
                LogX = true,
                Color = "series",
                ColorTitle = null,
                Width = 480,
                Height = 260,
            }));

        var mean = result.MeanTopEigenvalues;
        report.AddTable("tangent", I($"Tangent space at σ = {s.JacobianSigma}"),
            I($"Per manifold point: the principal-angle cosines between the top-{k} eigenvectors and the tangent space, their mean, the top eigenvalues and the count > ½. ") +
            I($"Mean over points: cosine {F(result.MeanCosine)}; eigenvalues {string.Join(", ", mean.Take(k + 4).Select(F))}. Files: jacobian.csv, curves.csv."),
            ["point", "cosines", "mean cosine", k == 1 ? "λ_1" : I($"λ_1 … λ_{k}"), I($"λ_{k + 1} … λ_{k + 4}"), "λ > ½", "tr J"],
            at.Select(j => (IReadOnlyList<object?>)
            [
                j.Point, string.Join(", ", j.Cosines.Select(F)), F(j.MeanCosine),
                string.Join(", ", j.TopEigenvalues.Take(k).Select(F)), string.Join(", ", j.TopEigenvalues.Skip(k).Take(4).Select(F)), j.AboveHalf, F(j.Trace),
            ]));

        report.AddImage("eigenvectors", I($"Adaptive basis at point 0, σ = {s.JacobianSigma}"),
            I($"First row: the clean manifold image, the noisy image, the network's output. Second row: the manifold's {k} tangent vectors (each scaled to its own range). ") +
            I($"Below: the top {ManifoldExperiment.TopEigenvalues} eigenvectors of the Jacobian's symmetric part."),
            gridPath);

        report.AddTable("curve-table", "PSNR curves", "Output PSNR (dB) of the network (all fresh images and the oracle's subset), of the oracle, and the reference line.",
            ["σ", "input PSNR", "network", "network (oracle images)", "oracle", "PSNR_in + 10·log10(d/k)"],
            Enumerable.Range(0, result.Sigmas.Length).Select(i => (IReadOnlyList<object?>)
            [
                Math.Round(result.Sigmas[i], 4), F(ImageStatistics.InputPsnr(result.Sigmas[i])), F(result.Network.Psnr[i]), F(result.NetworkOnOracleImages.Psnr[i]),
                F(result.Oracle.Psnr[i]), F(ManifoldOracle.Psnr(ImageStatistics.InputPsnr(result.Sigmas[i]), s.Dimension, k)),
            ]));
        return report;
    }

    private static string Describe(ManifoldSettings s) => s.Kind switch
    {
        "disks" => "disks with exact pixel areas: centre, radius, foreground and background intensity",
        "sinusoids" => "sinusoids of fixed frequency: amplitude and phase",
        _ => $"one image times a uniform scale, the image being the first of {s.RaySourceSpec}",
    };

    private static JsonObject Row(double input, double output, string curve, string kind, double sigma) =>
        new() { ["input_psnr"] = input, ["output_psnr"] = ResultJson.Finite(output), ["curve"] = curve, ["kind"] = kind, ["sigma"] = sigma };

    private static string F(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "–";
}
