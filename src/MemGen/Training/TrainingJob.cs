using MemGen.Compute;
using MemGen.Data;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Runs;

namespace MemGen.Training;

/// <summary>The settings of one training run on subset S1 or S2 of a pool (what <c>memgen train</c> is given).</summary>
public sealed record TrainingJobSettings
{
    /// <summary>Dataset spec of the pool.</summary>
    public string? Data { get; init; }

    /// <summary>N, the training set size: S1 is the first N images of the pool, S2 the last N.</summary>
    public int? N { get; init; }

    /// <summary>Which subset to train on: s1 or s2.</summary>
    public string Subset { get; init; } = "s1";

    /// <summary>Dataset spec of the test images; null for the pool's held-out middle.</summary>
    public string? TestData { get; init; }

    /// <summary>Test images to keep (fewer if the held-out part is smaller).</summary>
    public int TestCount { get; init; } = 300;

    /// <summary>The network (<see cref="NetworkSpec"/>).</summary>
    public string Model { get; init; } = "bfcnn:layers=21,width=64";

    /// <summary>The run directory to create.</summary>
    public string? Out { get; init; }

    /// <summary>Overwrite a run directory that is not empty.</summary>
    public bool Force { get; init; }

    /// <summary>Seeds initialization, data order and noise.</summary>
    public long Seed { get; init; }

    /// <summary>The optimizer, schedule, noise and logging settings.</summary>
    public TrainingOptions Options { get; init; } = new();
}

/// <summary>
/// One training run (docs/science.md §2) as a library entry point: <see cref="Start"/> checks every setting, then splits
/// the pool, saves the split manifest (split.json) and trains into the run directory; <see cref="Resume"/> continues a
/// run from its last checkpoint, reloading its data through the manifest. Bad input raises
/// <see cref="InvalidSettingException"/> (settings named as in <see cref="TrainingJobSettings"/> and
/// <see cref="TrainingOptions.ValidateSettings"/>, kebab case) before anything is written.
/// </summary>
public static class TrainingJob
{
    /// <summary>File name of the split manifest inside a run directory.</summary>
    public const string SplitFile = "split.json";

    /// <summary>Checks <paramref name="settings"/>, trains, and returns the result (its network is the caller's to dispose).</summary>
    /// <param name="settings">What to train.</param>
    /// <param name="networks">Builds the network on the compute backend of the caller's choice.</param>
    /// <param name="progress">Receives the training progress.</param>
    /// <param name="log">Receives one-line notes (data being loaded).</param>
    /// <param name="cancellation">Stops after the current step, with a checkpoint.</param>
    public static TrainingResult Start(TrainingJobSettings settings, NetworkBuilder networks, IProgress<TrainingProgress>? progress = null,
        Action<string>? log = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(networks);
        var (spec, options, dir) = Check(settings);
        using var folderLock = RunFolderLock.Acquire(dir);
        if (!RunFolderLock.IsEmpty(dir) && !settings.Force)
            throw new InvalidSettingException("out", $"'{dir}' already exists and is not empty; add --force to overwrite it or use --resume to continue it");

        log?.Invoke($"loading '{settings.Data}'");
        var pool = DatasetLoader.LoadAs("data", DatasetSpec.ParseAs("data", settings.Data!));
        int n = settings.N!.Value;
        DisjointSplit split;
        if (settings.TestData is not null)
        {
            var testSet = DatasetLoader.LoadAs("test-data", DatasetSpec.ParseAs("test-data", settings.TestData));
            split = DisjointSplit.Create(pool, n, testSet, Math.Min(settings.TestCount, testSet.Count));
        }
        else
        {
            int heldOut = Math.Max(0, pool.Count - 2 * n); // N > pool/2 is refused by Create with a clear message
            split = DisjointSplit.Create(pool, n, Math.Min(settings.TestCount, heldOut));
        }
        var train = settings.Subset == "s1" ? split.S1 : split.S2;
        var test = split.Test.Count > 0 ? split.Test : null;
        if (train.Height % spec.SizeDivisor != 0 || train.Width % spec.SizeDivisor != 0)
            throw new InvalidSettingException("model", $"{spec} needs image sides divisible by {spec.SizeDivisor}, the data are {train.Height}×{train.Width}");

        // The directory is empty, absent or given up (Force): clear MemGen's files, then save the split.
        if (Directory.Exists(dir)) File.Delete(Path.Combine(dir, SplitFile));
        Directory.CreateDirectory(dir);
        split.Manifest.Save(Path.Combine(dir, SplitFile));
        var config = new TrainingConfig(spec, new TrainingDataSource(settings.Data!, n, settings.Subset, SplitFile), settings.Seed, options);
        try
        {
            return TrainingRun.Start(dir, config, train, test, networks, overwrite: true, progress, cancellation);
        }
        catch (Exception e) when (e is not OperationCanceledException && !TrainingRun.HasCheckpoints(dir))
        {
            File.Delete(Path.Combine(dir, SplitFile)); // failed before a first checkpoint: nothing to resume, nothing left
            throw;
        }
    }

    /// <summary>
    /// Continues the run in <paramref name="runDirectory"/> from its last checkpoint (bit-identical to an uninterrupted run
    /// with the same engine thread count; <paramref name="log"/> is warned when the count differs).
    /// </summary>
    public static TrainingResult Resume(string runDirectory, NetworkBuilder networks, IProgress<TrainingProgress>? progress = null,
        Action<string>? log = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(runDirectory);
        ArgumentNullException.ThrowIfNull(networks);
        var dir = Path.GetFullPath(runDirectory);
        TrainingRun.ReadConfig(dir); // a missing or foreign folder is named before the lock is taken
        using var folderLock = RunFolderLock.Acquire(dir, create: false);
        var file = TrainingRun.ReadConfig(dir);
        if (file.EngineThreads is int threads && threads != RunConfigFile.CurrentEngineThreads)
            log?.Invoke($"warning: the run started with {threads} engine threads, this process has {RunConfigFile.CurrentEngineThreads} (set OMP_NUM_THREADS={threads}); the weights will not be bit-identical to an uninterrupted run.");
        var source = file.Config.Data;
        if (source.SplitManifest is not string manifestPath)
            throw new InvalidSettingException("resume", $"run '{dir}' records no split manifest, so its data cannot be reloaded");
        log?.Invoke($"reloading '{source.Spec}' from {manifestPath}");
        var split = DisjointSplit.FromManifest(SplitManifest.Load(Path.Combine(dir, manifestPath)));
        var train = source.Subset == "s2" ? split.S2 : split.S1;
        ImageSet? test = split.Test.Count > 0 ? split.Test : null;
        return TrainingRun.Resume(dir, train, test, networks, progress, cancellation);
    }

    /// <summary>
    /// Throws <see cref="InvalidSettingException"/> for the first invalid setting that can be seen without reading data
    /// (<see cref="Start"/> checks them again, and the data, before writing).
    /// </summary>
    public static void Validate(TrainingJobSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        Check(settings);
    }

    private static (NetworkSpec Spec, TrainingOptions Options, string Directory) Check(TrainingJobSettings s)
    {
        if (string.IsNullOrWhiteSpace(s.Data)) throw new InvalidSettingException("data", "is required (or --resume DIR)");
        DatasetSpec.ParseAs("data", s.Data);
        if (s.TestData is not null) DatasetSpec.ParseAs("test-data", s.TestData);
        if (s.N is not int n) throw new InvalidSettingException("n", "is required");
        if (n < 1) throw new InvalidSettingException("n", $"must be at least 1, got {n}");
        if (string.IsNullOrWhiteSpace(s.Out)) throw new InvalidSettingException("out", "is required");
        if (s.Subset is not ("s1" or "s2")) throw new InvalidSettingException("subset", $"must be s1 or s2, got '{s.Subset}'");
        if (s.TestCount < 0) throw new InvalidSettingException("test-count", $"must not be negative, got {s.TestCount}");
        NetworkSpec spec;
        try
        {
            spec = NetworkSpec.Parse(s.Model);
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException("model", e.Message, e);
        }
        ArgumentNullException.ThrowIfNull(s.Options);
        s.Options.ValidateSettings(spec);
        var dir = Path.GetFullPath(s.Out);
        if (File.Exists(dir)) throw new InvalidSettingException("out", $"'{dir}' is a file, not a folder");
        return (spec, s.Options.Resolve(spec), dir);
    }
}
