using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis;
using MemGen.Analysis.AdaptiveBasis;
using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Experiments.Kit;
using MemGen.Images;
using MemGen.Machine;
using MemGen.Nn;
using MemGen.Reporting;
using MemGen.Results;
using MemGen.Training;

namespace MemGen.Experiments.CAlpha;

/// <summary>What the calpha experiment measured for one α.</summary>
/// <param name="Alpha">α.</param>
/// <param name="OptimalSlope">α/(α+1), the slope of the optimal denoiser's curve.</param>
/// <param name="Fit">The slope fit on the straight part of the network's curve.</param>
/// <param name="Sigmas">The curve's noise levels.</param>
/// <param name="InputPsnr">−20·log10 σ.</param>
/// <param name="OutputPsnr">Mean output PSNR on the fresh images.</param>
/// <param name="StandardError">Its standard error.</param>
/// <param name="TopEigenvalues">The top eigenvalues of the Jacobian at one noisy Cα image (the grid's).</param>
/// <param name="Trace">tr J there (effective dimensionality).</param>
/// <param name="GridPath">The eigenvector grid PNG.</param>
public sealed record CAlphaMeasurement(double Alpha, double OptimalSlope, PsnrSlopeFit Fit, double[] Sigmas, double[] InputPsnr, double[] OutputPsnr,
    double[] StandardError, double[] TopEigenvalues, double Trace, string GridPath)
{
    /// <summary>Fitted − optimal slope (NaN without a fit).</summary>
    public double Difference => Fit.Slope - OptimalSlope;
}

/// <summary>What <see cref="CAlphaExperiment.Run"/> produced.</summary>
/// <param name="Measurements">One per α, in the order of the settings.</param>
/// <param name="Elapsed">Wall time of this session.</param>
/// <param name="ReportPath">report.html.</param>
/// <param name="ReportProblems">Warnings of the report writer.</param>
public sealed record CAlphaResult(IReadOnlyList<CAlphaMeasurement> Measurements, TimeSpan Elapsed, string ReportPath, IReadOnlyList<string> ReportProblems)
{
    /// <summary>Whether every α has a fit and the fitted slopes increase with α.</summary>
    public bool SlopesIncrease => Measurements.All(m => m.Fit.Found) &&
        Measurements.OrderBy(m => m.Alpha).Zip(Measurements.OrderBy(m => m.Alpha).Skip(1)).All(p => p.Second.Fit.Slope > p.First.Fit.Slope);
}

/// <summary>
/// <c>memgen experiment calpha</c>: optimality of a trained denoiser on Cα images ([K24] §3.1; docs/science.md §6). For every
/// α a blind bias-free network is trained on Cα images (a <see cref="TrainingRun"/> in models/, so a stopped experiment
/// resumes), its denoising curve is measured on fresh Cα images on a fine σ grid, and the slope of PSNR_out vs PSNR_in on
/// the straight part of the curve (<see cref="PsnrSlopeFit"/>, a stated rule) is compared with the optimal α/(α+1).
/// One Cα image per α also gets its Jacobian's top eigenvectors (the contour-adapted basis).
/// Writes experiment.json, slopes.csv|json, curves.csv|json, grids/*.png and report.html.
/// </summary>
public static class CAlphaExperiment
{
    /// <summary>The experiment's name in experiment.json.</summary>
    public const string Name = "calpha";

    /// <summary>Eigenvectors shown per grid.</summary>
    public const int GridEigenvectors = 16;

    /// <summary>Names of the presets.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["quick", "paper"];

    /// <summary>
    /// <c>quick</c>: 32×32 Cα images, α ∈ {1, 2, 3, 5}, a UNet (2 blocks, width 16) per α trained on 8192 images for a budget
    /// of 32,768 images (Adam, 2e-3), curves on 128 fresh images at 25 σ from 0.005 to 0.6 (1.5–3 minutes per α on 2 busy cores).
    /// <c>paper</c>: [K24]'s scale — 80×80, 10⁵ images per α, UNet blocks=3 width=64 trained on 10⁸ images, 300 test
    /// images at 40 σ (GPU-days; not run here).
    /// </summary>
    public static CAlphaSettings Preset(string name) => name switch
    {
        "quick" => new CAlphaSettings(),
        "paper" => new CAlphaSettings
        {
            Size = 80,
            Model = "unet:blocks=3,width=64",
            TrainingCount = 100_000,
            TrainingBudget = 100_000_000,
            BatchSize = 512,
            LearningRate = 1e-3,
            TestImages = 300,
            Sigmas = DenoisingCurveOptions.GeometricSigmas(0.002, 0.6, 40),
        },
        _ => throw new InvalidSettingException("preset", $"unknown preset '{name}' (expected {string.Join(" or ", PresetNames)})"),
    };

    /// <summary>
    /// Runs every α and writes the results and the report into <paramref name="runDirectory"/>; a re-run with the same
    /// settings reuses the trained networks. Invalid settings, too little memory or a run directory holding another
    /// experiment raise before anything is written. Networks train on <paramref name="backend"/> (an own CPU backend when null).
    /// </summary>
    public static CAlphaResult Run(CAlphaSettings settings, string runDirectory, string preset, IProgress<ExperimentProgress>? progress = null,
        CancellationToken cancellation = default, ReportWriteOptions? reportOptions = null, ComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        RequireMemory(settings);
        var identity = settings.ToJson(preset);
        using var run = RunDirectory.Open(runDirectory, identity);
        var record = RunRecord.Begin(run);
        var reporter = new ExperimentProgressReporter(progress, settings.Alphas.Length);
        using var ownBackend = backend is null ? new CpuBackend() : null;
        var engine = backend ?? ownBackend!;
        var measurements = new List<CAlphaMeasurement>();
        for (int a = 0; a < settings.Alphas.Length; a++)
        {
            cancellation.ThrowIfCancellationRequested();
            double alpha = settings.Alphas[a];
            measurements.Add(RunOne(settings, alpha, run, engine, reporter.Unit(a, Label(alpha)), cancellation));
        }

        reporter.Closing("report");
        var header = new JsonObject { ["config"] = identity.DeepClone() };
        SlopeTable(measurements).Write(Path.Combine(run.Path, "slopes"), header);
        CurveTable(measurements).Write(Path.Combine(run.Path, "curves"), (JsonObject)header.DeepClone());
        var output = CAlphaReport.Build(settings, measurements, identity, record).Write(run.Path, reportOptions);
        record.Finish();
        reporter.Closing("done", "", finished: true);
        return new CAlphaResult(measurements, record.Elapsed, output.HtmlPath, output.Problems);
    }

    /// <summary>The seed of the curves' noise (the same for every α, so the curves differ only by the images and the network).</summary>
    public static long NoiseSeed(CAlphaSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return unchecked(settings.Seed + 17);
    }

    /// <summary>"α=2" (also the unit's name).</summary>
    public static string Label(double alpha) => string.Create(CultureInfo.InvariantCulture, $"α={alpha:G4}");

    /// <summary>"alpha-2": the unit's folder and file name.</summary>
    public static string UnitName(double alpha) => string.Create(CultureInfo.InvariantCulture, $"alpha-{alpha:G4}");

    /// <summary>Refuses settings whose largest unit (training and test sets, training activations, one Jacobian) exceeds the memory budget.</summary>
    private static void RequireMemory(CAlphaSettings s)
    {
        long d = s.Dimension;
        long bytes = MemoryBudget.Sum(
            MemoryBudget.Product((long)s.TrainingCount + s.TestImages, d, sizeof(float)),
            NetworkSpec.Parse(s.Model).ActivationBytes(s.BatchSize, s.Size, s.Size, training: true),
            MemoryBudget.Product(4, d, d, sizeof(double))); // J, its symmetric part, the eigenvectors and the linearization's residual
        MemoryBudget.Require(bytes, $"calpha with {s.Size}×{s.Size} images and {s.TrainingCount} training images per α");
    }

    /// <summary>The unit's result file (its marker: a unit with this file is not measured again).</summary>
    private static string UnitFile(double alpha) => Path.Combine("units", UnitName(alpha) + ".json");

    private static CAlphaMeasurement RunOne(CAlphaSettings s, double alpha, RunDirectory run, ComputeBackend engine,
        ExperimentProgressReporter.UnitProgress unit, CancellationToken cancellation)
    {
        var grid = run.File("grids", UnitName(alpha) + ".png");
        if (run.Has(UnitFile(alpha)) && File.Exists(grid))
        {
            unit.Report("done earlier", "", 1);
            return Load(s, alpha, JsonNode.Parse(File.ReadAllText(Path.Combine(run.Path, UnitFile(alpha))))!.AsObject(), grid);
        }
        unit.Report("data", "", 0);
        var trainSpec = s.DataSpec(alpha, 1);
        var training = DatasetLoader.Load(trainSpec);
        var test = DatasetLoader.Load(s.DataSpec(alpha, 2));
        var config = new TrainingConfig(NetworkSpec.Parse(s.Model), new TrainingDataSource(trainSpec, s.TrainingCount),
            unchecked(s.Seed * 31 + 5), UnitTraining.Options(s.TrainingBudget, s.BatchSize, s.LearningRate));
        using var network = UnitTraining.TrainOrResume(run, UnitName(alpha), config, training, test, engine,
            unit.Training("train", 0, 0.8), cancellation).Network;
        var denoiser = new NetworkDenoiser(network, batchSize: 64);

        var curveProgress = unit.Count("curve", s.Sigmas.Length, 0.8, 0.95);
        var (psnr, se, _) = DenoisingPsnr.Measure(denoiser, test, s.Sigmas, s.TestImages, NoiseSeed(s), 64, curveProgress.Report);
        var inputPsnr = s.Sigmas.Select(ImageStatistics.InputPsnr).ToArray();
        var fit = PsnrSlopeFit.Of(inputPsnr, psnr, s.Fit);

        unit.Report("jacobian", "", 0.95);
        var shape = new ImageShape(1, s.Size, s.Size);
        var clean = test.Image(0);
        var measurement = JacobianStudy.Measure(denoiser, clean, shape, s.EigenvectorSigma, unchecked(s.Seed + 23),
            options: new JacobianStudyOptions { Top = GridEigenvectors, PowersOfTwo = false });
        var blank = Enumerable.Repeat(1f, shape.Size).ToArray(); // white: the eigenvectors start on the second row
        EigenvectorGrid.Write(grid, shape, measurement.Eigenvectors, GridEigenvectors, 8,
            [clean.ToArray(), measurement.Noisy, measurement.Denoised, blank, blank, blank, blank, blank]);
        var top = measurement.Eigenvalues.Take(GridEigenvectors).ToArray();
        run.WriteJson(UnitFile(alpha), new JsonObject
        {
            ["alpha"] = alpha,
            ["output_psnr"] = Array(psnr),
            ["output_psnr_se"] = Array(se),
            ["top_eigenvalues"] = Array(top),
            ["jacobian_trace"] = measurement.Trace,
        });
        unit.Report("done", "", 1);
        return new CAlphaMeasurement(alpha, ManifoldOracle.CAlphaOptimalSlope(alpha), fit, s.Sigmas, inputPsnr, psnr, se, top, measurement.Trace, grid);
    }

    private static JsonArray Array(double[] values) => new([.. values.Select(v => ResultJson.Finite(v))]);

    /// <summary>A unit measured by an earlier session (the run directory's identity guarantees the same settings); the fit is redone by the rule.</summary>
    private static CAlphaMeasurement Load(CAlphaSettings s, double alpha, JsonObject unit, string grid)
    {
        static double[] Values(JsonNode? node) => [.. node!.AsArray().Select(v => v is null ? double.NaN : v.GetValue<double>())];
        var psnr = Values(unit["output_psnr"]);
        var inputPsnr = s.Sigmas.Select(ImageStatistics.InputPsnr).ToArray();
        return new CAlphaMeasurement(alpha, ManifoldOracle.CAlphaOptimalSlope(alpha), PsnrSlopeFit.Of(inputPsnr, psnr, s.Fit), s.Sigmas, inputPsnr, psnr,
            Values(unit["output_psnr_se"]), Values(unit["top_eigenvalues"]), unit["jacobian_trace"]!.GetValue<double>(), grid);
    }

    /// <summary>slopes.csv|json: α, fitted slope, optimal α/(α+1), difference, the fit's σ range, points and residuals.</summary>
    public static ResultTable SlopeTable(IEnumerable<CAlphaMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var table = new ResultTable(["alpha", "fitted_slope", "optimal_slope", "difference", "fit_found", "fit_points", "fit_sigma_min", "fit_sigma_max",
            "fit_input_psnr_min", "fit_input_psnr_max", "fit_rms_residual_db", "fit_max_residual_db", "excluded_small_sigma", "excluded_large_sigma", "jacobian_trace"]);
        foreach (var m in measurements)
            table.Add(m.Alpha, m.Fit.Slope, m.OptimalSlope, m.Difference, m.Fit.Found, m.Fit.Points, m.Fit.MinSigma, m.Fit.MaxSigma, m.Fit.MinInputPsnr,
                m.Fit.MaxInputPsnr, m.Fit.RmsResidual, m.Fit.MaxResidual, m.Fit.ExcludedSmallSigma, m.Fit.ExcludedLargeSigma, m.Trace);
        return table;
    }

    /// <summary>curves.csv|json: one row per (α, σ).</summary>
    public static ResultTable CurveTable(IEnumerable<CAlphaMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var table = new ResultTable(["alpha", "sigma", "input_psnr", "output_psnr", "output_psnr_se", "in_fit"]);
        foreach (var m in measurements)
            for (int k = 0; k < m.Sigmas.Length; k++)
                table.Add(m.Alpha, m.Sigmas[k], m.InputPsnr[k], m.OutputPsnr[k], m.StandardError[k], InFit(m.Fit, m.InputPsnr[k]));
        return table;
    }

    /// <summary>Whether input PSNR <paramref name="inputPsnr"/> lies in the fitted run of <paramref name="fit"/>.</summary>
    public static bool InFit(PsnrSlopeFit fit, double inputPsnr)
    {
        ArgumentNullException.ThrowIfNull(fit);
        return fit.Found && inputPsnr >= fit.MinInputPsnr - 1e-9 && inputPsnr <= fit.MaxInputPsnr + 1e-9;
    }
}
