using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Compute;
using MemGen.Data;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Runs;
using MemGen.Tensors;

namespace MemGen.Training;

/// <summary>Builds an untrained network of <paramref name="spec"/> for <paramref name="channels"/>-channel images, initialized from <paramref name="seed"/>.</summary>
public delegate DenoisingNetwork NetworkBuilder(NetworkSpec spec, int channels, long seed);

/// <summary>Where a training run stands, reported after every step.</summary>
/// <param name="Step">Steps completed.</param>
/// <param name="TotalSteps">Steps of the whole run.</param>
/// <param name="Epoch">Epochs completed (fractional).</param>
/// <param name="Loss">Loss of the last step.</param>
/// <param name="LearningRate">Learning rate of the last step.</param>
/// <param name="ImagesPerSecond">Training throughput in this process so far.</param>
/// <param name="Elapsed">Training time so far, over all sessions of the run.</param>
/// <param name="Remaining">Estimated time to the end, once measurable.</param>
/// <param name="Sigmas">The evaluation noise levels.</param>
/// <param name="TrainPsnr">Latest train PSNR per σ, once evaluated.</param>
/// <param name="TestPsnr">Latest test PSNR per σ, once evaluated (null without a test set).</param>
public sealed record TrainingProgress(
    long Step, long TotalSteps, double Epoch, double Loss, double LearningRate, double ImagesPerSecond,
    TimeSpan Elapsed, TimeSpan? Remaining, IReadOnlyList<double> Sigmas, IReadOnlyList<double>? TrainPsnr, IReadOnlyList<double>? TestPsnr);

/// <summary>A finished training run.</summary>
/// <param name="RunDirectory">The run directory.</param>
/// <param name="Network">The trained network (the caller disposes it).</param>
/// <param name="Steps">Steps trained in total.</param>
/// <param name="FinalCheckpoint">Path of checkpoints/final.safetensors.</param>
/// <param name="ResumedFromStep">The checkpoint step this session started from (0 for a fresh run).</param>
public sealed record TrainingResult(string RunDirectory, DenoisingNetwork Network, long Steps, string FinalCheckpoint, long ResumedFromStep);

/// <summary>
/// A training run in a directory: <c>config.json</c> (everything needed to reproduce it), <c>metrics.csv</c>,
/// <c>checkpoints/step-NNNNNNNN.safetensors</c> (weights) with <c>step-NNNNNNNN.adam.safetensors</c> (optimizer
/// state; only the latest is kept) and <c>checkpoints/final.safetensors</c>. All randomness derives from
/// (seed, step), and a checkpoint holds the whole state, so a run stopped at any moment (cancellation, SIGINT,
/// SIGKILL) and resumed ends with bit-identical weights to an uninterrupted run.
/// </summary>
public static class TrainingRun
{
    /// <summary>File name of the run configuration.</summary>
    public const string ConfigFile = "config.json";

    /// <summary>File name of the metrics log.</summary>
    public const string MetricsFile = "metrics.csv";

    /// <summary>Folder of the checkpoints.</summary>
    public const string CheckpointFolder = "checkpoints";

    /// <summary>File name of the final weights inside <see cref="CheckpointFolder"/>.</summary>
    public const string FinalCheckpointFile = "final.safetensors";

    /// <summary>Builds the real networks (<see cref="NetworkFactory"/>) on <paramref name="backend"/>.</summary>
    public static NetworkBuilder Networks(ComputeBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return (spec, channels, seed) => NetworkFactory.Create(spec, channels, backend, seed);
    }

    /// <summary>
    /// <see cref="StartOrResume(string, TrainingConfig, ImageSet, ImageSet?, NetworkBuilder, IProgress{TrainingProgress}?, CancellationToken)"/>
    /// with the real networks of <see cref="NetworkFactory"/> on <paramref name="backend"/>.
    /// </summary>
    public static TrainingResult StartOrResume(
        string runDirectory, TrainingConfig config, ImageSet train, ImageSet? test, ComputeBackend backend,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default) =>
        StartOrResume(runDirectory, config, train, test, Networks(backend), progress, cancellation);

    /// <summary>
    /// Starts a new run in <paramref name="runDirectory"/>. An existing non-empty directory is refused unless
    /// <paramref name="overwrite"/>, which removes MemGen's run files (config, metrics, checkpoints) first.
    /// </summary>
    public static TrainingResult Start(
        string runDirectory, TrainingConfig config, ImageSet train, ImageSet? test, NetworkBuilder build, bool overwrite = false,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(train);
        var dir = Path.GetFullPath(runDirectory);
        using var folderLock = RunFolderLock.Acquire(dir);
        if (!RunFolderLock.IsEmpty(dir))
        {
            if (!overwrite)
                throw new TrainingRunException($"Run directory '{dir}' already exists and is not empty; use --force to overwrite it or --resume to continue it.");
            RemoveRunFiles(dir);
        }
        var file = new RunConfigFile(
            config with { Options = config.Options.Resolve(config.Model) },
            ImageSetFingerprint.Of(train), test is null ? null : ImageSetFingerprint.Of(test), MemGenInfo.Version, DateTime.UtcNow,
            RunConfigFile.CurrentEngineThreads);
        CheckData(file, train, test, dir);
        Directory.CreateDirectory(Path.Combine(dir, CheckpointFolder));
        try
        {
            AtomicFile.WriteAllText(Path.Combine(dir, ConfigFile), file.ToJson());
            return Continue(dir, file, train, test, build, progress, cancellation);
        }
        catch (Exception e) when (e is not OperationCanceledException && !HasCheckpoints(dir))
        {
            // A run that failed before its first checkpoint (diverged at once, disk full) has nothing to resume: leave nothing half-written.
            RemoveRunFiles(dir);
            throw;
        }
    }

    /// <summary>Reads the config.json of <paramref name="runDirectory"/> (to load its data before <see cref="Resume"/>).</summary>
    public static RunConfigFile ReadConfig(string runDirectory)
    {
        var path = Path.Combine(Path.GetFullPath(runDirectory), ConfigFile);
        if (!File.Exists(path)) throw new TrainingRunException($"'{runDirectory}' is not a training run: {ConfigFile} is missing.");
        return RunConfigFile.FromJson(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Continues the run in <paramref name="runDirectory"/> from its latest checkpoint (or from the start when none
    /// was written yet). <paramref name="train"/> and <paramref name="test"/> must be the images the run started with.
    /// A finished run returns its final network at once.
    /// </summary>
    public static TrainingResult Resume(
        string runDirectory, ImageSet train, ImageSet? test, NetworkBuilder build,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        var dir = Path.GetFullPath(runDirectory);
        ReadConfig(dir); // "not a training run" before anything else
        using var folderLock = RunFolderLock.Acquire(dir, create: false);
        var file = ReadConfig(dir);
        CheckData(file, train, test, dir);
        return Continue(dir, file, train, test, build, progress, cancellation);
    }

    /// <summary>
    /// Starts the run, or resumes it when <paramref name="runDirectory"/> already holds a run of the same config
    /// (anything else there is refused). This is the entry point for experiments that train many models.
    /// </summary>
    public static TrainingResult StartOrResume(
        string runDirectory, TrainingConfig config, ImageSet train, ImageSet? test, NetworkBuilder build,
        IProgress<TrainingProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(config);
        var dir = Path.GetFullPath(runDirectory);
        using var folderLock = RunFolderLock.Acquire(dir);
        if (!File.Exists(Path.Combine(dir, ConfigFile))) return Start(dir, config, train, test, build, overwrite: false, progress, cancellation);
        var existing = ReadConfig(dir);
        var difference = FirstDifference(RunConfigFile.ConfigTree(existing.Config), RunConfigFile.ConfigTree(config with { Options = config.Options.Resolve(config.Model) }), "config");
        if (difference is not null)
            throw new TrainingRunException($"Run directory '{dir}' holds a run with a different config ({difference}); choose another directory.");
        return Resume(dir, train, test, build, progress, cancellation);
    }

    /// <summary>The weights checkpoint path of step <paramref name="step"/> in <paramref name="runDirectory"/>.</summary>
    public static string CheckpointPath(string runDirectory, long step) =>
        Path.Combine(runDirectory, CheckpointFolder, $"step-{step.ToString("D8", CultureInfo.InvariantCulture)}.safetensors");

    /// <summary>The optimizer-state path of step <paramref name="step"/> in <paramref name="runDirectory"/>.</summary>
    public static string OptimizerPath(string runDirectory, long step) =>
        Path.Combine(runDirectory, CheckpointFolder, $"step-{step.ToString("D8", CultureInfo.InvariantCulture)}.adam.safetensors");

    /// <summary>The latest step with both a weights checkpoint and an optimizer state, or null.</summary>
    public static long? LatestCheckpointStep(string runDirectory)
    {
        var folder = Path.Combine(runDirectory, CheckpointFolder);
        if (!Directory.Exists(folder)) return null;
        long? best = null;
        foreach (var path in Directory.EnumerateFiles(folder, "step-*.adam.safetensors"))
        {
            var name = Path.GetFileName(path);
            var digits = name["step-".Length..^".adam.safetensors".Length];
            if (!long.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out var step)) continue;
            if (File.Exists(CheckpointPath(runDirectory, step)) && (best is null || step > best)) best = step;
        }
        return best;
    }

    private static void CheckData(RunConfigFile file, ImageSet train, ImageSet? test, string dir)
    {
        ArgumentNullException.ThrowIfNull(train);
        var trainPrint = ImageSetFingerprint.Of(train);
        if (trainPrint != file.Train)
            throw new TrainingRunException($"The training images differ from those run '{dir}' was started with ({Describe(file.Train)} vs {Describe(trainPrint)}).");
        if (file.Config.Data.N != train.Count)
            throw new TrainingRunException($"Config data.n = {file.Config.Data.N} but the training set has {train.Count} images.");
        if ((test is null) != (file.Test is null))
            throw new TrainingRunException($"Run '{dir}' was started {(file.Test is null ? "without" : "with")} a test set.");
        if (test is not null && ImageSetFingerprint.Of(test) != file.Test)
            throw new TrainingRunException($"The test images differ from those run '{dir}' was started with.");
    }

    private static string Describe(ImageSetFingerprint f) => $"{f.Count}×{f.Channels}×{f.Height}×{f.Width}, sha256 {f.Sha256[..12]}";

    private static string? FirstDifference(JsonNode? a, JsonNode? b, string path)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
            {
                var d = FirstDifference(oa[key], ob[key], $"{path}.{key}");
                if (d is not null) return d;
            }
            return null;
        }
        var sa = a?.ToJsonString() ?? "null";
        var sb = b?.ToJsonString() ?? "null";
        return sa == sb ? null : $"{path}: {sa} there, {sb} requested";
    }

    private static TrainingResult Continue(
        string dir, RunConfigFile file, ImageSet train, ImageSet? test, NetworkBuilder build,
        IProgress<TrainingProgress>? progress, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(build);
        var config = file.Config;
        var options = config.Options;
        var network = build(config.Model, train.Channels, config.Seed);
        try
        {
            var trainer = new Trainer(network, train, options, config.Seed);
            var (start, elapsedBefore) = RestoreNewestUsable(dir, network, trainer, options.TotalSteps);
            var session = new Session(dir, file, trainer, train, test, start, elapsedBefore, progress);
            session.Run(cancellation);
            return new TrainingResult(dir, network, options.TotalSteps, Path.Combine(dir, CheckpointFolder, FinalCheckpointFile), start);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Loads the newest checkpoint whose weights and optimizer state are both intact (checksums, shapes, finite
    /// values, steps that agree and lie within the run) into <paramref name="network"/> and the optimizer, and returns its
    /// step (0 when the run wrote none yet). Unusable newer checkpoints are skipped with a warning naming them; when
    /// checkpoints exist but none is usable the run is refused rather than restarted.
    /// </summary>
    private static (long Step, double ElapsedSeconds) RestoreNewestUsable(string dir, DenoisingNetwork network, Trainer trainer, long totalSteps)
    {
        var problems = new List<string>();
        foreach (long step in CheckpointSteps(dir))
        {
            string name = Path.GetFileName(CheckpointPath(dir, step));
            if (step > totalSteps)
            {
                problems.Add($"{name} is beyond the run's {totalSteps} steps");
                continue;
            }
            if (!File.Exists(OptimizerPath(dir, step)))
            {
                problems.Add($"{name} has no optimizer state ({Path.GetFileName(OptimizerPath(dir, step))} is missing)");
                continue;
            }
            try
            {
                var meta = Checkpoint.LoadInto(CheckpointPath(dir, step), network);
                var adamMeta = OptimizerCheckpoint.LoadInto(OptimizerPath(dir, step), trainer.Optimizer, network.Parameters);
                if (meta.Step != step || adamMeta.GetValueOrDefault("training_step") != step.ToString(CultureInfo.InvariantCulture))
                {
                    problems.Add($"the files of {name} disagree about their step");
                    continue;
                }
                if (problems.Count > 0)
                    RunWarnings.Report($"{dir}: resuming from step {step}, the newest usable checkpoint ({string.Join("; ", problems)})");
                double elapsed = double.TryParse(meta.Values.GetValueOrDefault("elapsed_s", "0"), NumberStyles.Float, CultureInfo.InvariantCulture, out var e) ? e : 0;
                return (step, elapsed);
            }
            catch (CheckpointException e)
            {
                problems.Add(e.Message.TrimEnd('.'));
            }
        }
        if (problems.Count > 0)
            throw new TrainingRunException(
                $"Run '{dir}' has checkpoints but none can be resumed ({string.Join("; ", problems)}); nothing was changed. Start it again with --force to train from step 0.");
        return (0, 0);
    }

    /// <summary>True when <paramref name="runDirectory"/> holds any checkpoint file.</summary>
    public static bool HasCheckpoints(string runDirectory)
    {
        var folder = Path.Combine(runDirectory, CheckpointFolder);
        return Directory.Exists(folder) && Directory.EnumerateFiles(folder, "*.safetensors").Any();
    }

    /// <summary>Removes MemGen's run files (config, metrics, checkpoints) from <paramref name="dir"/>, nothing else.</summary>
    private static void RemoveRunFiles(string dir)
    {
        File.Delete(Path.Combine(dir, ConfigFile));
        File.Delete(Path.Combine(dir, MetricsFile));
        if (Directory.Exists(Path.Combine(dir, CheckpointFolder))) Directory.Delete(Path.Combine(dir, CheckpointFolder), recursive: true);
    }

    /// <summary>The steps of the weight checkpoints in <paramref name="runDirectory"/>, newest first.</summary>
    private static IEnumerable<long> CheckpointSteps(string runDirectory)
    {
        var folder = Path.Combine(runDirectory, CheckpointFolder);
        if (!Directory.Exists(folder)) return [];
        var steps = new List<long>();
        foreach (var path in Directory.EnumerateFiles(folder, "step-*.safetensors"))
        {
            var name = Path.GetFileName(path);
            if (name.EndsWith(".adam.safetensors", StringComparison.Ordinal)) continue;
            if (long.TryParse(name["step-".Length..^".safetensors".Length], NumberStyles.None, CultureInfo.InvariantCulture, out var step)) steps.Add(step);
        }
        return steps.OrderDescending();
    }

    /// <summary>The first parameter of <paramref name="network"/> holding NaN or ±∞, or null when all are finite.</summary>
    private static string? FirstNonFiniteParameter(DenoisingNetwork network)
    {
        foreach (var p in network.Parameters)
        {
            // Fast path: a finite sum of squares means every value is finite (it can also overflow on huge finite values).
            if (float.IsFinite(System.Numerics.Tensors.TensorPrimitives.SumOfSquares<float>(p.Value.Span))) continue;
            if (!AllFinite(p.Value.Span)) return p.Name;
        }
        return null;
    }

    private static bool AllFinite(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
            if (!float.IsFinite(v)) return false;
        return true;
    }

    /// <summary>One process's stretch of a run: from a start step to the end or a stop.</summary>
    private sealed class Session
    {
        private readonly string _dir;
        private readonly RunConfigFile _file;
        private readonly Trainer _trainer;
        private readonly ImageSet _train;
        private readonly long _start;
        private readonly double _elapsedBefore;
        private readonly IProgress<TrainingProgress>? _progress;
        private readonly TrainingEvaluator _trainEval;
        private readonly TrainingEvaluator? _testEval;
        private readonly Stopwatch _clock = new();
        private long _lastCheckpoint = -1;

        public Session(string dir, RunConfigFile file, Trainer trainer, ImageSet train, ImageSet? test, long start, double elapsedBefore, IProgress<TrainingProgress>? progress)
        {
            _dir = dir;
            _file = file;
            _trainer = trainer;
            _train = train;
            _start = start;
            _elapsedBefore = elapsedBefore;
            _progress = progress;
            var o = file.Config.Options;
            _trainEval = new TrainingEvaluator(train, o.EvalImages, o.EvalSigmas, o.BatchSize, file.Config.Seed);
            _testEval = test is null ? null : new TrainingEvaluator(test, o.EvalImages, o.EvalSigmas, o.BatchSize, file.Config.Seed);
            if (start > 0) _lastCheckpoint = start;
        }

        private TrainingOptions Options => _file.Config.Options;

        private double Elapsed => _elapsedBefore + _clock.Elapsed.TotalSeconds;

        public void Run(CancellationToken cancellation)
        {
            long total = Options.TotalSteps;
            var finalPath = Path.Combine(_dir, CheckpointFolder, FinalCheckpointFile);
            if (_start >= total)
            {
                if (!File.Exists(finalPath)) SaveWeights(finalPath, total);
                return;
            }
            var sigmas = Options.EvalSigmas;
            var header = new List<string> { "step", "epoch", "loss", "lr", "images_per_s", "elapsed_s" };
            header.AddRange(sigmas.Select(s => $"train_psnr_{s.ToString(CultureInfo.InvariantCulture)}"));
            if (_testEval is not null) header.AddRange(sigmas.Select(s => $"test_psnr_{s.ToString(CultureInfo.InvariantCulture)}"));
            using var metrics = MetricsLog.Open(Path.Combine(_dir, MetricsFile), header, _start);

            _clock.Start();
            double lossSum = 0;
            long rowSteps = 0;
            var rowClock = Stopwatch.StartNew();
            double[]? trainPsnr = null, testPsnr = null;
            for (long step = _start; step < total; step++)
            {
                if (cancellation.IsCancellationRequested)
                {
                    if (_lastCheckpoint != step) SaveCheckpoint(step);
                    cancellation.ThrowIfCancellationRequested();
                }
                var outcome = _trainer.Step(step);
                long completed = step + 1;
                if (!outcome.IsFinite) throw Diverged(step, double.IsFinite(outcome.Loss) ? "a gradient" : $"the loss ({outcome.Loss.ToString(CultureInfo.InvariantCulture)})");
                lossSum += outcome.Loss;
                rowSteps++;
                bool final = completed == total;
                bool evaluate = final || completed % Options.EvalEvery!.Value == 0;
                if (evaluate)
                {
                    trainPsnr = _trainEval.Psnr(_trainer.Network);
                    testPsnr = _testEval?.Psnr(_trainer.Network);
                    if (trainPsnr.Concat(testPsnr ?? []).FirstOrDefault(v => !double.IsFinite(v), 0) is var bad && !double.IsFinite(bad))
                        throw Diverged(step, $"the evaluation PSNR ({bad.ToString(CultureInfo.InvariantCulture)} dB)");
                }
                if (evaluate || completed % Options.LogEvery == 0)
                {
                    var row = new List<object?>
                    {
                        completed, (double)completed / Options.StepsPerEpoch, lossSum / rowSteps, _trainer.LearningRateAt(step),
                        rowSteps * Options.BatchSize / Math.Max(rowClock.Elapsed.TotalSeconds, 1e-9), Elapsed,
                    };
                    row.AddRange(sigmas.Select((_, j) => evaluate ? (object?)trainPsnr![j] : null));
                    if (_testEval is not null) row.AddRange(sigmas.Select((_, j) => evaluate ? (object?)testPsnr![j] : null));
                    metrics.Append(row);
                    lossSum = 0;
                    rowSteps = 0;
                    rowClock.Restart();
                }
                if (final || completed % Options.CheckpointEvery!.Value == 0) SaveCheckpoint(completed);
                if (final) SaveWeights(finalPath, completed);
                Report(completed, step, outcome.Loss, trainPsnr, testPsnr);
            }
        }

        /// <summary>
        /// The run stopped at step <paramref name="step"/> because <paramref name="what"/> is not finite; the message names
        /// the likely cause from a check of the batch (non-finite training images) and of the weights (the learning rate).
        /// </summary>
        private TrainingDivergedException Diverged(long step, string what)
        {
            long completed = step + 1;
            var last = _lastCheckpoint >= 0 ? CheckpointPath(_dir, _lastCheckpoint) : null;
            double lr = _trainer.LearningRateAt(step);
            string cause = _trainer.NonFiniteImageInBatch() is int image
                ? $"Training image {image} holds NaN or infinite pixels: the data, not the learning rate, is at fault."
                : FirstNonFiniteParameter(_trainer.Network) is string parameter
                    ? $"The weights ({parameter}) became NaN or infinite: the learning rate {lr.ToString("G3", CultureInfo.InvariantCulture)} is too high; try a lower --lr."
                    : $"The training images are finite, so the learning rate {lr.ToString("G3", CultureInfo.InvariantCulture)} is the likely cause; try a lower --lr.";
            return new TrainingDivergedException(
                $"Training diverged: {what} is not finite at step {completed} (epoch {_trainer.EpochOf(step) + 1}, lr {lr.ToString("G3", CultureInfo.InvariantCulture)}). {cause} " +
                (last is null ? "No checkpoint was written." : $"The last good checkpoint is '{last}'."),
                step, last);
        }

        private void Report(long completed, long step, double loss, double[]? trainPsnr, double[]? testPsnr)
        {
            if (_progress is null) return;
            double seconds = _clock.Elapsed.TotalSeconds;
            long done = completed - _start, total = Options.TotalSteps;
            double rate = done * Options.BatchSize / Math.Max(seconds, 1e-9);
            TimeSpan? remaining = done > 0 ? TimeSpan.FromSeconds(seconds / done * (total - completed)) : null;
            _progress.Report(new TrainingProgress(
                completed, total, (double)completed / Options.StepsPerEpoch, loss, _trainer.LearningRateAt(step), rate,
                TimeSpan.FromSeconds(Elapsed), remaining, Options.EvalSigmas, trainPsnr, testPsnr));
        }

        private Dictionary<string, string> Extra() => new(StringComparer.Ordinal)
        {
            ["seed"] = _file.Config.Seed.ToString(CultureInfo.InvariantCulture),
            ["data"] = _file.Config.Data.Spec,
            ["n"] = _file.Config.Data.N.ToString(CultureInfo.InvariantCulture),
            ["subset"] = _file.Config.Data.Subset ?? "",
            ["elapsed_s"] = Elapsed.ToString("R", CultureInfo.InvariantCulture),
        };

        private void SaveWeights(string path, long step)
        {
            // Never write non-finite weights as a result (e.g. one step at an enormous learning rate).
            if (FirstNonFiniteParameter(_trainer.Network) is not null) throw Diverged(step - 1, "the weights");
            Checkpoint.Save(path, _trainer.Network, _train.Height, _train.Width, step, Extra());
        }

        /// <summary>
        /// Optimizer state first, then weights, then older optimizer states: a complete pair always exists. While the run
        /// goes on the previous pair's optimizer state is kept too, so a damaged newest pair can fall back to it; the
        /// final checkpoint keeps only its own.
        /// </summary>
        private void SaveCheckpoint(long step)
        {
            if (FirstNonFiniteParameter(_trainer.Network) is not null) throw Diverged(step - 1, "the weights");
            var adam = new Dictionary<string, string> { ["training_step"] = step.ToString(CultureInfo.InvariantCulture) };
            OptimizerCheckpoint.Save(OptimizerPath(_dir, step), _trainer.Optimizer, _trainer.Network.Parameters, adam);
            SaveWeights(CheckpointPath(_dir, step), step);
            var keep = step == Options.TotalSteps || _lastCheckpoint < 0 ? null : OptimizerPath(_dir, _lastCheckpoint);
            foreach (var old in Directory.EnumerateFiles(Path.Combine(_dir, CheckpointFolder), "step-*.adam.safetensors"))
                if (!string.Equals(old, OptimizerPath(_dir, step), StringComparison.Ordinal) && !string.Equals(old, keep, StringComparison.Ordinal)) File.Delete(old);
            _lastCheckpoint = step;
        }
    }
}
