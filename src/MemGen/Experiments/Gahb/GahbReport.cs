using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis;
using MemGen.Analysis.AdaptiveBasis;
using MemGen.Experiments.Kit;
using MemGen.Experiments.Transition;
using MemGen.Images;
using MemGen.Reporting;
using MemGen.Results;

namespace MemGen.Experiments.Gahb;

/// <summary>The report of an adaptive-basis study: spectra per N, effective dimensionality, shrinkage vs the oracle, compaction, the shuffled control, trajectories.</summary>
public static class GahbReport
{
    /// <summary>Builds the report.</summary>
    public static ReportBuilder Build(GahbSettings settings, TransitionSettings training, JsonObject config, IReadOnlyList<GahbNetworkResult> networks,
        IReadOnlyList<GahbTrajectories> trajectories, IReadOnlyList<(double Sigma, string Path)> grids, RunRecord record)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(networks);
        ArgumentNullException.ThrowIfNull(trajectories);
        ArgumentNullException.ThrowIfNull(grids);
        ArgumentNullException.ThrowIfNull(record);
        var report = new ReportBuilder("The adaptive basis of trained denoisers (GAHB)", settings.Describe(training));
        int shown = ShownSigma(settings.Sigmas);
        double sigma = settings.Sigmas[shown];
        report.AddText(
            "A blind bias-free denoiser f is, around any noisy image y, a linear map: f(y) = J(y)·y with J its Jacobian. Where J is nearly " +
            "symmetric, its eigenvectors e_k form an orthonormal basis adapted to the image and its eigenvalues λ_k are how much of each basis " +
            "direction survives: f shrinks the noisy coefficients ⟨y, e_k⟩ by λ_k. [K24] finds that generalizing networks use a basis of smooth, " +
            "oscillating patterns that follow the image's contours (geometry-adaptive harmonic bases, GAHB) with fast-decaying λ_k, close to the best " +
            "shrinkage any denoiser could do in that basis; networks that memorize instead project onto their training images. " +
            "Here, for the S1 network of each N" + (settings.ShuffleSeed is null ? "" : " and a network trained on pixel-shuffled images") +
            $", the exact Jacobian is computed at y = x + σz for {settings.Images} held-out test images × {settings.Draws} noise draws at each σ (docs/science.md §5.6). " +
            "Curves are medians over images and draws; tr J and SURE are means.",
            heading: "What this shows");
        report.AddText(Findings(networks, trajectories, shown), heading: "What was measured");
        report.AddSettings(config, record.Describe());

        report.AddFigure("spectra", "Eigenvalue spectra λ_k per N",
            "Median eigenvalue λ_k of (J + Jᵀ)/2 against its rank k (log scale), one panel per σ. A memorizing network (small N) has few eigenvalues " +
            "near 1 and the rest far lower at every σ: it keeps only the directions toward its training images. A generalizing network keeps more " +
            "directions at small σ and fewer as σ grows, with a smooth decay; the shuffled-pixel control (if present) decays more slowly, since it " +
            "cannot exploit the geometry of images.",
            SpectraChart(networks));
        report.AddFigure("effective-dimension", "Effective dimensionality tr J and Σλ² against σ",
            "tr J = Σλ_k is the effective dimensionality of the denoiser at y (its MSE is ≈ σ²·tr J); Σλ² weighs the directions kept fully. Both fall " +
            "as σ grows (less is kept at higher noise). [K24]'s expectation for memorizing networks: tr J near 0 at small σ (they project onto a few " +
            "training images whatever the noise); short training leaves them well above 0, but far below a generalizing network of the same architecture.",
            TraceChart(networks));
        report.AddFigure("oracle", I($"Shrinkage against the oracle, σ = {sigma}"),
            "Per network, the measured λ_k (blue) and the oracle shrinkage c_k²/(c_k² + σ²) of the same basis (orange), c_k = ⟨x, e_k⟩ the clean " +
            "image's coefficients: the best any denoiser can do in this fixed basis knowing x. Where the two curves agree, the network is an " +
            "optimal shrinkage in its own adaptive basis; the oracle is spikier because it is per image, the network must act without x.",
            OracleChart(networks, shown));
        report.AddFigure("compaction", "Energy compaction of the clean image in the adaptive basis",
            "Fraction of ‖x‖² in the first p eigenvectors (mean over images and draws), p on a log scale, one panel per σ. A good basis for x " +
            "packs its energy into the few directions the denoiser keeps.",
            CompactionChart(networks));
        if (networks.Any(g => g.Shuffled))
            report.AddFigure("shuffled", "Shuffled-pixel control: denoising PSNR",
                "Output PSNR against σ on " +
                $"{settings.PsnrImages} held-out images (shuffled for the control) for every network. [K24] Fig 21: without the pixel " +
                "neighbourhoods the network cannot find a geometric basis, so it denoises worse; its spectrum (the spectra figure, same N) decays more slowly.",
                PsnrChart(settings, networks));
        else
            report.AddFigure("psnr", "Denoising PSNR against σ", $"Output PSNR on {settings.PsnrImages} held-out images for every network.", PsnrChart(settings, networks));
        foreach (var ((s, path), index) in grids.Select((g, i) => (g, i)))
            report.AddImage(I($"grid-{index + 1}"), I($"Eigenvectors at σ = {s}"),
                "One row per network, same test image and noise draw: the clean image x, the noisy y, the denoised f(y), then the eigenvectors e_k at " +
                "the ranks above the columns (top ones, then k = 2^j), grey = 0, each scaled to its largest |value|. The control's are shown " +
                "unshuffled (in the original pixel order). GAHB: smooth oscillations along the edges of the image for a generalizing network; " +
                "training-image-like patterns for a memorizing one; noise-like patterns for the shuffled control.",
                path);
        if (trajectories.Count > 0)
            report.AddFigure("trajectories", "Trajectory bifurcation: S1 vs S2 networks from the same seed",
                "Cosine similarity (mean removed) of the S1 and S2 networks' sampling iterates at each step, same seed and same injected noise, one " +
                "line per seed and one panel per N ([K24] Fig 8). Memorizing networks start together (both see mostly noise) and separate as each " +
                "heads for one of its own training images; generalizing networks stay together to the end. After one trajectory stops it is held at its end point.",
                TrajectoryChart(trajectories));
        report.AddTable("checks", "Checks: bias-free homogeneity, symmetry, SURE",
            "Homogeneity: max over measurements of ‖J·y − f(y)‖/‖f(y)‖ (0 up to rounding for a bias-free ReLU network). Asymmetry: mean " +
            "‖J − Jᵀ‖/‖J‖ (the eigen-analysis uses the symmetric part). SURE = ‖y − f(y)‖² − dσ² + 2σ²·tr J estimates the error ‖f(y) − x‖² " +
            "without x; averaged over images and draws it should match the true error within a few standard errors (the difference is paired). " +
            "Oracle: the error of the oracle shrinkage in the network's own basis. Files: summary.csv, jacobians/*/measurements.csv.",
            ["network", "σ", "tr J", "Σλ²", "#λ>½", "homogeneity", "asymmetry", "SURE", "true ‖f(y)−x‖²", "SURE − true (± se)", "oracle"],
            networks.SelectMany(g => g.Summaries.Select(m => (IReadOnlyList<object?>)
            [
                g.Label, m.Sigma, R(m.Trace.Mean), R(m.SumSquaredEigenvalues.Mean), R(m.EigenvaluesAboveHalf.Mean), m.MaxHomogeneityError.ToString("G2", CultureInfo.InvariantCulture),
                R(m.MeanAsymmetry), R(m.SteinEstimate.Mean), R(m.SquaredError.Mean), I($"{m.SteinMinusTrue.Mean:G3} ± {m.SteinMinusTrue.StandardError:G2}"), R(m.OracleSquaredError.Mean),
            ])));
        report.AddTable("quoted", "Eigenvalues at [K24]'s ranks",
            "Median λ_k at the ranks [K24] quotes (σ = 0.15 on 80×80 faces, d = 6400: λ5 = 1.244, λ53 = 0.973, λ101 = 0.822, λ245 = 0.51; " +
            "shuffled at σ = 0.3: λ5 = 1.182, λ53 = 0.87). Ranks beyond d are empty. At 16×16 (d = 256) the same rank is a far larger fraction of " +
            "the dimension, so only the shape (slow decay from ≈ 1) is comparable.",
            ["network", "σ", .. GahbExperiment.QuotedRanks.Select(r => I($"λ{r}")), "λ1", "PSNR (dB)"],
            networks.SelectMany(g => g.Summaries.Select((m, s) => (IReadOnlyList<object?>)
            [
                g.Label, m.Sigma, .. GahbExperiment.QuotedRanks.Select(r => r <= m.Dimension ? R(m.MedianEigenvalues[r - 1]) : null), R(m.MedianEigenvalues[0]), R(g.Psnr[s]),
            ])));
        return report;
    }

    /// <summary>The σ closest (in log) to 0.15, where [K24] quotes its eigenvalues.</summary>
    public static int ShownSigma(IReadOnlyList<double> sigmas)
    {
        ArgumentNullException.ThrowIfNull(sigmas);
        int best = 0;
        for (int s = 1; s < sigmas.Count; s++)
            if (Math.Abs(Math.Log(sigmas[s] / 0.15)) < Math.Abs(Math.Log(sigmas[best] / 0.15))) best = s;
        return best;
    }

    private static string Findings(IReadOnlyList<GahbNetworkResult> networks, IReadOnlyList<GahbTrajectories> trajectories, int shown)
    {
        var lines = new List<string>();
        foreach (var g in networks)
        {
            var first = g.Summaries[0];
            var mid = g.Summaries[shown];
            lines.Add(I($"{g.Label}: tr J = {first.Trace.Mean:F2} at σ = {first.Sigma} and {mid.Trace.Mean:F2} at σ = {mid.Sigma} (d = {mid.Dimension}); ") +
                I($"λ1 = {mid.MedianEigenvalues[0]:F3}, {mid.EigenvaluesAboveHalf.Mean:F1} eigenvalues above ½, the top 16 eigenvectors hold {mid.MeanCompaction[Math.Min(16, mid.Dimension) - 1]:P0} of ‖x‖²; ") +
                I($"PSNR {g.Psnr[shown]:F1} dB; SURE − true error {mid.SteinMinusTrue.Mean:G3} ± {mid.SteinMinusTrue.StandardError:G2}."));
        }
        foreach (var t in trajectories)
        {
            var finals = t.Comparisons.Select(c => c.Cosine[^1]).ToArray();
            if (finals.Length > 0)
                lines.Add(I($"Trajectories N = {t.N}: final S1–S2 cosine median {ImageStatistics.Median(finals):F3} over {finals.Length} seeds."));
        }
        return string.Join("\n\n", lines);
    }

    private static object? R(double v) => double.IsFinite(v) ? Math.Round(v, 4) : null;

    private static JsonNode? J(double v) => ResultJson.Finite(v);

    private static string Sigma(double s) => I($"σ = {s}");

    private static int Columns(int panels) => Math.Min(3, Math.Max(1, panels));

    private static JsonObject SpectraChart(IReadOnlyList<GahbNetworkResult> networks)
    {
        var values = new JsonArray();
        foreach (var g in networks)
            foreach (var m in g.Summaries)
                for (int k = 0; k < m.Dimension; k++)
                    values.Add(new JsonObject { ["network"] = g.Label, ["sigma"] = Sigma(m.Sigma), ["k"] = k + 1, ["lambda"] = J(m.MedianEigenvalues[k]) });
        var panels = networks.Count > 0 ? networks[0].Summaries.Select(m => Sigma(m.Sigma)).ToArray() : [];
        return VegaLiteCharts.Line(values, "k", "lambda", new LineChartOptions
        {
            XTitle = "rank k",
            YTitle = "λ_k (median)",
            LogX = true,
            LogXBase = 2,
            Color = "network",
            ColorDomain = [.. networks.Select(g => g.Label)],
            Points = false,
            Facet = "sigma",
            FacetTitle = "",
            FacetOrder = panels,
            FacetColumns = Columns(panels.Length),
            Width = 240,
            Height = 180,
        });
    }

    private static JsonObject TraceChart(IReadOnlyList<GahbNetworkResult> networks)
    {
        const string trace = "tr J (effective dimensionality)", squares = "Σλ²";
        var values = new JsonArray();
        foreach (var g in networks)
            foreach (var m in g.Summaries)
            {
                values.Add(new JsonObject { ["network"] = g.Label, ["quantity"] = trace, ["sigma"] = m.Sigma, ["value"] = J(m.Trace.Mean) });
                values.Add(new JsonObject { ["network"] = g.Label, ["quantity"] = squares, ["sigma"] = m.Sigma, ["value"] = J(m.SumSquaredEigenvalues.Mean) });
            }
        return VegaLiteCharts.Line(values, "sigma", "value", new LineChartOptions
        {
            XTitle = "σ",
            YTitle = "",
            LogX = true,
            SymLogY = true,
            Color = "network",
            ColorDomain = [.. networks.Select(g => g.Label)],
            Facet = "quantity",
            FacetTitle = "",
            FacetOrder = [trace, squares],
            FacetColumns = 2,
            Width = 320,
            Height = 240,
        });
    }

    private static JsonObject OracleChart(IReadOnlyList<GahbNetworkResult> networks, int shown)
    {
        const string measured = "λ_k (network)", oracle = "oracle c²/(c²+σ²)";
        var values = new JsonArray();
        foreach (var g in networks)
        {
            var m = g.Summaries[shown];
            for (int k = 0; k < m.Dimension; k++)
            {
                values.Add(new JsonObject { ["network"] = g.Label, ["curve"] = measured, ["k"] = k + 1, ["value"] = J(m.MedianEigenvalues[k]) });
                values.Add(new JsonObject { ["network"] = g.Label, ["curve"] = oracle, ["k"] = k + 1, ["value"] = J(m.MedianOracleShrinkage[k]) });
            }
        }
        return VegaLiteCharts.Line(values, "k", "value", new LineChartOptions
        {
            XTitle = "rank k",
            YTitle = "shrinkage factor",
            LogX = true,
            LogXBase = 2,
            Color = "curve",
            ColorTitle = null,
            ColorDomain = [measured, oracle],
            ColorRange = ["#1f77b4", "#ff7f0e"],
            Points = false,
            Facet = "network",
            FacetTitle = "",
            FacetOrder = [.. networks.Select(g => g.Label)],
            FacetColumns = Columns(networks.Count),
            Width = 240,
            Height = 180,
        });
    }

    private static JsonObject CompactionChart(IReadOnlyList<GahbNetworkResult> networks)
    {
        var values = new JsonArray();
        foreach (var g in networks)
            foreach (var m in g.Summaries)
                for (int k = 0; k < m.Dimension; k++)
                    values.Add(new JsonObject { ["network"] = g.Label, ["sigma"] = Sigma(m.Sigma), ["p"] = k + 1, ["fraction"] = J(m.MeanCompaction[k]) });
        var panels = networks.Count > 0 ? networks[0].Summaries.Select(m => Sigma(m.Sigma)).ToArray() : [];
        return VegaLiteCharts.Line(values, "p", "fraction", new LineChartOptions
        {
            XTitle = "first p eigenvectors",
            YTitle = "fraction of ‖x‖²",
            LogX = true,
            LogXBase = 2,
            YDomain = (0, 1),
            Color = "network",
            ColorDomain = [.. networks.Select(g => g.Label)],
            Points = false,
            Facet = "sigma",
            FacetTitle = "",
            FacetOrder = panels,
            FacetColumns = Columns(panels.Length),
            Width = 240,
            Height = 180,
        });
    }

    private static JsonObject PsnrChart(GahbSettings settings, IReadOnlyList<GahbNetworkResult> networks)
    {
        var values = new JsonArray();
        foreach (var g in networks)
            for (int s = 0; s < settings.Sigmas.Length; s++)
                values.Add(new JsonObject
                {
                    ["network"] = g.Label,
                    ["sigma"] = settings.Sigmas[s],
                    ["psnr"] = J(g.Psnr[s]),
                    ["lo"] = J(g.Psnr[s] - 2 * g.PsnrStandardError[s]),
                    ["hi"] = J(g.Psnr[s] + 2 * g.PsnrStandardError[s]),
                });
        return VegaLiteCharts.Line(values, "sigma", "psnr", new LineChartOptions
        {
            XTitle = "σ",
            YTitle = "output PSNR (dB), ± 2 se",
            LogX = true,
            Color = "network",
            ColorDomain = [.. networks.Select(g => g.Label)],
            ErrorBand = ("lo", "hi"),
            Width = 420,
            Height = 280,
        });
    }

    private static JsonObject TrajectoryChart(IReadOnlyList<GahbTrajectories> trajectories)
    {
        var values = new JsonArray();
        foreach (var t in trajectories)
            foreach (var c in t.Comparisons)
                for (int i = 0; i < c.Steps.Length; i++)
                    values.Add(new JsonObject { ["N"] = I($"N = {t.N}"), ["seed"] = c.Sample, ["step"] = c.Steps[i], ["cosine"] = J(c.Cosine[i]) });
        return VegaLiteCharts.Line(values, "step", "cosine", new LineChartOptions
        {
            XTitle = "sampling step",
            YTitle = "cosine similarity S1 vs S2 iterate",
            Color = "seed",
            ColorTitle = "seed",
            Points = false,
            Facet = "N",
            FacetTitle = "",
            FacetOrder = [.. trajectories.Select(t => I($"N = {t.N}"))],
            FacetColumns = Columns(trajectories.Count),
            Width = 240,
            Height = 180,
        });
    }

    private static string I(FormattableString s) => FormattableString.Invariant(s);
}
