using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Reporting;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen eval</c>: denoising curves (docs/science.md §5) of any denoiser on training and test images, with the curve of the
/// Gaussian (Wiener) denoiser of the training data as a reference and the PSNR gap; writes curves.csv, curves.json and
/// report.html. Every input is checked before anything is written; a failure leaves no output files behind.
/// </summary>
public static class EvalCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var denoiser = SampleCommand.DenoiserOption();
        var train = new Option<string>("--train") { Description = "Dataset spec of the training images (the first --images are used).", Required = true };
        var test = new Option<string?>("--test") { Description = "Dataset spec of held-out test images (without it: training curve only, no gap)." };
        var outDir = new Option<string>("--out") { Description = "Output directory (created if missing).", Required = true };
        var images = new Option<int>("--images") { Description = "Images of each set to measure (docs/science.md §5: 300).", DefaultValueFactory = _ => 300 };
        var seed = new Option<long>("--seed") { Description = "Seed of the noise (the same for every denoiser).", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Images denoised per call.", DefaultValueFactory = _ => 64 };
        var force = new Option<bool>("--force") { Description = "Overwrite results already in --out." };
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var noWiener = new Option<bool>("--no-wiener") { Description = "Skip the Wiener reference (its covariance costs d² memory and d³ time)." };
        var command = new Command("eval",
            "Denoising curves (PSNR out vs PSNR in at the 15 standard σ) on training and test images, the Wiener reference of the same data, and the PSNR gap; " +
            "writes curves.csv, curves.json, report.html.");
        foreach (var o in new Option[] { denoiser, train, test, outDir, images, seed, batch, force, noSvg, noWiener }) command.Options.Add(o);
        command.SetAction(parse => Run(parse.GetValue(denoiser)!, parse.GetValue(train)!, parse.GetValue(test), parse.GetValue(outDir)!,
            parse.GetValue(images), parse.GetValue(seed), parse.GetValue(batch), parse.GetValue(force), parse.GetValue(noSvg), !parse.GetValue(noWiener)));
        return command;
    }

    /// <summary>Files eval writes into --out besides the report's own.</summary>
    public static IReadOnlyList<string> OutputFiles { get; } = ["curves.csv", "curves.json", ReportWriter.HtmlFileName];

    private static int Run(string denoiserText, string trainText, string? testText, string outDir, int images, long seed, int batch, bool force, bool noSvg, bool withWiener)
    {
        // 1. Checks that read nothing.
        DenoiserSpec spec;
        try
        {
            spec = DenoiserSpec.Parse(denoiserText);
        }
        catch (FormatException e)
        {
            return Fail($"--denoiser: {e.Message.TrimEnd('.')}");
        }
        var specs = new DatasetSpec?[2];
        foreach (var (text, flag, i) in new[] { (trainText, "--train", 0), (testText, "--test", 1) })
        {
            if (text is null) continue;
            try
            {
                specs[i] = DatasetSpec.Parse(text);
            }
            catch (DataFormatException e)
            {
                return Fail($"{flag}: {e.Message.TrimEnd('.')}");
            }
        }
        if (images < 1) return Fail($"--images must be at least 1, got {images}");
        if (batch < 1) return Fail($"--batch must be at least 1, got {batch}");
        if (File.Exists(outDir)) return Fail($"--out: {outDir} is a file, not a directory");
        using var folderLock = MemGen.Runs.RunFolderLock.Acquire(outDir);
        if (!force)
            foreach (var f in OutputFiles)
                if (File.Exists(Path.Combine(outDir, f))) return Fail($"--out: {outDir} already holds {f} (use --force to overwrite)");

        // 2. Read the data and the denoiser.
        ImageSet trainSet;
        ImageSet? testSet = null;
        try
        {
            trainSet = DatasetLoader.Load(specs[0]!);
        }
        catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
        {
            return Fail($"--train: {e.Message.TrimEnd('.')}");
        }
        try
        {
            if (specs[1] is { } testSpec) testSet = DatasetLoader.Load(testSpec);
        }
        catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
        {
            return Fail($"--test: {e.Message.TrimEnd('.')}");
        }
        if (trainSet.Count < (withWiener ? 2 : 1))
            return Fail($"--train: '{specs[0]}' has {trainSet.Count} images; {(withWiener ? "the Wiener reference needs at least 2" : "need at least 1")}");
        if (testSet is { Count: 0 }) return Fail($"--test: '{specs[1]}' has no images");
        if (testSet is not null && (testSet.Channels, testSet.Height, testSet.Width) != (trainSet.Channels, trainSet.Height, trainSet.Width))
            return Fail($"--test: images are {Shape(testSet)}, the training images {Shape(trainSet)}");

        OpenedDenoiser opened;
        try
        {
            opened = spec.Open(batch);
        }
        catch (Exception e) when (e is CheckpointException or DataFormatException or IOException or UnauthorizedAccessException)
        {
            return Fail($"--denoiser: {e.Message.TrimEnd('.')}");
        }
        using (opened)
        {
            if (opened.Checkpoint is { } meta)
            {
                if (meta.Channels != trainSet.Channels)
                    return Fail($"--denoiser: the checkpoint takes {meta.Channels}-channel images, the data are {Shape(trainSet)}");
                int div = meta.Spec.SizeDivisor;
                if (trainSet.Height % div != 0 || trainSet.Width % div != 0)
                    return Fail($"--denoiser: {meta.Spec} needs image sides divisible by {div}, the data are {Shape(trainSet)}");
            }
            else if (opened.Shape is ImageShape s && s != new ImageShape(trainSet.Channels, trainSet.Height, trainSet.Width))
            {
                return Fail($"--denoiser: its data are {s.Channels}x{s.Height}x{s.Width}, --train images {Shape(trainSet)}");
            }

            // 3. Measure.
            var clock = Stopwatch.StartNew();
            var started = DateTimeOffset.UtcNow;
            var options = new DenoisingCurveOptions { MaxImages = images, Seed = seed, BatchSize = batch };
            int passes = (testSet is null ? 1 : 2) * options.Sigmas.Count;
            var (curve, wiener) = ConsoleProgress.Run("eval", (withWiener ? 2 : 1) * passes, progress =>
            {
                var c = DenoisingCurve.Measure(opened.Denoiser, trainSet, testSet, options, progress);
                DenoisingCurve? w = withWiener
                    ? DenoisingCurve.Measure(GaussianDenoiser.FromImages(trainSet), trainSet, testSet, options, new Offset(progress, passes))
                    : null;
                return (c, w);
            });
            double seconds = clock.Elapsed.TotalSeconds;
            curve.RequireFinite();
            wiener?.RequireFinite();

            // 4. Write (all or nothing).
            var config = new JsonObject
            {
                ["command"] = "eval",
                ["memgen_version"] = MemGenInfo.Version,
                ["denoiser"] = spec.ToString(),
                ["denoiser_name"] = opened.Denoiser.Name,
                ["train"] = specs[0]!.ToString(),
                ["test"] = specs[1]?.ToString(),
                ["train_images"] = curve.TrainImages,
                ["test_images"] = curve.TestImages,
                ["wiener_fitted_on"] = withWiener ? $"all {trainSet.Count} --train images" : null,
                ["seed"] = seed,
                ["batch"] = batch,
            };
            if (opened.Checkpoint is { } m)
            {
                config["architecture"] = m.Spec.ToString();
                config["checkpoint_step"] = m.Step;
            }
            var written = new List<string>();
            try
            {
                Directory.CreateDirectory(outDir);
                string PathOf(string name) { var p = Path.Combine(outDir, name); written.Add(p); return p; }
                AtomicFile.WriteAllText(PathOf("curves.csv"), CurvesCsv([curve, .. wiener is null ? Array.Empty<DenoisingCurve>() : [wiener]]));
                AtomicFile.WriteAllText(PathOf("curves.json"), CurvesJson(config, curve, wiener).ToJsonString(new() { WriteIndented = true }));
                var report = BuildReport(config, curve, wiener, seconds, started);
                written.AddRange([Path.Combine(outDir, ReportWriter.HtmlFileName), Path.Combine(outDir, ReportWriter.JsonFileName)]);
                var output = report.Write(outDir, new ReportWriteOptions { ExportSvg = !noSvg });
                foreach (var w in output.Problems) Console.Error.WriteLine($"memgen eval: warning: {w}");
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                foreach (var p in written)
                {
                    try { File.Delete(p); } catch (IOException) { }
                }
                return Fail($"--out: cannot write to {outDir} ({e.Message.TrimEnd('.')})");
            }
            WriteTable(curve, wiener);
            string reference = wiener is null ? "" : I($"; Wiener reference gap {wiener.PsnrGap:F2} dB");
            Console.WriteLine(testSet is null
                ? I($"{curve.Denoiser}: mean train PSNR {curve.TrainPsnr.Average():F2} dB (no --test, no gap); {curve.TrainImages} images in {seconds:F1} s; wrote {outDir}")
                : I($"{curve.Denoiser}: PSNR gap (train − test, mean over {curve.Sigmas.Count} σ) {curve.PsnrGap:F2} dB{reference}; {curve.TrainImages}+{curve.TestImages} images in {seconds:F1} s; wrote {outDir}"));
            return 0;
        }
    }

    /// <summary>curves.csv: one row per (denoiser, σ) with the train and test PSNR, their standard errors and the gap.</summary>
    public static string CurvesCsv(IEnumerable<DenoisingCurve> curves)
    {
        ArgumentNullException.ThrowIfNull(curves);
        var sb = new StringBuilder("denoiser,sigma,sigma_255,input_psnr,train_psnr,train_psnr_se,test_psnr,test_psnr_se,gap\n");
        foreach (var c in curves)
        {
            var input = c.InputPsnr;
            for (int k = 0; k < c.Sigmas.Count; k++)
                sb.Append(I($"{c.Denoiser},{F(c.Sigmas[k])},{F(c.Sigmas[k] * 255)},{F(input[k])},{F(c.TrainPsnr[k])},{F(c.TrainPsnrStandardError[k])},{F(c.TestPsnr[k])},{F(c.TestPsnrStandardError[k])},{F(c.TrainPsnr[k] - c.TestPsnr[k])}\n"));
        }
        return sb.ToString();
    }

    private static JsonObject CurvesJson(JsonObject config, DenoisingCurve curve, DenoisingCurve? wiener) => new()
    {
        ["config"] = config.DeepClone(),
        ["psnr_gap"] = Finite(curve.PsnrGap),
        ["wiener_psnr_gap"] = wiener is null ? null : Finite(wiener.PsnrGap),
        ["curve"] = JsonNode.Parse(curve.ToJson()),
        ["wiener_reference"] = wiener is null ? null : JsonNode.Parse(wiener.ToJson()),
    };

    /// <summary>The per-σ table on stdout.</summary>
    private static void WriteTable(DenoisingCurve curve, DenoisingCurve? reference)
    {
        static string N(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "-";
        var columns = new List<string> { "sigma*255", "PSNR in", "train", "test", "gap" };
        if (reference is not null) columns.AddRange(["wiener train", "wiener test"]);
        Console.WriteLine(string.Join('\t', columns));
        var input = curve.InputPsnr;
        for (int k = 0; k < curve.Sigmas.Count; k++)
        {
            var row = new List<string> { N(curve.Sigmas[k] * 255), N(input[k]), N(curve.TrainPsnr[k]), N(curve.TestPsnr[k]), N(curve.TrainPsnr[k] - curve.TestPsnr[k]) };
            if (reference is not null) row.AddRange([N(reference.TrainPsnr[k]), N(reference.TestPsnr[k])]);
            Console.WriteLine(string.Join('\t', row));
        }
    }

    private static ReportBuilder BuildReport(JsonObject config, DenoisingCurve curve, DenoisingCurve? wiener, double seconds, DateTimeOffset started)
    {
        var report = new ReportBuilder($"Denoising curves: {curve.Denoiser}",
            $"{config["denoiser"]} · train {config["train"]} · test {config["test"]?.ToString() ?? "(none)"}");
        string gapText = curve.TestImages == 0
            ? "No test set was given, so there is no PSNR gap. "
            : I($"PSNR gap (mean over σ of train − test PSNR): {curve.PsnrGap:F2} dB for {curve.Denoiser}") +
              (wiener is null ? ". " : I($", {wiener.PsnrGap:F2} dB for the Gaussian (Wiener) denoiser fitted to the training images. "));
        report.AddText(
            I($"Output PSNR vs input PSNR at {curve.Sigmas.Count} noise levels σ = logspace(0.3, 2.4, 15)/255, averaged over {curve.TrainImages} training and ") +
            I($"{curve.TestImages} test images (docs/science.md §5), same noise for every denoiser. ") + gapText +
            "Exact recoveries count as 160 dB. A memorizing denoiser has a large gap (train PSNR climbing with unit slope); a generalizing one has train and test curves on top of each other.",
            heading: "Summary");
        report.AddSettings(config, TimeSpan.FromSeconds(seconds), started);
        var values = new JsonArray();
        var curves = wiener is null ? new[] { (curve, curve.Denoiser) } : [(curve, curve.Denoiser), (wiener, "wiener reference")];
        foreach (var (c, name) in curves)
        {
            var input = c.InputPsnr;
            for (int k = 0; k < c.Sigmas.Count; k++)
            {
                values.Add(new JsonObject { ["input_psnr"] = input[k], ["output_psnr"] = Finite(c.TrainPsnr[k]), ["curve"] = $"{name}, train", ["sigma_255"] = c.Sigmas[k] * 255 });
                if (c.TestImages > 0)
                    values.Add(new JsonObject { ["input_psnr"] = input[k], ["output_psnr"] = Finite(c.TestPsnr[k]), ["curve"] = $"{name}, test", ["sigma_255"] = c.Sigmas[k] * 255 });
            }
        }
        var input0 = curve.InputPsnr;
        var diagonal = new JsonArray(
            new JsonObject { ["input_psnr"] = input0.Min(), ["output_psnr"] = input0.Min() },
            new JsonObject { ["input_psnr"] = input0.Max(), ["output_psnr"] = input0.Max() });
        var x = new JsonObject { ["field"] = "input_psnr", ["type"] = "quantitative", ["title"] = "input PSNR (dB)" };
        var spec = new JsonObject
        {
            ["width"] = 520,
            ["height"] = 340,
            ["layer"] = new JsonArray(
                new JsonObject
                {
                    ["data"] = new JsonObject { ["values"] = diagonal },
                    ["mark"] = new JsonObject { ["type"] = "line", ["strokeDash"] = new JsonArray(4, 4), ["color"] = "gray" },
                    ["encoding"] = new JsonObject { ["x"] = x.DeepClone(), ["y"] = new JsonObject { ["field"] = "output_psnr", ["type"] = "quantitative" } },
                },
                new JsonObject
                {
                    ["data"] = new JsonObject { ["values"] = values },
                    ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
                    ["encoding"] = new JsonObject
                    {
                        ["x"] = x.DeepClone(),
                        ["y"] = new JsonObject { ["field"] = "output_psnr", ["type"] = "quantitative", ["title"] = "output PSNR (dB)" },
                        ["color"] = new JsonObject { ["field"] = "curve", ["type"] = "nominal", ["title"] = null },
                        ["tooltip"] = new JsonArray(
                            new JsonObject { ["field"] = "curve", ["type"] = "nominal" },
                            new JsonObject { ["field"] = "sigma_255", ["type"] = "quantitative", ["format"] = ".3g", ["title"] = "σ·255" },
                            new JsonObject { ["field"] = "output_psnr", ["type"] = "quantitative", ["format"] = ".2f" }),
                    },
                }),
        };
        report.AddFigure("denoising-curves", "Output PSNR vs input PSNR",
            "Solid lines with points: mean output PSNR on training and test images for the denoiser and for the Wiener reference; dashed: the identity (output = input).",
            spec);
        static object? R(double v) => double.IsFinite(v) ? Math.Round(v, 2) : null;
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

    private static JsonNode? Finite(double v) => MemGen.Experiments.ResultJson.Finite(v);

    private static string F(double v) =>
        double.IsPositiveInfinity(v) ? "inf" : double.IsNegativeInfinity(v) ? "-inf" : double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);

    private static int Fail(string message) => CommandError.Report("eval", message);

    private sealed class Offset(IProgress<int> inner, int offset) : IProgress<int>
    {
        public void Report(int value) => inner.Report(offset + value);
    }
}
