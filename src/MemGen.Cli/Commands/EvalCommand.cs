using System.CommandLine;
using System.Globalization;
using MemGen.Compute;
using MemGen.Analysis;
using MemGen.Reporting;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen eval</c>: flags → <see cref="EvaluationJobSettings"/> → <see cref="EvaluationJob.Run"/> (denoising curves,
/// docs/science.md §5.1); prints the per-σ table and the PSNR gap.
/// </summary>
internal static class EvalCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var denoiser = SampleCommand.DenoiserOption();
        var train = new Option<string>("--train") { Description = "Dataset spec of the training images (the first --images are used).", Required = true };
        var test = new Option<string?>("--test") { Description = "Dataset spec of held-out test images (without it: training curve only, no gap)." };
        var outDir = new Option<string>("--out") { Description = "Output directory (created if missing).", Required = true };
        var images = new Option<int>("--images") { Description = "Images of each set to measure (docs/science.md §5.1: 300).", DefaultValueFactory = _ => 300 };
        var sigmas = new Option<string?>("--sigmas") { Description = "Comma-separated noise levels σ on the [0,1] image scale (default: the 15 levels logspace(0.3, 2.4, 15)/255 of docs/science.md §5.1)." };
        var seed = new Option<long>("--seed") { Description = "Seed of the noise (the same for every denoiser).", DefaultValueFactory = _ => 0 };
        var batch = new Option<int>("--batch") { Description = "Images denoised per call.", DefaultValueFactory = _ => 64 };
        var force = new Option<bool>("--force") { Description = "Overwrite results already in --out." };
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var noWiener = new Option<bool>("--no-wiener") { Description = "Skip the Wiener reference (its covariance costs d² memory and d³ time)." };
        var command = new Command("eval",
            "Denoising curves (PSNR out vs PSNR in at the 15 standard σ, or --sigmas) on training and test images, the Wiener reference of the same data, and the PSNR gap; " +
            "writes curves.csv, curves.json, report.html.");
        foreach (var o in new Option[] { denoiser, train, test, outDir, images, sigmas, seed, batch, force, noSvg, noWiener }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            try
            {
                var settings = new EvaluationJobSettings
                {
                    Denoiser = parse.GetValue(denoiser)!,
                    Train = parse.GetValue(train)!,
                    Test = parse.GetValue(test),
                    Out = parse.GetValue(outDir)!,
                    Images = parse.GetValue(images),
                    Sigmas = parse.GetValue(sigmas) is string list ? FlagLists.Numbers("sigmas", list) : null,
                    Seed = parse.GetValue(seed),
                    Batch = parse.GetValue(batch),
                    Force = parse.GetValue(force),
                    Wiener = !parse.GetValue(noWiener),
                    Report = new ReportWriteOptions { ExportSvg = !parse.GetValue(noSvg) },
                };
                if (!DeviceOptions.TryOpen(parse, "eval", out var backend, out int code)) return code;
                using var engine = backend;
                var result = ConsoleProgress.Run("eval", EvaluationJob.Passes(settings), progress => EvaluationJob.Run(settings, progress, engine));
                foreach (var w in result.ReportProblems) Console.Error.WriteLine($"memgen eval: warning: {w}");
                WriteTable(result.Curve, result.Wiener);
                var curve = result.Curve;
                string reference = result.Wiener is null ? "" : I($"; Wiener reference gap {result.Wiener.PsnrGap:F2} dB");
                double seconds = result.Elapsed.TotalSeconds;
                Console.WriteLine(curve.TestImages == 0
                    ? I($"{curve.Denoiser}: mean train PSNR {curve.TrainPsnr.Average():F2} dB (no --test, no gap); {curve.TrainImages} images in {seconds:F1} s; wrote {settings.Out}")
                    : I($"{curve.Denoiser}: PSNR gap (train − test, mean over {curve.Sigmas.Count} σ) {curve.PsnrGap:F2} dB{reference}; {curve.TrainImages}+{curve.TestImages} images in {seconds:F1} s; wrote {settings.Out}"));
                return 0;
            }
            catch (InvalidSettingException e)
            {
                return CommandError.Report("eval", e);
            }
        });
        return command;
    }

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

    private static string I(FormattableString s) => FormattableString.Invariant(s);
}
