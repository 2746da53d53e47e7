using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Compute;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Reporting;
using MemGen.Results;
using MemGen.Runs;

namespace MemGen.Analysis;

/// <summary>Everything <c>memgen eval</c> needs.</summary>
public sealed record EvaluationJobSettings
{
    /// <summary>The denoiser (a <see cref="DenoiserSpec"/>).</summary>
    public required string Denoiser { get; init; }

    /// <summary>Dataset spec of the training images (the first <see cref="Images"/> are used).</summary>
    public required string Train { get; init; }

    /// <summary>Dataset spec of held-out test images; null for the training curve only (no gap).</summary>
    public string? Test { get; init; }

    /// <summary>Output folder.</summary>
    public required string Out { get; init; }

    /// <summary>Images of each set to measure (docs/science.md §5.1: 300).</summary>
    public int Images { get; init; } = 300;

    /// <summary>Noise levels σ (on the [0,1] scale); null for the 15 standard levels of docs/science.md §5.1.</summary>
    public IReadOnlyList<double>? Sigmas { get; init; }

    /// <summary>Seed of the noise (the same for every denoiser).</summary>
    public long Seed { get; init; }

    /// <summary>Images denoised per call.</summary>
    public int Batch { get; init; } = 64;

    /// <summary>Overwrite results already in <see cref="Out"/>.</summary>
    public bool Force { get; init; }

    /// <summary>Measure the Gaussian (Wiener) denoiser of the training data as a reference (d² memory, d³ time).</summary>
    public bool Wiener { get; init; } = true;

    /// <summary>Report writing options (SVG export).</summary>
    public ReportWriteOptions? Report { get; init; }
}

/// <summary>What an evaluation job produced.</summary>
/// <param name="Curve">The denoiser's curve.</param>
/// <param name="Wiener">The Wiener reference's curve, or null.</param>
/// <param name="Elapsed">Measurement time.</param>
/// <param name="ReportProblems">Warnings of the report writer.</param>
public sealed record EvaluationJobResult(DenoisingCurve Curve, DenoisingCurve? Wiener, TimeSpan Elapsed, IReadOnlyList<string> ReportProblems);

/// <summary>
/// <c>memgen eval</c>: denoising curves (docs/science.md §5.1) of any denoiser on training and test images, with the curve of
/// the Gaussian (Wiener) denoiser of the training data as a reference and the PSNR gap; writes curves.csv, curves.json
/// and report.html. Every input is checked before anything is written; a failure leaves no output files behind.
/// Invalid input raises an <see cref="InvalidSettingException"/> naming the setting.
/// </summary>
public static class EvaluationJob
{
    /// <summary>Files an evaluation writes into its output folder besides the report's own.</summary>
    public static IReadOnlyList<string> OutputFiles { get; } = ["curves.csv", "curves.json", ReportWriter.HtmlFileName];

    /// <summary>The number of progress steps <see cref="Run"/> reports (denoising passes: sets × noise levels × denoisers).</summary>
    public static int Passes(EvaluationJobSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        int levels = settings.Sigmas?.Count ?? DenoisingCurveOptions.StandardSigmas.Count;
        return (settings.Test is null ? 1 : 2) * levels * (settings.Wiener ? 2 : 1);
    }

    /// <summary>Runs the job (a network denoiser on <paramref name="backend"/>, the CPU when null); <paramref name="progress"/> receives the number of denoising passes done (see <see cref="Passes"/>).</summary>
    public static EvaluationJobResult Run(EvaluationJobSettings settings, IProgress<int>? progress = null, ComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // 1. Checks that read nothing.
        var spec = DenoiserSpec.ParseAs("denoiser", settings.Denoiser);
        var trainSpec = DatasetSpec.ParseAs("train", settings.Train);
        var testSpec = settings.Test is null ? null : DatasetSpec.ParseAs("test", settings.Test);
        if (settings.Images < 1) throw new InvalidSettingException("images", $"must be at least 1, got {settings.Images}");
        if (settings.Batch < 1) throw new InvalidSettingException("batch", $"must be at least 1, got {settings.Batch}");
        var options = new DenoisingCurveOptions { MaxImages = settings.Images, Seed = settings.Seed, BatchSize = settings.Batch };
        if (settings.Sigmas is { } sigmas)
        {
            if (sigmas.Count == 0 || sigmas.Any(s => !(s > 0) || !double.IsFinite(s)))
                throw new InvalidSettingException("sigmas", "need positive noise levels (σ on the [0,1] image scale, e.g. 0.05,0.1,0.2)");
            options = options with { Sigmas = [.. sigmas] };
        }
        if (File.Exists(settings.Out)) throw new InvalidSettingException("out", $"{settings.Out} is a file, not a directory");
        using var folderLock = RunFolderLock.Acquire(settings.Out);
        if (!settings.Force)
            foreach (var f in OutputFiles)
                if (File.Exists(Path.Combine(settings.Out, f))) throw new InvalidSettingException("out", $"{settings.Out} already holds {f} (use --force to overwrite)");

        // 2. Read the data and the denoiser.
        var trainSet = DatasetLoader.LoadAs("train", trainSpec);
        var testSet = testSpec is null ? null : DatasetLoader.LoadAs("test", testSpec);
        if (trainSet.Count < (settings.Wiener ? 2 : 1))
            throw new InvalidSettingException("train", $"'{trainSpec}' has {trainSet.Count} images; {(settings.Wiener ? "the Wiener reference needs at least 2" : "need at least 1")}");
        if (testSet is { Count: 0 }) throw new InvalidSettingException("test", $"'{testSpec}' has no images");
        if (testSet is not null && (testSet.Channels, testSet.Height, testSet.Width) != (trainSet.Channels, trainSet.Height, trainSet.Width))
            throw new InvalidSettingException("test", $"images are {Shape(testSet)}, the training images {Shape(trainSet)}");

        using (var opened = spec.OpenAs("denoiser", settings.Batch, backend))
        {
            if (opened.Checkpoint is { } meta)
            {
                if (meta.Channels != trainSet.Channels)
                    throw new InvalidSettingException("denoiser", $"the checkpoint takes {meta.Channels}-channel images, the data are {Shape(trainSet)}");
                int div = meta.Spec.SizeDivisor;
                if (trainSet.Height % div != 0 || trainSet.Width % div != 0)
                    throw new InvalidSettingException("denoiser", $"{meta.Spec} needs image sides divisible by {div}, the data are {Shape(trainSet)}");
            }
            else if (opened.Shape is ImageShape s && s != new ImageShape(trainSet.Channels, trainSet.Height, trainSet.Width))
            {
                throw new InvalidSettingException("denoiser", $"its data are {s.Channels}x{s.Height}x{s.Width}, --train images {Shape(trainSet)}");
            }

            // 3. Measure.
            var clock = Stopwatch.StartNew();
            var started = DateTimeOffset.UtcNow;
            int passes = (testSet is null ? 1 : 2) * options.Sigmas.Count;
            var curve = DenoisingCurve.Measure(opened.Denoiser, trainSet, testSet, options, progress);
            var wiener = settings.Wiener
                ? DenoisingCurve.Measure(GaussianDenoiser.FromImages(trainSet), trainSet, testSet, options,
                    progress is null ? null : new SynchronousProgress<int>(k => progress.Report(passes + k)))
                : null;
            var elapsed = clock.Elapsed;
            curve.RequireFinite();
            wiener?.RequireFinite();

            // 4. Write (all or nothing).
            var config = new JsonObject
            {
                ["command"] = "eval",
                ["memgen_version"] = MemGenInfo.Version,
                ["denoiser"] = spec.ToString(),
                ["denoiser_name"] = opened.Denoiser.Name,
                ["train"] = trainSpec.ToString(),
                ["test"] = testSpec?.ToString(),
                ["train_images"] = curve.TrainImages,
                ["test_images"] = curve.TestImages,
                ["sigmas"] = new JsonArray([.. options.Sigmas.Select(s => (JsonNode?)s)]),
                ["wiener_fitted_on"] = settings.Wiener ? $"all {trainSet.Count} --train images" : null,
                ["seed"] = settings.Seed,
                ["batch"] = settings.Batch,
            };
            if (opened.Checkpoint is { } m)
            {
                config["architecture"] = m.Spec.ToString();
                config["checkpoint_step"] = m.Step;
            }
            var written = new List<string>();
            try
            {
                Directory.CreateDirectory(settings.Out);
                string PathOf(string name) { var p = Path.Combine(settings.Out, name); written.Add(p); return p; }
                DenoisingCurve.Table(wiener is null ? [curve] : [curve, wiener]).WriteCsv(PathOf("curves.csv"));
                AtomicFile.WriteAllText(PathOf("curves.json"), CurvesJson(config, curve, wiener).ToJsonString(new() { WriteIndented = true }));
                written.AddRange([Path.Combine(settings.Out, ReportWriter.HtmlFileName), Path.Combine(settings.Out, ReportWriter.JsonFileName)]);
                var output = BuildReport(config, curve, wiener, elapsed, started).Write(settings.Out, settings.Report);
                return new EvaluationJobResult(curve, wiener, elapsed, output.Problems);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                foreach (var p in written)
                {
                    try { File.Delete(p); } catch (IOException) { }
                }
                throw new InvalidSettingException("out", $"cannot write to {settings.Out} ({e.Message.TrimEnd('.')})", e);
            }
        }
    }

    private static JsonObject CurvesJson(JsonObject config, DenoisingCurve curve, DenoisingCurve? wiener) => new()
    {
        ["config"] = config.DeepClone(),
        ["psnr_gap"] = ResultJson.Finite(curve.PsnrGap),
        ["wiener_psnr_gap"] = wiener is null ? null : ResultJson.Finite(wiener.PsnrGap),
        ["curve"] = JsonNode.Parse(curve.ToJson()),
        ["wiener_reference"] = wiener is null ? null : JsonNode.Parse(wiener.ToJson()),
    };

    private static ReportBuilder BuildReport(JsonObject config, DenoisingCurve curve, DenoisingCurve? wiener, TimeSpan elapsed, DateTimeOffset started)
    {
        var report = new ReportBuilder($"Denoising curves: {curve.Denoiser}",
            $"{config["denoiser"]} · train {config["train"]} · test {config["test"]?.ToString() ?? "(none)"}");
        string gapText = curve.TestImages == 0
            ? "No test set was given, so there is no PSNR gap. "
            : I($"PSNR gap (mean over σ of train − test PSNR): {curve.PsnrGap:F2} dB for {curve.Denoiser}") +
              (wiener is null ? ". " : I($", {wiener.PsnrGap:F2} dB for the Gaussian (Wiener) denoiser fitted to the training images. "));
        bool standard = curve.Sigmas.SequenceEqual(DenoisingCurveOptions.StandardSigmas);
        report.AddText(
            I($"Output PSNR vs input PSNR at {curve.Sigmas.Count} noise levels ") +
            (standard ? "σ = logspace(0.3, 2.4, 15)/255" : "σ = " + string.Join(", ", curve.Sigmas.Select(s => s.ToString("G4", CultureInfo.InvariantCulture)))) +
            I($", averaged over {curve.TrainImages} training and {curve.TestImages} test images (docs/science.md §5.1), same noise for every denoiser. ") + gapText +
            "Exact recoveries count as 160 dB. A memorizing denoiser has a large gap (train PSNR climbing with unit slope); a generalizing one has train and test curves on top of each other.",
            heading: "Summary");
        report.AddSettings(config, elapsed, started);
        var values = new JsonArray();
        var curves = wiener is null ? new[] { (curve, curve.Denoiser) } : [(curve, curve.Denoiser), (wiener, "wiener reference")];
        foreach (var (c, name) in curves)
        {
            var input = c.InputPsnr;
            for (int k = 0; k < c.Sigmas.Count; k++)
            {
                values.Add(new JsonObject { ["input_psnr"] = input[k], ["output_psnr"] = ResultJson.Finite(c.TrainPsnr[k]), ["curve"] = $"{name}, train", ["sigma_255"] = c.Sigmas[k] * 255 });
                if (c.TestImages > 0)
                    values.Add(new JsonObject { ["input_psnr"] = input[k], ["output_psnr"] = ResultJson.Finite(c.TestPsnr[k]), ["curve"] = $"{name}, test", ["sigma_255"] = c.Sigmas[k] * 255 });
            }
        }
        report.AddFigure("denoising-curves", "Output PSNR vs input PSNR",
            "Solid lines with points: mean output PSNR on training and test images for the denoiser and for the Wiener reference; dotted: the identity (output = input).",
            VegaLiteCharts.Line(values, "input_psnr", "output_psnr", new LineChartOptions
            {
                XTitle = "input PSNR (dB)",
                YTitle = "output PSNR (dB)",
                Color = "curve",
                ColorTitle = null,
                Diagonal = true,
                Tooltip = [("sigma_255", ".3g")],
                Height = 340,
            }));
        static object? R(double v) => double.IsFinite(v) ? Math.Round(v, 2) : null;
        var input0 = curve.InputPsnr;
        report.AddTable("curves", "Per noise level", "Mean output PSNR in dB (files: curves.csv, curves.json).",
            ["σ·255", "input PSNR", $"{curve.Denoiser} train", $"{curve.Denoiser} test", "gap", "Wiener train", "Wiener test"],
            Enumerable.Range(0, curve.Sigmas.Count).Select(k => (IReadOnlyList<object?>)
            [
                Math.Round(curve.Sigmas[k] * 255, 3), R(input0[k]), R(curve.TrainPsnr[k]), R(curve.TestPsnr[k]),
                R(curve.TrainPsnr[k] - curve.TestPsnr[k]), R(wiener?.TrainPsnr[k] ?? double.NaN), R(wiener?.TestPsnr[k] ?? double.NaN),
            ]));
        return report;
    }

    private static string I(FormattableString s) => FormattableString.Invariant(s);

    private static string Shape(ImageSet s) => $"{s.Channels}x{s.Height}x{s.Width}";
}
