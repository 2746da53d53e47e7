using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Nn;
using MemGen.Sampling;
using Spectre.Console;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen sample</c>: draws samples from any denoiser with Algorithm 1 (SCIENCE §3, paper or code variant) or the
/// probability-flow sampler. Writes samples.npy, samples.png (grid), trajectories.csv and sampling.json into --out.
/// </summary>
public static class SampleCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var denoiser = new Option<string>("--denoiser") { Description = $"The denoiser: {DenoiserSpec.SyntaxHelp}.", Required = true };
        var count = new Option<int>("--count") { Description = "Number of samples.", DefaultValueFactory = _ => 16 };
        var seed = new Option<long>("--seed") { Description = "Noise seed: sample i uses the stream (seed, i), whatever the model or batch size.", DefaultValueFactory = _ => 0 };
        var first = new Option<int>("--first-index") { Description = "Global index of the first sample.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var sampler = new Option<string>("--sampler") { Description = "algorithm1 or flow (probability flow).", DefaultValueFactory = _ => "algorithm1" };
        var variant = new Option<string>("--variant") { Description = "Algorithm 1: paper (fixed h, last iterate) or code (growing h, final denoising).", DefaultValueFactory = _ => "paper" };
        var h0 = new Option<double>("--h0") { Description = "Algorithm 1 step size h0.", DefaultValueFactory = _ => 0.01 };
        var beta = new Option<double>("--beta") { Description = "Algorithm 1 beta.", DefaultValueFactory = _ => 0.1 };
        var sigma0 = new Option<float>("--sigma0") { Description = "Initial noise sigma (flow: sigma_max).", DefaultValueFactory = _ => 1f };
        var sigmaEnd = new Option<double>("--sigma-end") { Description = "Algorithm 1: stop at sigma_t <= this; flow: sigma_min.", DefaultValueFactory = _ => 0.05 };
        var maxSteps = new Option<int>("--max-steps") { Description = "Algorithm 1: steps before a sample is marked as not converging.", DefaultValueFactory = _ => 10_000 };
        var steps = new Option<int>("--steps") { Description = "Flow: number of schedule steps.", DefaultValueFactory = _ => 100 };
        var method = new Option<string>("--method") { Description = "Flow: euler or heun.", DefaultValueFactory = _ => "euler" };
        var meanData = new Option<string?>("--mean-data") { Description = "Dataset spec whose mean image starts the chains (default: the denoiser's own training set if it has one, else 0.5)." };
        var batch = new Option<int>("--batch") { Description = "Images per denoiser call.", DefaultValueFactory = _ => 64 };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace existing results in --out." };
        var command = new Command("sample", "Draw samples from a denoiser (Algorithm 1 or probability flow); writes samples.npy, samples.png, trajectories.csv, sampling.json.");
        foreach (var o in new Option[] { denoiser, count, seed, first, output, sampler, variant, h0, beta, sigma0, sigmaEnd, maxSteps, steps, method, meanData, batch, overwrite })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            string outDir = parse.GetValue(output)!;
            int n = parse.GetValue(count), b = parse.GetValue(batch), firstIndex = parse.GetValue(first);
            string samplerName = parse.GetValue(sampler)!, variantName = parse.GetValue(variant)!, methodName = parse.GetValue(method)!;
            if (n < 1) return Fail("--count must be at least 1");
            if (b < 1) return Fail("--batch must be at least 1");
            if (firstIndex < 0) return Fail("--first-index must not be negative");
            if (samplerName is not ("algorithm1" or "flow")) return Fail($"--sampler '{samplerName}' must be algorithm1 or flow");
            if (variantName is not ("paper" or "code")) return Fail($"--variant '{variantName}' must be paper or code");
            if (methodName is not ("euler" or "heun")) return Fail($"--method '{methodName}' must be euler or heun");
            var npyPath = Path.Combine(outDir, "samples.npy");
            if (File.Exists(npyPath) && !parse.GetValue(overwrite)) return Fail($"{npyPath} exists (use --overwrite to replace it)");
            try
            {
                using var loaded = DenoiserSpec.Load(parse.GetValue(denoiser)!);
                float[]? mean = parse.GetValue(meanData) is { } spec ? Analysis.ImageStatistics.MeanImage(DatasetLoader.Load(spec)) : loaded.TrainingMean();
                int c = loaded.Channels ?? 1, h = loaded.Height ?? 0, w = loaded.Width ?? 0;
                if (h == 0) return Fail("--denoiser identity has no image size; sample from a checkpoint or a dataset denoiser");
                if (mean is not null && mean.Length != c * h * w) return Fail($"--mean-data images have {mean.Length} pixels, the denoiser works on {c}x{h}x{w}");

                SamplingResult result = null!;
                var settings = new Dictionary<string, object?>();
                var stderr = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
                stderr.Progress().Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
                    .Start(ctx =>
                    {
                        var task = ctx.AddTask($"sampling {n} images", maxValue: n);
                        var progress = new Progress<int>(done => task.Value = done);
                        if (samplerName == "algorithm1")
                        {
                            var options = new Algorithm1Options
                            {
                                Variant = variantName == "code" ? Algorithm1Variant.Code : Algorithm1Variant.Paper,
                                InitialStep = parse.GetValue(h0),
                                Beta = parse.GetValue(beta),
                                InitialSigma = parse.GetValue(sigma0),
                                FinalSigma = parse.GetValue(sigmaEnd),
                                MaxSteps = parse.GetValue(maxSteps),
                                MeanImage = mean,
                                BatchSize = b,
                            };
                            result = new Algorithm1Sampler(options).Sample(loaded.Denoiser, n, c, h, w, parse.GetValue(seed), firstIndex, progress);
                        }
                        else
                        {
                            var options = new ProbabilityFlowOptions
                            {
                                Method = methodName == "heun" ? ProbabilityFlowMethod.Heun : ProbabilityFlowMethod.Euler,
                                Steps = parse.GetValue(steps),
                                MaxSigma = parse.GetValue(sigma0),
                                MinSigma = (float)parse.GetValue(sigmaEnd),
                                MeanImage = mean,
                                BatchSize = b,
                            };
                            result = new ProbabilityFlowSampler(options).Sample(loaded.Denoiser, n, c, h, w, parse.GetValue(seed), firstIndex, progress);
                        }
                        task.Value = n;
                    });

                var images = result.ToImageSet();
                NpyWriter.Write(npyPath, images);
                PngWriter.WriteGrid(Path.Combine(outDir, "samples.png"), images, columns: (int)Math.Ceiling(Math.Sqrt(n)));
                result.WriteTrajectoryCsv(Path.Combine(outDir, "trajectories.csv"));
                var summary = new
                {
                    denoiser = loaded.Spec,
                    denoiser_name = result.Denoiser,
                    sampler = result.Sampler,
                    seed = result.Seed,
                    first_index = result.FirstIndex,
                    count = result.Count,
                    shape = new[] { c, h, w },
                    start_mean = mean is null ? "0.5" : parse.GetValue(meanData) ?? "training-set mean image",
                    diverged = result.DivergedCount,
                    mean_steps = result.Steps.Average(),
                    max_steps = result.Steps.Max(),
                    memgen_version = MemGenInfo.Version,
                };
                AtomicFile.WriteAllText(Path.Combine(outDir, "sampling.json"), JsonSerializer.Serialize(summary, new JsonSerializerOptions { WriteIndented = true }));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.Count} samples ({result.DivergedCount} not converged), mean {result.Steps.Average():F0} steps -> {Path.GetFullPath(outDir)}"));
                if (result.DivergedCount > 0)
                    Console.Error.WriteLine($"memgen sample: warning: {result.DivergedCount} of {result.Count} samples did not converge (marked in trajectories.csv).");
                return 0;
            }
            catch (Exception e) when (e is ArgumentException or CheckpointException or DataFormatException or IOException or UnauthorizedAccessException)
            {
                return Fail(e.Message);
            }
        });
        return command;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"memgen sample: {message.TrimEnd('.')}.");
        return 2;
    }
}
