using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Experiments.Kit;
using MemGen.Images;
using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Nn;
using MemGen.Reporting;
using MemGen.Results;
using MemGen.Sampling;
using MemGen.Tensors;
using MemGen.Training;

namespace MemGen.Experiments.Transition;

/// <summary>
/// One independent piece of a transition experiment, runnable on its own (<c>memgen experiment transition ... --job ID</c>)
/// so a cluster can run them in parallel: train the network of one subset of one N, measure one N, write the report.
/// </summary>
/// <param name="Stage"><c>train</c>, <c>measure</c> or <c>report</c>; a stage starts when every job of the stages before it is done.</param>
/// <param name="Id">The job id: <c>train-nN-s1</c>, <c>train-nN-s2</c>, <c>measure-nN</c>, <c>report</c>.</param>
/// <param name="Marker">The file (relative to the run directory, with '/') the job writes last: it is done exactly when it exists.</param>
public sealed record TransitionJob(string Stage, string Id, string Marker);

/// <summary>What <see cref="TransitionExperiment.Run"/> produced.</summary>
/// <param name="Points">One entry per N, in order.</param>
/// <param name="Elapsed">Wall time of this session.</param>
/// <param name="ReusedSizes">Sizes whose results were already complete in the run directory.</param>
/// <param name="ReportPath">Path of report.html.</param>
/// <param name="ReportProblems">Warnings of the report writer.</param>
public sealed record TransitionResult(
    IReadOnlyList<TransitionPoint> Points, TimeSpan Elapsed, IReadOnlyList<int> ReusedSizes, string ReportPath, IReadOnlyList<string> ReportProblems);

/// <summary>
/// <c>memgen experiment transition</c>: the memorization → generalization transition as N grows (docs/science.md §2, §3, §5, §8;
/// [K24] figures 1, 2, 15). For each N: disjoint subsets S1 (first N of the pool) and S2 (last N) and held-out test images
/// between them; one network trained on each (resumable); denoising curves on train and test; K samples from each network
/// and from the empirical optimal denoiser of each subset with the same seeds (Algorithm 1); memorization and cross-model
/// measures; the S1–S2 nearest-pair reference; a verdict. Run directory:
/// <code>
/// experiment.json, run.json      settings (a re-run with other settings is refused), sessions
/// n-N/split.json                 split manifest (indices + SHA-256 of S1, S2, test)
/// n-N/s1/, n-N/s2/               training runs (config.json, metrics.csv, checkpoints/final.safetensors)
/// n-N/curve-{s1,s2,optimal}.csv|json   denoising curves
/// n-N/samples-{s1,s2,optimal-s1,optimal-s2}.npy + trajectories-*.csv
/// n-N/memorization-*.csv, cross-model-{network,optimal}.csv, nearest-pairs.csv
/// n-N/grid.png                   S1 sample | S2 sample | nearest S1 image | nearest S2 image, one row per seed
/// n-N/point.json                 all numbers of this N (marks it finished)
/// summary.csv, summary.json, report.html (+ report.json, figures/)
/// </code>
/// A re-run with the same settings skips finished sizes and resumes unfinished training from its last checkpoint.
/// </summary>
public static class TransitionExperiment
{
    /// <summary>The experiment's name in experiment.json.</summary>
    public const string Name = "transition";

    /// <summary>File name of a finished N's numbers, inside its folder.</summary>
    public const string PointFile = "point.json";

    private static readonly string[] s_pointArtefacts =
    [
        "split.json", "curve-s1.csv", "curve-s2.csv", "curve-optimal.csv",
        "samples-s1.npy", "samples-s2.npy", "samples-optimal-s1.npy", "samples-optimal-s2.npy",
        "memorization-s1.csv", "memorization-s2.csv", "memorization-optimal-s1.csv", "memorization-optimal-s2.csv",
        "cross-model-network.csv", "cross-model-optimal.csv", "nearest-pairs.csv", "grid.png", PointFile,
    ];

    /// <summary>Names of the presets.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["quick", "standard", "paper"];

    /// <summary>
    /// The preset's settings.
    /// <para><c>quick</c> — the main job, Fashion-MNIST on 2 CPU cores in well under 20 minutes. The images are
    /// resized to 16×16 (d = 256; 28×28 costs 3× more per image and needs a larger N to generalize, docs/science.md §8: the N
    /// needed grows with image size) and de-duplicated (docs/science.md §2), which leaves about 22,500 of the 60,000 training images.
    /// N ∈ {1, 10, 100, 1000, 10000}: 1 and 10 memorize easily, 100 is transitional, 1000 is enough for a small network at
    /// 16×16 to generalize and 10000 confirms it (the largest power of ten that fits twice in the de-duplicated pool).
    /// Network: a bias-free UNet with 2 blocks and width 32 (457k parameters; a global receptive field, which memorizing
    /// whole images needs). Budget: 40,000 training images per model (625 steps of 64), i.e. 400,000 images for the 10
    /// networks; measured throughput and total time are in the README. K = 64 samples per model.
    /// Sampler: Algorithm 1, code variant (its final denoising step returns clean images), h0 = 0.01 and β = 0.5 instead of
    /// the paper's 0.1: with this short training, β = 0.1 re-injects so much noise that most trajectories drift in intensity
    /// (samples ~50× too bright) until σ_t &gt; 2 (measured on the N = 10 network: 14 of 16 seeds diverged with β = 0.1,
    /// none with β = 0.5, which also needs ~40 instead of ~200 steps).</para>
    /// <para><c>standard</c> — the quick preset's data, network and sizes with the training and the sampler chosen by
    /// measurement (docs/standard-preset.md): N ≤ 100 keep the quick budget (40,000 images), N = 1000 and 10000 get 100,000;
    /// the samples start from the Gaussian of S1 ∪ S2 at σ = 1 (docs/science.md §3.4) and follow the probability flow
    /// (Heun, 30 steps from σ = 1 to 0.01, one final denoising step). Measured on 2 idle cores: 7.6 minutes; at N = 10000
    /// S1–S2 0.973, no copies, samples' nearest-training similarity 0.889 against 0.900 for held-out images, brightness
    /// 0.99 and contrast 0.84 of the training images' (Algorithm 1 from the plain start: about 0.74 and 0.60).</para>
    /// <para><c>paper</c> — the [K24] CelebA study: 80×80 grayscale images (give a folder with <c>--data</c>),
    /// N ∈ {1, 10, 100, 1000, 10000, 100000}, UNet with 3 blocks and width 64 (7.66M parameters), batch 512, the paper's
    /// 1000 epochs of 250,000 images (2.5·10⁸ images per model, 12 models). At about 50 images/s for that network (≈8 GFLOP per training image) on
    /// 2 CPU cores this is several years of CPU time: it documents the scale, and needs a GPU backend to run.</para>
    /// </summary>
    public static TransitionSettings Preset(string name) => name switch
    {
        "quick" => new TransitionSettings { Sizes = [1, 10, 100, 1000, 10_000], Sampler = "algorithm1:variant=code,beta=0.5,max_steps=2000" },
        "standard" => new TransitionSettings
        {
            Sizes = [1, 10, 100, 1000, 10_000],
            Budget = 40_000,
            BudgetBySize = new SortedDictionary<int, long> { [1000] = 100_000, [10_000] = 100_000 },
            Sampler = "flow:heun,steps=30,sigma_max=1,sigma_min=0.01",
            Start = "gaussian",
        },
        "paper" => new TransitionSettings
        {
            Data = "jpeg:/data/celeba|crop=160|resize=80|gray|dedup",
            Sizes = [1, 10, 100, 1000, 10_000, 100_000],
            Model = "unet:blocks=3,width=64",
            Budget = 250_000_000,
            BatchSize = 512,
            LearningRateHalvings = 9,
            Samples = 256,
            Sampler = "algorithm1:variant=code,max_steps=10000",
        },
        _ => throw new InvalidSettingException("preset", $"unknown preset '{name}' (expected {string.Join(" or ", PresetNames)})"),
    };

    /// <summary>
    /// The settings a transition run recorded in its experiment.json, and the record itself (<see cref="TransitionSettings.FromJson"/>).
    /// Throws <see cref="FormatException"/> saying what is wrong when the folder holds no transition run's record.
    /// </summary>
    public static (TransitionSettings Settings, JsonObject Record) ReadRecord(string runDirectory)
    {
        ArgumentNullException.ThrowIfNull(runDirectory);
        var dir = Path.GetFullPath(runDirectory);
        var file = Path.Combine(dir, RunDirectory.ExperimentFile);
        var (record, experiment) = RunDirectory.ReadIdentity(dir) ?? throw new FormatException($"{dir} holds no {RunDirectory.ExperimentFile} (not a transition run)");
        if (experiment != Name) throw new FormatException($"{dir} holds no transition experiment ({file} names '{experiment}')");
        try
        {
            return (TransitionSettings.FromJson(record), record);
        }
        catch (FormatException e)
        {
            throw new FormatException($"{file} lacks a transition setting ({e.Message})", e);
        }
    }

    /// <summary>The folder of size <paramref name="n"/> inside the run directory.</summary>
    public static string PointDirectory(string runDirectory, int n) => Path.Combine(runDirectory, $"n-{n.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>
    /// Runs (or resumes) the experiment in <paramref name="runDirectory"/> and writes every result and report.html.
    /// Bad input (invalid settings, data too small for the sizes, a run directory holding another experiment or other
    /// files) raises an <see cref="InvalidSettingException"/> before anything is written. The networks train and sample
    /// on <paramref name="backend"/> (a CPU backend of its own when null).
    /// </summary>
    public static TransitionResult Run(TransitionSettings settings, string runDirectory, string preset,
        IProgress<ExperimentProgress>? progress = null, CancellationToken cancellation = default, ReportWriteOptions? reportOptions = null,
        ComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var identity = settings.ToJson(preset);
        RunDirectory.CheckCompatible(runDirectory, identity);
        var reporter = new ExperimentProgressReporter(progress, settings.Sizes.Length);
        reporter.Setup("load data", settings.Data);
        var pool = LoadPool(settings);
        var testSet = LoadTestSet(settings, pool);

        using var run = RunDirectory.Open(runDirectory, identity);
        var record = RunRecord.Begin(run);
        var points = new List<TransitionPoint>();
        var reused = new List<int>();
        using (var ownBackend = backend is null ? new CpuBackend() : null)
        {
            var convolutions = backend ?? ownBackend!;
            for (int i = 0; i < settings.Sizes.Length; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = settings.Sizes[i];
                var unit = reporter.Unit(i, $"N={n}");
                if (TryLoadPoint(run, n) is { } existing)
                {
                    points.Add(existing);
                    reused.Add(n);
                    unit.Report("done earlier", "", 1);
                    continue;
                }
                points.Add(RunPoint(settings, pool, testSet, n, run, convolutions, unit, cancellation));
            }
        }

        var output = WriteReport(settings, identity, run, points, record, reporter, reportOptions);
        return new TransitionResult(points, record.Elapsed, reused, output.HtmlPath, output.Problems);
    }

    /// <summary>summary.csv|json and report.html from the points; report.html is written last (the report job's marker).</summary>
    private static ReportOutput WriteReport(TransitionSettings settings, JsonObject identity, RunDirectory run, IReadOnlyList<TransitionPoint> points,
        RunRecord record, ExperimentProgressReporter reporter, ReportWriteOptions? reportOptions)
    {
        reporter.Closing("report");
        SummaryTable(points).Write(Path.Combine(run.Path, "summary"), SummaryHeader(identity, points));
        var output = TransitionReport.Build(settings, identity, points, run.Path, record).Write(run.Path, reportOptions);
        record.Finish();
        reporter.Closing("done", "", finished: true);
        return output;
    }

    /// <summary>The jobs of the experiment in run order (all train jobs, then all measure jobs, then the report).</summary>
    public static IReadOnlyList<TransitionJob> Jobs(TransitionSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var jobs = new List<TransitionJob>();
        foreach (int n in settings.Sizes)
            foreach (var subset in new[] { "s1", "s2" })
                jobs.Add(new TransitionJob("train", I($"train-n{n}-{subset}"), I($"n-{n}/{subset}/{TrainingRun.CheckpointFolder}/{TrainingRun.FinalCheckpointFile}")));
        foreach (int n in settings.Sizes) jobs.Add(new TransitionJob("measure", I($"measure-n{n}"), I($"n-{n}/{PointFile}")));
        jobs.Add(new TransitionJob("report", "report", ReportWriter.HtmlFileName));
        return jobs;
    }

    /// <summary>
    /// Runs one job of <see cref="Jobs"/> in <paramref name="runDirectory"/> (resumable, so a failed or preempted job is
    /// simply run again): a train job trains (or resumes) one network; a measure job needs both networks of its N and
    /// writes n-N/point.json; the report job needs every point and writes the summaries and report.html. Results are the
    /// same, bit for bit, as <see cref="Run"/>'s with the same settings and engine thread count. Networks run on
    /// <paramref name="backend"/> (a CPU backend of its own when null).
    /// </summary>
    public static void RunJob(TransitionSettings settings, string runDirectory, string preset, string job,
        IProgress<ExperimentProgress>? progress = null, CancellationToken cancellation = default, ReportWriteOptions? reportOptions = null,
        ComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(job);
        settings.Validate();
        var known = Jobs(settings).FirstOrDefault(j => j.Id == job)
            ?? throw new InvalidSettingException("job", $"'{job}' is not a job of this experiment (expected train-nN-s1, train-nN-s2, measure-nN for N in {{{string.Join(", ", settings.Sizes)}}}, or report)");
        var identity = settings.ToJson(preset);
        RunDirectory.CheckCompatible(runDirectory, identity);
        var reporter = new ExperimentProgressReporter(progress, 1);
        if (known.Stage == "report")
        {
            using var run = RunDirectory.Open(runDirectory, identity, unit: "");
            var points = settings.Sizes.Select(n => TryLoadPoint(run, n)
                ?? throw new InvalidSettingException("job", $"report needs every N measured, but {PointDirectory(run.Path, n)}/{PointFile} is missing (run measure-n{n} first)")).ToList();
            WriteReport(settings, identity, run, points, RunRecord.Begin(run), reporter, reportOptions);
            return;
        }
        reporter.Setup("load data", settings.Data);
        var pool = LoadPool(settings);
        var testSet = LoadTestSet(settings, pool);
        int size = int.Parse(known.Id.Split('-')[1][1..], CultureInfo.InvariantCulture);
        using var opened = RunDirectory.Open(runDirectory, identity, unit: known.Stage == "train" ? I($"n-{size}/{known.Id[^2..]}") : I($"n-{size}"));
        var pointDir = PointDirectory(opened.Path, size);
        using var ownBackend = backend is null ? new CpuBackend() : null;
        var convolutions = backend ?? ownBackend!;
        if (known.Stage == "train")
        {
            string subset = known.Id[^2..];
            var split = Split(settings, pool, testSet, size, pointDir);
            using var network = Train(settings, split, size, subset, pointDir, convolutions, reporter.Unit(0, $"N={size}").Training($"train {subset.ToUpperInvariant()}", 0, 1), cancellation).Network;
            return;
        }
        foreach (var subset in new[] { "s1", "s2" })
            if (!File.Exists(Path.Combine(pointDir, subset, TrainingRun.CheckpointFolder, TrainingRun.FinalCheckpointFile)))
                throw new InvalidSettingException("job", $"{known.Id} needs the trained networks of N = {size}, but {subset} is not finished (run train-n{size}-{subset} first)");
        if (TryLoadPoint(opened, size) is null)
            RunPoint(settings, pool, testSet, size, opened, convolutions, reporter.Unit(0, $"N={size}"), cancellation);
    }

    /// <summary>
    /// Checks everything a run or a job checks (the settings, the run directory, the data against the sizes and the model)
    /// and, unless <paramref name="checkOnly"/>, opens the run directory (writes experiment.json). A cluster executor calls
    /// it once before submitting <see cref="Jobs"/>: bad input is then one line at submission rather than a failure in
    /// every task, and a de-duplicated pool is cached before the tasks load it.
    /// </summary>
    public static void Prepare(TransitionSettings settings, string runDirectory, string preset, bool checkOnly = false)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var identity = settings.ToJson(preset);
        RunDirectory.CheckCompatible(runDirectory, identity);
        LoadTestSet(settings, LoadPool(settings));
        if (!checkOnly) RunDirectory.Open(runDirectory, identity, unit: "");
    }

    /// <summary>The finished point of size <paramref name="n"/> if its point.json and every artefact are there; null otherwise (then it is redone).</summary>
    private static TransitionPoint? TryLoadPoint(RunDirectory run, int n)
    {
        var pointDir = PointDirectory(run.Path, n);
        var existing = TransitionPoint.TryLoad(Path.Combine(pointDir, PointFile));
        return existing is { IsComplete: true } && existing.N == n && s_pointArtefacts.All(f => File.Exists(Path.Combine(pointDir, f))) ? existing : null;
    }

    /// <summary>Loads the pool and checks it is large enough for the sizes and suits the model.</summary>
    internal static ImageSet LoadPool(TransitionSettings settings)
    {
        var pool = DatasetLoader.LoadAs("data", DatasetSpec.ParseAs("data", settings.Data));
        int maxN = settings.Sizes[^1];
        if (maxN > pool.Count / 2)
            throw new InvalidSettingException("sizes", $"N = {maxN} is more than half of the {pool.Count} images of '{settings.Data}' (after its transforms, e.g. de-duplication), so S1 and S2 would overlap; use N ≤ {pool.Count / 2}");
        if (settings.TestData is null && pool.Count - 2 * maxN < settings.EvalImages)
            throw new InvalidSettingException("sizes", $"N = {maxN} leaves {pool.Count - 2 * maxN} held-out images of '{settings.Data}' between S1 and S2, fewer than the {settings.EvalImages} test images (--eval-images); give --test-data or smaller sizes");
        int divisor = settings.Network.SizeDivisor;
        if (pool.Height % divisor != 0 || pool.Width % divisor != 0)
            throw new InvalidSettingException("model", $"{settings.Network} needs image sides divisible by {divisor}, but '{settings.Data}' gives {pool.Height}×{pool.Width}");
        if (settings.Start == "gaussian") StartCovariance.RequireMemory(pool.ImageSize); // before any training, not after it
        return pool;
    }

    /// <summary>The held-out test set given by <see cref="TransitionSettings.TestData"/> (its first EvalImages images), or null for the pool's middle.</summary>
    internal static ImageSet? LoadTestSet(TransitionSettings settings, ImageSet pool)
    {
        if (settings.TestData is null) return null;
        var test = DatasetLoader.LoadAs("test-data", DatasetSpec.ParseAs("test-data", settings.TestData));
        if (test.Count < settings.EvalImages)
            throw new InvalidSettingException("test-data", $"'{settings.TestData}' has {test.Count} images, fewer than the {settings.EvalImages} test images (--eval-images)");
        if ((test.Channels, test.Height, test.Width) != (pool.Channels, pool.Height, pool.Width))
            throw new InvalidSettingException("test-data", $"images are {test.Channels}x{test.Height}x{test.Width}, the pool's {pool.Channels}x{pool.Height}x{pool.Width}");
        return test;
    }

    /// <summary>The split of size <paramref name="n"/>, checked against (or recorded as) n-N/split.json.</summary>
    internal static DisjointSplit Split(TransitionSettings settings, ImageSet pool, ImageSet? testSet, int n, string pointDir)
    {
        var split = testSet is null ? DisjointSplit.Create(pool, n, settings.EvalImages) : DisjointSplit.Create(pool, n, testSet, settings.EvalImages);
        var manifestPath = Path.Combine(pointDir, "split.json");
        if (File.Exists(manifestPath))
        {
            var old = SplitManifest.Load(manifestPath);
            if (old.S1Sha256 != split.Manifest.S1Sha256 || old.S2Sha256 != split.Manifest.S2Sha256 || old.TestSha256 != split.Manifest.TestSha256)
                throw new InvalidSettingException("data", $"the images of '{settings.Data}' differ from those recorded in {manifestPath} (data changed); use a new --out");
        }
        else
        {
            Directory.CreateDirectory(pointDir);
            split.Manifest.Save(manifestPath);
        }
        return split;
    }

    /// <summary>Trains (or resumes, or reloads when finished) the network on subset <paramref name="subset"/> (s1 or s2) of size N.</summary>
    internal static TrainingResult Train(TransitionSettings settings, DisjointSplit split, int n, string subset, string pointDir,
        ComputeBackend convolutions, IProgress<TrainingProgress> progress, CancellationToken cancellation)
    {
        var dir = Path.Combine(pointDir, subset);
        var source = new TrainingDataSource(settings.Data, n, subset, Path.GetRelativePath(dir, Path.Combine(pointDir, "split.json")));
        var config = new TrainingConfig(settings.Network, source, TrainingSeed(settings.Seed, subset), settings.TrainingOptions(n));
        try
        {
            return TrainingRun.StartOrResume(dir, config, subset == "s1" ? split.S1 : split.S2, split.Test,
                (spec, channels, seed) => NetworkFactory.Create(spec, channels, convolutions, seed), progress, cancellation);
        }
        catch (TrainingRunException e)
        {
            throw new InvalidSettingException("out", $"training {dir}: {e.Message}", e);
        }
    }

    private static TransitionPoint RunPoint(TransitionSettings settings, ImageSet pool, ImageSet? testSet, int n, RunDirectory run,
        ComputeBackend convolutions, ExperimentProgressReporter.UnitProgress unit, CancellationToken cancellation)
    {
        var pointDir = PointDirectory(run.Path, n);
        string P(string name) => Path.Combine(pointDir, name);
        var split = Split(settings, pool, testSet, n, pointDir);
        unit.Report("train S1", "", 0);
        using var s1 = Train(settings, split, n, "s1", pointDir, convolutions, unit.Training("train S1", 0, 0.4), cancellation).Network;
        unit.Report("train S2", "", 0.4);
        using var s2 = Train(settings, split, n, "s2", pointDir, convolutions, unit.Training("train S2", 0.4, 0.8), cancellation).Network;
        double trainingSeconds = TrainingSeconds(P("s1")) + TrainingSeconds(P("s2"));
        var net1 = new NetworkDenoiser(s1, name: "network-s1");
        var net2 = new NetworkDenoiser(s2, name: "network-s2");
        var opt1 = new EmpiricalOptimalDenoiser(split.S1);
        var opt2 = new EmpiricalOptimalDenoiser(split.S2);

        cancellation.ThrowIfCancellationRequested();
        unit.Report("denoising curves", "", 0.8);
        var curveOptions = new DenoisingCurveOptions { MaxImages = settings.EvalImages, Seed = settings.Seed };
        DenoisingCurve Curve(IDenoiser d, ImageSet train, string name)
        {
            var curve = DenoisingCurve.Measure(d, train, split.Test, curveOptions);
            curve.WriteCsv(P($"curve-{name}.csv"));
            curve.WriteJson(P($"curve-{name}.json"));
            return curve;
        }
        var c1 = Curve(net1, split.S1, "s1");
        var c2 = Curve(net2, split.S2, "s2");
        var cOpt = Curve(opt1, split.S1, "optimal");

        // Every model starts from the same y0 for a given seed: the mean image of S1 ∪ S2 plus the seed's noise
        // (shaped by their covariance with the Gaussian start).
        var both = Concat(split.S1, split.S2);
        var start = settings.Start == "gaussian"
            ? SamplingStart.GaussianOf(both, "mean image and covariance of S1 ∪ S2")
            : SamplingStart.MeanOf(both, "mean image of S1 ∪ S2");
        var sampler = settings.SamplerSpec.Create(start, Math.Min(settings.Samples, 64));
        var shape = new ImageShape(pool.Channels, pool.Height, pool.Width);
        int sampled = 0;
        SamplingResult Sample(IDenoiser d, string name)
        {
            cancellation.ThrowIfCancellationRequested();
            var files = new SampleSetFiles(P($"samples-{name}.npy"), P($"trajectories-{name}.csv"));
            double from = 0.85 + 0.03 * sampled++;
            if (files.TryRead(settings.Samples, shape, settings.Seed, sampler.Spec.ToString(), d.Name) is { } saved) return saved;
            var result = sampler.Sample(d, settings.Samples, shape.Channels, shape.Height, shape.Width, settings.Seed,
                progress: unit.Count($"sample {name}", settings.Samples, from, from + 0.03));
            files.Write(result);
            return result;
        }
        var x1 = Sample(net1, "s1");
        var x2 = Sample(net2, "s2");
        var o1 = Sample(opt1, "optimal-s1");
        var o2 = Sample(opt2, "optimal-s2");

        unit.Report("memorization", "", 0.97);
        var searchClock = Stopwatch.StartNew();
        var (i1, i2, io1, io2) = (x1.ToImageSet(), x2.ToImageSet(), o1.ToImageSet(), o2.ToImageSet());
        var m1 = Memorization.Measure(i1, split.S1);
        var m2 = Memorization.Measure(i2, split.S2);
        var mo1 = Memorization.Measure(io1, split.S1);
        var mo2 = Memorization.Measure(io2, split.S2);
        Memorization.WriteCsv(P("memorization-s1.csv"), m1);
        Memorization.WriteCsv(P("memorization-s2.csv"), m2);
        Memorization.WriteCsv(P("memorization-optimal-s1.csv"), mo1);
        Memorization.WriteCsv(P("memorization-optimal-s2.csv"), mo2);
        var cross = CrossModelSimilarity.Measure(i1, i2);
        var crossOpt = CrossModelSimilarity.Measure(io1, io2);
        CrossModelSimilarity.WriteCsv(P("cross-model-network.csv"), cross);
        CrossModelSimilarity.WriteCsv(P("cross-model-optimal.csv"), crossOpt);
        var pairs = NearestPairSimilarity.Measure(split.S1, split.S2, SimilarityMetric.Cosine);
        var pairsCentered = NearestPairSimilarity.Measure(split.S1, split.S2, SimilarityMetric.CenteredCosine);
        // Sample quality: how close a real unseen image is to the training set (the target of a generalizing sample).
        var heldOut = NearestPairSimilarity.Measure(split.Test, split.S1, SimilarityMetric.CenteredCosine)
            .Concat(NearestPairSimilarity.Measure(split.Test, split.S2, SimilarityMetric.CenteredCosine)).Select(p => p.Similarity).ToArray();
        // Memorization runs three searches (cosine, centred cosine, l2) per sample set; the references three more.
        double searchPairs = 4.0 * 3 * settings.Samples * n + 2.0 * n * n + 2.0 * split.Test.Count * n;
        double searchRate = searchPairs / Math.Max(searchClock.Elapsed.TotalSeconds, 1e-9);
        NearestPairsTable(pairs, pairsCentered).Write(P("nearest-pairs"));
        var networkSamples = Concat(i1, i2);
        var point = new TransitionPoint(n, [.. c1.Sigmas],
            CurveValues.From(c1), CurveValues.From(c2), CurveValues.From(cOpt),
            FamilyMeasures.From(cross, m1, m2, x1.DivergedCount + x2.DivergedCount, MedianOf(x1.Steps, x2.Steps)),
            FamilyMeasures.From(crossOpt, mo1, mo2, o1.DivergedCount + o2.DivergedCount, MedianOf(o1.Steps, o2.Steps)),
            [.. pairs.Select(p => p.Similarity)], [.. pairsCentered.Select(p => p.Similarity)], trainingSeconds, searchRate,
            heldOut, RadialPowerSpectrum.Of(networkSamples), RadialPowerSpectrum.Of(both),
            ImageIntensity.Of(networkSamples), ImageIntensity.Of(both));
        WriteGrid(P("grid.png"), settings.GridRows, i1, i2, split.S1, split.S2, m1, m2, $"N = {n}: {point.Regime.ToString().ToLowerInvariant()}");
        point.Save(P(PointFile));
        unit.Report("done", point.Regime.ToString().ToLowerInvariant(), 1);
        return point;
    }

    private static ImageSet Concat(ImageSet a, ImageSet b) =>
        new([.. a.Pixels.AsSpan(0, a.Count * a.ImageSize), .. b.Pixels.AsSpan(0, b.Count * b.ImageSize)], a.Count + b.Count, a.Channels, a.Height, a.Width, a.Provenance);

    /// <summary>The initialization/data-order/noise seed of the network trained on <paramref name="subset"/>: S1 and S2 differ.</summary>
    public static long TrainingSeed(long seed, string subset) => seed * 16 + (subset == "s1" ? 1 : 2);

    private static double TrainingSeconds(string runDir)
    {
        var final = Path.Combine(runDir, TrainingRun.CheckpointFolder, TrainingRun.FinalCheckpointFile);
        if (!File.Exists(final)) return double.NaN;
        var meta = Checkpoint.ReadMetadata(final);
        return double.TryParse(meta.Values.GetValueOrDefault("elapsed_s", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : double.NaN;
    }

    private static double MedianOf(int[] a, int[] b) => ImageStatistics.Median([.. a.Concat(b).Select(x => (double)x)]);

    private static ResultTable NearestPairsTable(IReadOnlyList<NearestPair> plain, IReadOnlyList<NearestPair> centered)
    {
        var table = new ResultTable(["s1_image", "nearest_s2_cosine", "cosine", "nearest_s2_centered", "centered_cosine"]);
        for (int i = 0; i < plain.Count; i++) table.Add(i, plain[i].NearestIndex, plain[i].Similarity, centered[i].NearestIndex, centered[i].Similarity);
        return table;
    }


    /// <summary>
    /// The picture that makes the transition visible: one row per seed with the S1 network's sample, the S2 network's
    /// sample, and the most similar (mean-removed cosine) training image of each in its own training set; titled with N and
    /// the regime; tiles enlarged (nearest neighbour) to at least 96 pixels.
    /// </summary>
    public static void WriteGrid(string path, int rows, ImageSet s1Samples, ImageSet s2Samples, ImageSet s1, ImageSet s2,
        IReadOnlyList<SampleMemorization> m1, IReadOnlyList<SampleMemorization> m2, string title)
    {
        ArgumentNullException.ThrowIfNull(s1Samples);
        ArgumentNullException.ThrowIfNull(s2Samples);
        ArgumentNullException.ThrowIfNull(s1);
        ArgumentNullException.ThrowIfNull(s2);
        ArgumentNullException.ThrowIfNull(m1);
        ArgumentNullException.ThrowIfNull(m2);
        int count = Math.Min(rows, Math.Min(s1Samples.Count, s2Samples.Count));
        var blank = new float[s1.ImageSize];
        ReadOnlyMemory<float> Of(ImageSet set, int index) => index >= 0 ? set.Pixels.AsMemory(index * set.ImageSize, set.ImageSize) : blank;
        var tiles = new List<ReadOnlyMemory<float>>();
        for (int r = 0; r < count; r++)
        {
            tiles.Add(Of(s1Samples, r));
            tiles.Add(Of(s2Samples, r));
            tiles.Add(Of(s1, m1[r].CenteredCosineIndex));
            tiles.Add(Of(s2, m2[r].CenteredCosineIndex));
        }
        int zoom = Math.Clamp((int)Math.Ceiling(96.0 / Math.Max(s1.Height, s1.Width)), 1, 8);
        var grid = ImageGrid.Compose(tiles, new ImageShape(s1.Channels, s1.Height, s1.Width), 4,
            rowLabels: [.. Enumerable.Range(0, count).Select(r => r.ToString(CultureInfo.InvariantCulture))], padding: 3, zoom: zoom,
            columnLabels: ["S1", "S2", "NN S1", "NN S2"], title: title);
        PngWriter.WriteImage(path, grid.Pixels, grid.Channels, grid.Height, grid.Width);
    }

    /// <summary>The summary table (summary.csv and summary.json): one row per N with the headline numbers.</summary>
    public static ResultTable SummaryTable(IReadOnlyList<TransitionPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        var sigmas = points.Count > 0 ? points[0].Sigmas : [];
        var table = new ResultTable([
            "n", "regime", "s1s2_centered_median", "s1s2_centered_mean", "s1s2_centered_sd", "s1s2_cosine_median", "s1s2_cosine_mean",
            "nearest_centered_median", "nearest_centered_mean", "nearest_cosine_median", "fraction_memorized", "psnr_gap", "psnr_gap_s1", "psnr_gap_s2",
            "nearest_pair_centered_median", "optimal_s1s2_centered_median", "optimal_nearest_centered_median", "optimal_fraction_memorized",
            "optimal_psnr_gap", "heldout_nearest_centered_median", "high_frequency_power_ratio", "intensity_ratio", "contrast_ratio", "diverged", "median_steps", "training_s", "search_pairs_per_s",
            .. sigmas.SelectMany(s => new[] { I($"train_psnr_{s:G4}"), I($"test_psnr_{s:G4}") })]);
        foreach (var p in points)
        {
            table.Add([
                p.N, p.Regime.ToString().ToLowerInvariant(), p.Network.Cross.Median, p.Network.Cross.Mean, p.Network.Cross.StandardDeviation,
                p.Network.CrossPlain.Median, p.Network.CrossPlain.Mean, p.Network.Nearest.Median, p.Network.Nearest.Mean, p.Network.NearestPlain.Median,
                p.FractionMemorized, p.PsnrGap, p.CurveS1.Gap, p.CurveS2.Gap, SimilaritySummary.Of(p.NearestPairCenteredCosine).Median,
                p.Optimal.Cross.Median, p.Optimal.Nearest.Median, TransitionPoint.CopyFraction(p.Optimal), p.CurveOptimal.Gap,
                p.HeldOutNearestMedian, p.HighFrequencyRatio, p.IntensityRatio, p.ContrastRatio, p.Network.Diverged, p.Network.MedianSteps, p.TrainingSeconds, p.SearchPairsPerSecond,
                .. Enumerable.Range(0, p.Sigmas.Length).SelectMany(k => new object?[]
                {
                    (p.CurveS1.TrainPsnr[k] + p.CurveS2.TrainPsnr[k]) / 2, (p.CurveS1.TestPsnr[k] + p.CurveS2.TestPsnr[k]) / 2,
                })]);
        }
        return table;
    }

    private static JsonObject SummaryHeader(JsonObject identity, IReadOnlyList<TransitionPoint> points) => new()
    {
        ["config"] = identity.DeepClone(),
        ["similarity"] = "cosine similarity after removing each image's mean unless named cosine (plain); psnr columns average the S1 and S2 networks",
        ["criterion"] = TransitionPoint.Criterion,
        ["verdicts"] = new JsonArray([.. points.Select(p => (JsonNode?)p.Verdict)]),
    };

    private static string I(FormattableString s) => FormattableString.Invariant(s);
}
