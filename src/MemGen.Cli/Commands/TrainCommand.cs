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
    /// <summary>File name of the split manifest inside a run directory.</summary>
    public const string SplitFile = "split.json";

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
                    using (resumeBackend) return Resume(resumeDir, resumeBackend);
                }
                var dataSpec = parse.GetValue(data);
                if (string.IsNullOrWhiteSpace(dataSpec)) return Fail("--data is required (or --resume DIR)");
                if (parse.GetValue(n) is not int size) return Fail("--n is required");
                if (size < 1) return Fail("--n must be at least 1");
                var outDir = parse.GetValue(output);
                if (string.IsNullOrWhiteSpace(outDir)) return Fail("--out is required");
                var which = parse.GetValue(subset)!.Trim().ToLowerInvariant();
                if (which is not ("s1" or "s2")) return Fail($"--subset must be s1 or s2, got '{which}'");
                if (parse.GetValue(testCount) < 0) return Fail("--test must not be negative");
                NetworkSpec spec;
                try
                {
                    spec = NetworkSpec.Parse(parse.GetValue(model)!);
                }
                catch (FormatException e)
                {
                    return Fail($"--model: {e.Message}");
                }
                var options = new TrainingOptions
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
                };
                try
                {
                    options.Resolve(spec);
                }
                catch (ArgumentException e)
                {
                    return Fail(FlagMessage(e.Message));
                }
                var dir = Path.GetFullPath(outDir);
                if (File.Exists(dir)) return Fail($"--out '{dir}' is a file, not a folder");
                using var folderLock = MemGen.Runs.RunFolderLock.Acquire(dir);
                if (!MemGen.Runs.RunFolderLock.IsEmpty(dir) && !parse.GetValue(force))
                    return Fail($"--out '{dir}' already exists and is not empty; add --force to overwrite it or use --resume to continue it");
                if (!DeviceOptions.TryOpen(parse, "train", out var backend, out int code)) return code;
                using (backend) return Start(dir, dataSpec, size, which, parse.GetValue(testData), parse.GetValue(testCount), spec, options, parse.GetValue(seed), backend);
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

    private static int Start(string dir, string dataSpec, int n, string subset, string? testSpec, int testCount, NetworkSpec spec, TrainingOptions options, long seed,
        ComputeBackend backend)
    {
        Console.Error.WriteLine($"memgen train: loading '{dataSpec}'");
        var pool = DatasetLoader.Load(dataSpec);
        DisjointSplit split;
        if (testSpec is not null)
        {
            var testSet = DatasetLoader.Load(testSpec);
            split = DisjointSplit.Create(pool, n, testSet, Math.Min(testCount, testSet.Count));
        }
        else
        {
            int heldOut = Math.Max(0, pool.Count - 2 * n); // N > pool/2 is refused by Create with a clear message
            split = DisjointSplit.Create(pool, n, Math.Min(testCount, heldOut));
        }
        var train = subset == "s1" ? split.S1 : split.S2;
        var test = split.Test.Count > 0 ? split.Test : null;
        if (train.Height % spec.SizeDivisor != 0 || train.Width % spec.SizeDivisor != 0)
            return Fail($"--model {spec} needs image sides divisible by {spec.SizeDivisor}, the data are {train.Height}×{train.Width}");

        // The directory was checked by the caller (empty, absent or --force): clear MemGen's files, then save the split.
        if (Directory.Exists(dir)) File.Delete(Path.Combine(dir, SplitFile));
        Directory.CreateDirectory(dir);
        split.Manifest.Save(Path.Combine(dir, SplitFile));
        var config = new TrainingConfig(spec, new TrainingDataSource(dataSpec, n, subset, SplitFile), seed, options);
        try
        {
            return Train(dir, backend, (build, progress, token) => TrainingRun.Start(dir, config, train, test, build, overwrite: true, progress, token));
        }
        catch (Exception e) when (e is not OperationCanceledException && !TrainingRun.HasCheckpoints(dir))
        {
            File.Delete(Path.Combine(dir, SplitFile)); // failed before a first checkpoint: nothing to resume, nothing left
            throw;
        }
    }

    private static int Resume(string resumeDir, ComputeBackend backend)
    {
        var dir = Path.GetFullPath(resumeDir);
        TrainingRun.ReadConfig(dir);
        using var folderLock = MemGen.Runs.RunFolderLock.Acquire(dir, create: false);
        var file = TrainingRun.ReadConfig(dir);
        if (file.EngineThreads is int threads && threads != RunConfigFile.CurrentEngineThreads)
            Console.Error.WriteLine($"memgen train: warning: the run started with {threads} engine threads, this process has {RunConfigFile.CurrentEngineThreads} (set OMP_NUM_THREADS={threads}); the weights will not be bit-identical to an uninterrupted run.");
        var source = file.Config.Data;
        ImageSet train;
        ImageSet? test;
        if (source.SplitManifest is string manifestPath)
        {
            Console.Error.WriteLine($"memgen train: reloading '{source.Spec}' from {manifestPath}");
            var split = DisjointSplit.FromManifest(SplitManifest.Load(Path.Combine(dir, manifestPath)));
            train = source.Subset == "s2" ? split.S2 : split.S1;
            test = split.Test.Count > 0 ? split.Test : null;
        }
        else
        {
            return Fail($"run '{dir}' records no split manifest, so its data cannot be reloaded");
        }
        return Train(dir, backend, (build, progress, token) => TrainingRun.Resume(dir, train, test, build, progress, token));
    }

    private static int Train(string dir, ComputeBackend backend, Func<NetworkBuilder, IProgress<TrainingProgress>, CancellationToken, TrainingResult> run)
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
            var result = WithProgress(dir, report => run(TrainingRun.Networks(backend), new Reporter(p =>
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

    private static string FlagMessage(string message) => message
        .Replace("Training setting learning rate", "--lr", StringComparison.Ordinal)
        .Replace("Training setting learning-rate decay period", "--lr-decay-epochs", StringComparison.Ordinal)
        .Replace("Training setting batch size", "--batch", StringComparison.Ordinal)
        .Replace("Training setting epochs", "--epochs", StringComparison.Ordinal)
        .Replace("Training setting images per epoch", "--images-per-epoch", StringComparison.Ordinal)
        .Replace("Training setting budget", "--budget", StringComparison.Ordinal)
        .Replace("Training setting checkpoint interval", "--checkpoint-every", StringComparison.Ordinal)
        .Replace("Training setting evaluation interval", "--eval-every", StringComparison.Ordinal)
        .Replace("Training setting log interval", "--log-every", StringComparison.Ordinal)
        .Replace("Training setting sigma max", "--sigma-max", StringComparison.Ordinal)
        .Replace("Training setting sigma exponent", "--sigma-exponent", StringComparison.Ordinal)
        .Replace("Training setting P_mean", "--p-mean", StringComparison.Ordinal)
        .Replace("Training setting P_std", "--p-std", StringComparison.Ordinal)
        .Replace("Training setting loss weighting", "--loss-weighting", StringComparison.Ordinal)
        .TrimEnd('.');

    private static int Fail(string message) => CommandError.Report("train", message);

    private sealed class Reporter(Action<TrainingProgress> report) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => report(value);
    }
}
