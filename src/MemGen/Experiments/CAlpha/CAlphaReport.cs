using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Experiments.Kit;
using MemGen.Reporting;
using MemGen.Results;

namespace MemGen.Experiments.CAlpha;

/// <summary>The report of the calpha experiment ([K24] §3.1).</summary>
public static class CAlphaReport
{
    /// <summary>Builds the report: what was run, the curves with the optimal slopes, the slope table and the eigenvector grids.</summary>
    public static ReportBuilder Build(CAlphaSettings settings, IReadOnlyList<CAlphaMeasurement> measurements, JsonObject config, RunRecord record)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(measurements);
        ArgumentNullException.ThrowIfNull(record);
        var beta = settings.Beta is double b ? string.Create(CultureInfo.InvariantCulture, $"β = {b}") : "β = α";
        var report = new ReportBuilder("Optimality on Cα images: PSNR slope vs α/(α+1)",
            string.Create(CultureInfo.InvariantCulture, $"[K24] §3.1 · {settings.Size}×{settings.Size} · {settings.Model} · {settings.TrainingCount} training images per α · {beta}"));
        var fit = settings.Fit;
        report.AddText(
            string.Create(CultureInfo.InvariantCulture,
                $"Cα images: two power-law backgrounds ({beta}) separated by a contour of regularity α. For each α a blind bias-free network ") +
            string.Create(CultureInfo.InvariantCulture,
                $"({settings.Model}) was trained on {settings.TrainingCount} Cα images ({settings.TrainingBudget} images seen), and its denoising curve measured on ") +
            string.Create(CultureInfo.InvariantCulture,
                $"{settings.TestImages} fresh Cα images at {settings.Sigmas.Length} noise levels σ = {settings.Sigmas.Min():G3} … {settings.Sigmas.Max():G3}. ") +
            "The optimal denoiser of Cα images has PSNR_out growing with slope α/(α+1) in PSNR_in. " +
            string.Create(CultureInfo.InvariantCulture,
                $"Slope rule: among all runs of ≥ {fit.MinPoints} consecutive σ, the longest whose least-squares line passes within {fit.ResidualTolerance} dB of every point ") +
            string.Create(CultureInfo.InvariantCulture,
                $"and whose slope lies in [{fit.MinSlope}, {fit.MaxSlope}]; this leaves out the small-σ bend toward slope 1 and the large-σ saturation without choosing a range by hand. ") +
            "The table gives the σ range used and the fit's residual.",
            heading: "What is measured");
        report.AddSettings(config, record.Describe());

        var rows = new JsonArray();
        foreach (var m in measurements)
        {
            string label = CAlphaExperiment.Label(m.Alpha);
            for (int k = 0; k < m.Sigmas.Length; k++)
                rows.Add(new JsonObject { ["input_psnr"] = m.InputPsnr[k], ["output_psnr"] = ResultJson.Finite(m.OutputPsnr[k]), ["alpha"] = label, ["line"] = "network", ["sigma"] = m.Sigmas[k] });
            if (!m.Fit.Found) continue;
            // The optimal slope drawn through the centre of the fitted run, over that run widened by 3 dB each side.
            double xc = 0.5 * (m.Fit.MinInputPsnr + m.Fit.MaxInputPsnr), yc = m.Fit.Intercept + m.Fit.Slope * xc;
            foreach (var x in new[] { m.Fit.MinInputPsnr - 3, m.Fit.MaxInputPsnr + 3 })
                rows.Add(new JsonObject { ["input_psnr"] = x, ["output_psnr"] = yc + m.OptimalSlope * (x - xc), ["alpha"] = label, ["line"] = "optimal slope α/(α+1)", ["sigma"] = Math.Pow(10, -x / 20) });
        }
        report.AddFigure("curves", "Denoising curves per α with the optimal slopes",
            "Output PSNR of each α's network on fresh Cα images (solid, points) against input PSNR; dashed: a line of the optimal slope α/(α+1) through the " +
            "centre of the fitted straight part; grey dashed: the identity (PSNR_out = PSNR_in).",
            VegaLiteCharts.Line(rows, "input_psnr", "output_psnr", new LineChartOptions
            {
                XTitle = "input PSNR (dB)",
                YTitle = "output PSNR (dB)",
                Color = "alpha",
                ColorTitle = "α",
                StrokeDash = "line",
                StrokeDashTitle = "line",
                Diagonal = true,
                Points = false,
                Tooltip = [("sigma", ".4g")],
                Width = 560,
                Height = 380,
            }));

        report.AddTable("slopes", "Fitted vs optimal slope",
            "Files: slopes.csv, slopes.json (fit details), curves.csv, curves.json. Points: σ levels in the fitted run; excluded: levels left out at the small-σ / large-σ end.",
            ["α", "fitted slope", "optimal α/(α+1)", "difference", "σ range of fit", "points", "RMS residual (dB)", "max residual (dB)", "excluded small σ / large σ"],
            measurements.Select(m => (IReadOnlyList<object?>)
            [
                m.Alpha, R(m.Fit.Slope), R(m.OptimalSlope), R(m.Difference),
                m.Fit.Found ? string.Create(CultureInfo.InvariantCulture, $"{m.Fit.MinSigma:G3} – {m.Fit.MaxSigma:G3}") : "no straight run",
                m.Fit.Points, R(m.Fit.RmsResidual), R(m.Fit.MaxResidual),
                m.Fit.Found ? $"{m.Fit.ExcludedSmallSigma} / {m.Fit.ExcludedLargeSigma}" : "",
            ]));

        foreach (var m in measurements)
            report.AddImage("grid-" + CAlphaExperiment.UnitName(m.Alpha), $"Adaptive basis, {CAlphaExperiment.Label(m.Alpha)}",
                string.Create(CultureInfo.InvariantCulture,
                    $"First row: a fresh Cα image, the noisy image (σ = {settings.EigenvectorSigma}), the network's output. Below: the top {CAlphaExperiment.GridEigenvectors} ") +
                string.Create(CultureInfo.InvariantCulture,
                    $"eigenvectors of the Jacobian's symmetric part there (each scaled to its own range), eigenvalues {string.Join(", ", m.TopEigenvalues.Take(6).Select(v => v.ToString("F2", CultureInfo.InvariantCulture)))} …; tr J = {m.Trace:F1}."),
                m.GridPath);
        return report;
    }

    private static object? R(double v) => double.IsFinite(v) ? Math.Round(v, 3) : null;
}
