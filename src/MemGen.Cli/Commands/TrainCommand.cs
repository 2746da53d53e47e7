using System.CommandLine;
using System.Globalization;
using System.Runtime.InteropServices;
using MemGen.Data;
using MemGen.Compute;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Training;
using Spectre.Console;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen train</c>: trains a blind bias-free denoiser on N images (docs/science.md §2) into a run directory, or continues
/// one with <c>--resume DIR</c>. The training set is subset S1 (first N) or S2 (last N) of the pool; test images come
/// from the held-out middle of the pool or from <c>--test-data</c>; the split manifest is saved as split.json.
/// Progress (loss, lr, images/s, ETA) goes to stderr; the summary to stdout. Ctrl+C (or SIGTERM) stops after the
/// current step with a checkpoint; exit codes: 0 done, 1 failed (e.g. diverged), 2 bad input, 130 stopped.
/// </summary>
internal static class TrainCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var defaults = new TrainingOptions();
        var data = new Option<string>("--data") { Description = "Dataset spec of the pool, e.g. 'fashion-mnist:train|dedup' (see memgen data --help)." };
        var n = new Option<int?>("--n") { Description = "Training set size N (S1 = first N images of the pool, S2 = last N)." };
        var subset = new Option<string>("--subset") { Description = "Which disjoint subset to train on: s1 or s2.", DefaultValueFactory = _ => "s1" };
        var testData = new Option<string?>("--test-data") { Description = "Dataset spec of the test images (default: the pool's held-out middle)." };
        var testCount = new Option<int>("--test") { Description = "Test images to keep (fewer if the held-out part is smaller).", DefaultValueFactory = _ => 300 };
        var model = new Option<string>("--model") { Description = $"Network: {NetworkSpec.SyntaxHelp} (gray images: {ModelHelp.Sizes()}).", DefaultValueFactory = _ => "bfcnn:layers=21,width=64" };
        var output = new Option<string?>("--out") { Description = "Run directory to create (config.json, metrics.csv, checkpoints/)." };
        var resume = new Option<string?>("--resume") { Description = "Continue the run in this directory from its last checkpoint." };
        var force = new Option<bool>("--force") { Description = "Overwrite an existing run directory given by --out." };
        var budget = new Option<long?>("--budget") { Description = "Total training images (replaces --epochs)." };
        var batch = new Option<int>("--batch") { Description = "Images per step.", DefaultValueFactory = _ => defaults.BatchSize };
        var lr = new Option<double>("--lr") { Description = "Initial Adam learning rate.", DefaultValueFactory = _ => defaults.LearningRate };
        var lrDecay = new Option<int>("--lr-decay-epochs") { Description = "Halve the learning rate every this many epochs.", DefaultValueFactory = _ => defaults.LearningRateDecayEpochs };
        var epochs = new Option<int>("--epochs") { Description = "Epochs (ignored with --budget).", DefaultValueFactory = _ => defaults.Epochs };
        var perEpoch = new Option<int>("--images-per-epoch") { Description = "Images per epoch (the training set is tiled to this size).", DefaultValueFactory = _ => defaults.ImagesPerEpoch };
        var seed = new Option<long>("--seed") { Description = "Seed of initialization, data order and noise.", DefaultValueFactory = _ => 0 };
        var checkpointEvery = new Option<int?>("--checkpoint-every") { Description = "Steps between checkpoints (default: ~20 per run, at most every 10 epochs)." };
        var evalEvery = new Option<int?>("--eval-every") { Description = "Steps between train/test PSNR evaluations (default: at each checkpoint)." };
        var logEvery = new Option<int>("--log-every") { Description = "Steps between rows of metrics.csv.", DefaultValueFactory = _ => defaults.LogEvery };
        var sigmaMax = new Option<double>("--sigma-max") { Description = "Largest training noise level: σ = sigma-max·u^sigma-exponent, u ~ U(0,1).", DefaultValueFactory = _ => defaults.SigmaMax };
        var sigmaExponent = new Option<double>("--sigma-exponent") { Description = "Exponent of u in the training noise level (2 favours small σ).", DefaultValueFactory = _ => defaults.SigmaExponent };
        var sigmaDistribution = new Option<string?>("--sigma-distribution")
        {
            Description = "How σ is drawn: power (σ = sigma-max·u^sigma-exponent; default for blind networks) or log-normal (ln σ ~ N(p-mean, p-std²), EDM; default for unet-cond).",
        };
        sigmaDistribution.AcceptOnlyFromAmong("power", "log-normal");
        var pMean = new Option<double?>("--p-mean") { Description = $"P_mean of the log-normal σ (default {TrainingOptions.DefaultSigmaLogMean})." };
        var pStd = new Option<double?>("--p-std") { Description = $"P_std of the log-normal σ (default {TrainingOptions.DefaultSigmaLogStd})." };
        var lossWeighting = new Option<string?>("--loss-weighting")
        {
            Description = "uniform or edm (λ(σ) = (σ² + σ_data²)/(σ·σ_data)², unet-cond only; its default).",
        };
        lossWeighting.AcceptOnlyFromAmong("uniform", "edm");

        var command = new Command("train", "Train a blind bias-free denoiser on N images (docs/science.md §2), or continue a run with --resume DIR.");
        foreach (var o in new Option[] { data, n, subset, testData, testCount, model, output, resume, force, budget, batch, lr, lrDecay, epochs, perEpoch, seed, checkpointEvery, evalEvery, logEvery, sigmaMax, sigmaExponent, sigmaDistribution, pMean, pStd, lossWeighting })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            try
            {
                if (parse.GetValue(resume) is string resumeDir)
                {
                    var given = new Option[] { data, n, testData, model, output, force, budget, checkpointEvery, evalEvery, sigmaDistribution, pMean, pStd, lossWeighting }
                        .Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name).ToList();
                    given.AddRange(new Option[] { subset, testCount, batch, lr, lrDecay, epochs, perEpoch, seed, logEvery, sigmaMax, sigmaExponent }
                        .Where(o => parse.GetResult(o) is { Implicit: false }).Select(o => o.Name));
                    if (given.Count > 0) return Fail($"--resume takes its settings from the run's config.json; drop {string.Join(", ", given)}");
                    if (!DeviceOptions.TryOpen(parse, "train", out var resumeBackend, out int resumeCode)) return resumeCode;
                    using (resumeBackend)
                        return Train(Path.GetFullPath(resumeDir), (progress, token) => TrainingJob.Resume(resumeDir, TrainingRun.Networks(resumeBackend), progress, Note, token));
                }
                var settings = new TrainingJobSettings
                {
                    Data = parse.GetValue(data),
                    N = parse.GetValue(n),
                    Subset = parse.GetValue(subset)!.Trim().ToLowerInvariant(),
                    TestData = parse.GetValue(testData),
                    TestCount = parse.GetValue(testCount),
                    Model = parse.GetValue(model)!,
                    Out = parse.GetValue(output),
                    Force = parse.GetValue(force),
                    Seed = parse.GetValue(seed),
                    Options = new TrainingOptions
                    {
                        LearningRate = parse.GetValue(lr),
                        LearningRateDecayEpochs = parse.GetValue(lrDecay),
                        BatchSize = parse.GetValue(batch),
                        Epochs = parse.GetValue(epochs),
                        ImagesPerEpoch = parse.GetValue(perEpoch),
                        Budget = parse.GetValue(budget),
                        CheckpointEvery = parse.GetValue(checkpointEvery),
                        EvalEvery = parse.GetValue(evalEvery),
                        LogEvery = parse.GetValue(logEvery),
                        SigmaMax = parse.GetValue(sigmaMax),
                        SigmaExponent = parse.GetValue(sigmaExponent),
                        SigmaDistribution = parse.GetValue(sigmaDistribution) switch { "power" => SigmaDistribution.Power, "log-normal" => SigmaDistribution.LogNormal, _ => null },
                        SigmaLogMean = parse.GetValue(pMean),
                        SigmaLogStd = parse.GetValue(pStd),
                        LossWeighting = parse.GetValue(lossWeighting) switch { "uniform" => LossWeighting.Uniform, "edm" => LossWeighting.Edm, _ => null },
                    },
                };
                TrainingJob.Validate(settings); // bad flags are named before a device is opened
                if (!DeviceOptions.TryOpen(parse, "train", out var backend, out int code)) return code;
                using (backend)
                    return Train(Path.GetFullPath(settings.Out!), (progress, token) => TrainingJob.Start(settings, TrainingRun.Networks(backend), progress, Note, token));
            }
            catch (InvalidSettingException e)
            {
                return CommandError.Report("train", e, s_flags);
            }
            catch (Exception e) when (e is DataFormatException or CheckpointException)
            {
                return Fail(e.Message);
            }
            catch (TrainingDivergedException e)
            {
                Console.Error.WriteLine($"memgen train: {e.Message}");
                return 1;
            }
            catch (TrainingRunException e)
            {
                return Fail(e.Message);
            }
        });
        return command;
    }

    private static void Note(string message) => Console.Error.WriteLine($"memgen train: {message}");

    private static int Train(string dir, Func<IProgress<TrainingProgress>, CancellationToken, TrainingResult> run)
    {
        using var stop = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            if (stop.IsCancellationRequested) return; // a second Ctrl+C ends the process at once
            e.Cancel = true;
            Console.Error.WriteLine("memgen train: stopping after this step (a checkpoint will be written); press Ctrl+C again to abort at once.");
            stop.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        using var onTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            context.Cancel = true;
            stop.Cancel();
        });
        TrainingProgress? last = null;
        try
        {
            var result = WithProgress(dir, report => run(new Reporter(p =>
            {
                last = p;
                report(p);
            }), stop.Token));
            using (result.Network)
            {
                Console.WriteLine($"trained {result.Network.Spec} for {result.Steps} steps{(result.ResumedFromStep > 0 ? $" (resumed at step {result.ResumedFromStep})" : "")}");
                Console.WriteLine($"final checkpoint: {result.FinalCheckpoint}");
                Console.WriteLine($"metrics: {Path.Combine(dir, TrainingRun.MetricsFile)}");
                if (last?.TrainPsnr is { } trainPsnr)
                {
                    var sigmas = last.Sigmas;
                    Console.WriteLine("PSNR out (dB) at σ " + string.Join(", ", sigmas.Select(s => s.ToString(CultureInfo.InvariantCulture))) +
                        ": train " + string.Join(", ", trainPsnr.Select(v => v.ToString("F2", CultureInfo.InvariantCulture))) +
                        (last.TestPsnr is { } testPsnr ? "; test " + string.Join(", ", testPsnr.Select(v => v.ToString("F2", CultureInfo.InvariantCulture))) : ""));
                }
            }
            return 0;
        }
        catch (OperationCanceledException)
        {
            var step = TrainingRun.LatestCheckpointStep(dir);
            Console.Error.WriteLine($"memgen train: stopped at step {step}; continue with: memgen train --resume {dir}");
            return 130;
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }

    /// <summary>A Spectre.Console bar on a terminal; a line every 30 s (and at the end) when stderr is redirected.</summary>
    private static T WithProgress<T>(string dir, Func<Action<TrainingProgress>, T> work)
    {
        if (Console.IsErrorRedirected)
        {
            var lastLine = DateTime.MinValue;
            return work(p =>
            {
                if (p.Step != p.TotalSteps && DateTime.UtcNow - lastLine < TimeSpan.FromSeconds(30)) return;
                lastLine = DateTime.UtcNow;
                Console.Error.WriteLine($"memgen train: step {p.Step}/{p.TotalSteps} {Describe(p)}, eta {Eta(p)}");
            });
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape($"training {Path.GetFileName(dir)}"), maxValue: 1.0);
                result = work(p =>
                {
                    task.Description = Markup.Escape(Describe(p));
                    task.Value = (double)p.Step / p.TotalSteps;
                });
            });
        return result;
    }

    private static string Describe(TrainingProgress p)
    {
        var text = string.Create(CultureInfo.InvariantCulture, $"epoch {p.Epoch:F2} loss {p.Loss:G4} lr {p.LearningRate:G3} {p.ImagesPerSecond:F0} img/s");
        if (p.TestPsnr is { Count: > 0 } test) return text + string.Create(CultureInfo.InvariantCulture, $" test PSNR@{p.Sigmas[0]} {test[0]:F2} dB");
        if (p.TrainPsnr is { Count: > 0 } train) return text + string.Create(CultureInfo.InvariantCulture, $" PSNR@{p.Sigmas[0]} {train[0]:F2} dB");
        return text;
    }

    private static string Eta(TrainingProgress p) => p.Remaining is TimeSpan t ? t.ToString(@"d\.hh\:mm\:ss", CultureInfo.InvariantCulture) : "?";

    /// <summary>The settings of <see cref="TrainingJobSettings"/> and <see cref="TrainingOptions"/> whose flag is not --SETTING.</summary>
    private static readonly Dictionary<string, string> s_flags = new()
    {
        ["test-count"] = "--test",
        ["learning-rate"] = "--lr",
        ["learning-rate-decay-epochs"] = "--lr-decay-epochs",
        ["batch-size"] = "--batch",
        ["sigma-log-mean"] = "--p-mean",
        ["sigma-log-std"] = "--p-std",
    };

    private static int Fail(string message) => CommandError.Report("train", message);

    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
