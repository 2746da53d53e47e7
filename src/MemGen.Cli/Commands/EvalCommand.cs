using System.CommandLine;
using System.Globalization;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Nn;
using Spectre.Console;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen eval</c>: the denoising curves of SCIENCE §5 (output PSNR vs input PSNR at the 15 standard σ, on training and
/// test images, PSNR gap) for any denoiser, with the Gaussian (Wiener) denoiser of the training images as a reference line.
/// Writes curve.csv/curve.json and wiener.csv/wiener.json into --out; prints a table.
/// </summary>
public static class EvalCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var denoiser = new Option<string>("--denoiser") { Description = $"The denoiser: {DenoiserSpec.SyntaxHelp}.", Required = true };
        var train = new Option<string>("--train") { Description = "Dataset spec of the training images.", Required = true };
        var test = new Option<string?>("--test") { Description = "Dataset spec of the test images." };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var images = new Option<int>("--images") { Description = "Images per set (the first ones).", DefaultValueFactory = _ => 300 };
        var seed = new Option<long>("--seed") { Description = "Noise seed.", DefaultValueFactory = _ => 0 };
        var noWiener = new Option<bool>("--no-wiener") { Description = "Skip the Wiener reference curve." };
        var command = new Command("eval", "Denoising curves (PSNR out vs in at 15 sigmas) on train and test images with the PSNR gap and a Wiener reference.");
        foreach (var o in new Option[] { denoiser, train, test, output, images, seed, noWiener }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            string outDir = parse.GetValue(output)!;
            int count = parse.GetValue(images);
            if (count < 1) return Fail("--images must be at least 1");
            try
            {
                using var loaded = DenoiserSpec.Parse(parse.GetValue(denoiser)!).Open();
                var trainSet = DatasetLoader.Load(parse.GetValue(train)!);
                var testSet = parse.GetValue(test) is { } t ? DatasetLoader.Load(t) : null;
                if (loaded.Shape is { } shape && (shape.Height != trainSet.Height || shape.Width != trainSet.Width || shape.Channels != trainSet.Channels))
                    return Fail($"--train images are {trainSet.Channels}x{trainSet.Height}x{trainSet.Width}, the denoiser works on {shape.Channels}x{shape.Height}x{shape.Width}");
                if (testSet is not null && testSet.ImageSize != trainSet.ImageSize)
                    return Fail($"--test images have {testSet.ImageSize} pixels, --train images {trainSet.ImageSize}");
                var options = new DenoisingCurveOptions { MaxImages = count, Seed = parse.GetValue(seed) };
                bool wiener = !parse.GetValue(noWiener);
                DenoisingCurve curve = null!;
                DenoisingCurve? reference = null;
                var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                stderr.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        int passes = options.Sigmas.Count * (testSet is null ? 1 : 2);
                        var task = ctx.AddTask(loaded.Denoiser.Name, maxValue: passes);
                        curve = DenoisingCurve.Measure(loaded.Denoiser, trainSet, testSet, options, new Progress<int>(p => task.Value = p));
                        task.Value = passes;
                        if (wiener)
                        {
                            var wienerTask = ctx.AddTask("wiener reference", maxValue: passes);
                            reference = DenoisingCurve.Measure(GaussianDenoiser.FromImages(trainSet), trainSet, testSet, options,
                                new Progress<int>(p => wienerTask.Value = p));
                            wienerTask.Value = passes;
                        }
                    });
                curve.WriteCsv(Path.Combine(outDir, "curve.csv"));
                curve.WriteJson(Path.Combine(outDir, "curve.json"));
                reference?.WriteCsv(Path.Combine(outDir, "wiener.csv"));
                reference?.WriteJson(Path.Combine(outDir, "wiener.json"));
                WriteTable(curve, reference);
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or CheckpointException or DataFormatException or IOException or UnauthorizedAccessException)
            {
                return Fail(e.Message);
            }
        });
        return command;
    }

    private static void WriteTable(DenoisingCurve curve, DenoisingCurve? reference)
    {
        static string F(double v) => double.IsFinite(v) ? v.ToString("F2", CultureInfo.InvariantCulture) : "-";
        var table = new Table().Title($"{Markup.Escape(curve.Denoiser)}: PSNR gap {F(curve.PsnrGap)} dB ({curve.TrainImages} train, {curve.TestImages} test images)");
        foreach (var c in new[] { "sigma*255", "PSNR in", "train", "test", "gap" }) table.AddColumn(new TableColumn(c).RightAligned());
        if (reference is not null) { table.AddColumn(new TableColumn("wiener train").RightAligned()); table.AddColumn(new TableColumn("wiener test").RightAligned()); }
        var input = curve.InputPsnr;
        for (int k = 0; k < curve.Sigmas.Count; k++)
        {
            var row = new List<string> { F(curve.Sigmas[k] * 255), F(input[k]), F(curve.TrainPsnr[k]), F(curve.TestPsnr[k]), F(curve.TrainPsnr[k] - curve.TestPsnr[k]) };
            if (reference is not null) { row.Add(F(reference.TrainPsnr[k])); row.Add(F(reference.TestPsnr[k])); }
            table.AddRow(row.ToArray());
        }
        AnsiConsole.Write(table);
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"memgen eval: {message.TrimEnd('.')}.");
        return 2;
    }
}
