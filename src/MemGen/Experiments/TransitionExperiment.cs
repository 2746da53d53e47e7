using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Native;
using MemGen.Nn;
using MemGen.Reporting;
using MemGen.Runs;
using MemGen.Sampling;
using MemGen.Tensors;
using MemGen.Training;

namespace MemGen.Experiments;

/// <summary>Where a transition experiment stands, reported at every stage and during long stages.</summary>
/// <param name="N">The subset size being worked on (0 while loading data or writing the report).</param>
/// <param name="Stage">What is being done ("load data", "train S1", "sample", "report", ...).</param>
/// <param name="Detail">Stage detail (step counts, losses), may be empty.</param>
/// <param name="Overall">Fraction of the whole experiment done, 0..1.</param>
public sealed record TransitionProgress(int N, string Stage, string Detail, double Overall);

/// <summary>What <see cref="TransitionExperiment.Run"/> produced.</summary>
/// <param name="Points">One entry per N, in order.</param>
/// <param name="Elapsed">Wall time of this session.</param>
/// <param name="ReusedSizes">Sizes whose results were already complete in the run directory.</param>
/// <param name="ReportPath">Path of report.html.</param>
/// <param name="ReportProblems">Warnings of the report writer.</param>
public sealed record TransitionResult(
    IReadOnlyList<TransitionPoint> Points, TimeSpan Elapsed, IReadOnlyList<int> ReusedSizes, string ReportPath, IReadOnlyList<string> ReportProblems);

/// <summary>A transition experiment cannot run as asked (bad data for the sizes, a run directory holding something else).</summary>
public sealed class TransitionExperimentException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public TransitionExperimentException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// <c>memgen experiment transition</c>: the memorization → generalization transition as N grows (docs/science.md §2, §3, §5, §8;
/// [K24] figures 1, 2, 15). For each N: disjoint subsets S1 (first N of the pool) and S2 (last N) and held-out test images
/// between them; one network trained on each (resumable); denoising curves on train and test; K samples from each network
/// and from the empirical optimal denoiser of each subset with the same seeds (Algorithm 1); memorization and cross-model
/// measures; the S1–S2 nearest-pair reference; a verdict. Run directory:
/// <code>
/// experiment.json                settings (a re-run with other settings is refused)
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
    /// <summary>File name of the settings record in the run directory.</summary>
    public const string ExperimentFile = "experiment.json";

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
    public static IReadOnlyList<string> PresetNames { get; } = ["quick", "paper"];

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
    /// <para><c>paper</c> — the [K24] CelebA study: 80×80 grayscale images (give a folder with <c>--data</c>),
    /// N ∈ {1, 10, 100, 1000, 10000, 100000}, UNet with 3 blocks and width 64 (7.66M parameters), batch 512, the paper's
    /// 1000 epochs of 250,000 images (2.5·10⁸ images per model, 12 models). At about 50 images/s for that network (≈8 GFLOP per training image) on
    /// 2 CPU cores this is several years of CPU time: it documents the scale, and needs a GPU backend to run.</para>
    /// </summary>
    public static TransitionSettings Preset(string name) => name switch
    {
        "quick" => new TransitionSettings { Sizes = [1, 10, 100, 1000, 10_000], SamplerBeta = 0.5 },
        "paper" => new TransitionSettings
        {
            Data = "jpeg:/data/celeba|crop=160|resize=80|gray|dedup",
            Sizes = [1, 10, 100, 1000, 10_000, 100_000],
            Model = "unet:blocks=3,width=64",
            Budget = 250_000_000,
            BatchSize = 512,
            LearningRateHalvings = 9,
            Samples = 256,
            SamplerVariant = Algorithm1Variant.Code,
            SamplerMaxSteps = 10_000,
        },
        _ => throw new ArgumentException($"Unknown preset '{name}' (expected {string.Join(" or ", PresetNames)}).", nameof(name)),
    };

    /// <summary>The folder of size <paramref name="n"/> inside the run directory.</summary>
    public static string PointDirectory(string runDirectory, int n) => Path.Combine(runDirectory, $"n-{n.ToString(CultureInfo.InvariantCulture)}");

    /// <summary>
    /// Runs (or resumes) the experiment in <paramref name="runDirectory"/> and writes every result and report.html.
    /// Bad input (data too small for the sizes, a run directory holding another experiment or other files) raises a
    /// <see cref="TransitionExperimentException"/> before anything is written.
    /// </summary>
    public static TransitionResult Run(TransitionSettings settings, string runDirectory, string preset,
        IProgress<TransitionProgress>? progress = null, CancellationToken cancellation = default, ReportWriteOptions? reportOptions = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Validate() is string problem) throw new TransitionExperimentException(problem);
        var clock = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        var dir = Path.GetFullPath(runDirectory);
        var config = settings.ToJson(preset);
        using var folderLock = RunFolderLock.Acquire(dir);
        CheckRunDirectory(dir, config);

        progress?.Report(new TransitionProgress(0, "load data", settings.Data, 0));
        var pool = LoadPool(settings);
        int maxN = settings.Sizes[^1];
        if (maxN > pool.Count / 2)
            throw new TransitionExperimentException($"sizes: N = {maxN} is more than half of the {pool.Count} images of '{settings.Data}', so S1 and S2 would overlap; use N ≤ {pool.Count / 2}");
        if (pool.Count - 2 * maxN < settings.EvalImages)
            throw new TransitionExperimentException($"sizes: N = {maxN} leaves {pool.Count - 2 * maxN} held-out images of '{settings.Data}' between S1 and S2, fewer than the {settings.EvalImages} test images (--eval-images)");
        int size = pool.Height, width = pool.Width, divisor = settings.Network.SizeDivisor;
        if (size % divisor != 0 || width % divisor != 0)
            throw new TransitionExperimentException($"model: {settings.Network} needs image sides divisible by {divisor}, but '{settings.Data}' gives {size}×{width}");

        Directory.CreateDirectory(dir);
        var experimentPath = Path.Combine(dir, ExperimentFile);
        if (!File.Exists(experimentPath)) AtomicFile.WriteAllText(experimentPath, config.ToJsonString(new() { WriteIndented = true }) + "\n");

        var points = new List<TransitionPoint>();
        var reused = new List<int>();
        using (var convolutions = new OneDnnConvolutionFactory())
        {
            for (int i = 0; i < settings.Sizes.Length; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                int n = settings.Sizes[i];
                var stage = new StageReporter(progress, n, i, settings.Sizes.Length);
                var pointDir = PointDirectory(dir, n);
                var existing = TransitionPoint.TryLoad(Path.Combine(pointDir, PointFile));
                if (existing is not null && s_pointArtefacts.All(f => File.Exists(Path.Combine(pointDir, f))) && existing.N == n)
                {
                    points.Add(existing);
                    reused.Add(n);
                    stage.Report("done earlier", "", 1);
                    continue;
                }
                points.Add(RunPoint(settings, pool, n, pointDir, convolutions, stage, cancellation));
            }
        }

        progress?.Report(new TransitionProgress(0, "report", "", 1));
        WriteSummaries(dir, config, points);
        var report = TransitionReport.Build(settings, config, points, dir, clock.Elapsed, started);
        var output = report.Write(dir, reportOptions);
        return new TransitionResult(points, clock.Elapsed, reused, output.HtmlPath, output.Problems);
    }

    /// <summary>
    /// Refuses a run directory that holds a different experiment (its experiment.json differs from <paramref name="config"/>;
    /// the message names the first differing key) or that is not empty and holds no experiment.json.
    /// </summary>
    public static void CheckRunDirectory(string dir, JsonObject config)
    {
        ArgumentNullException.ThrowIfNull(config);
        if (File.Exists(dir)) throw new TransitionExperimentException($"--out: {dir} is a file, not a directory");
        if (!Directory.Exists(dir)) return;
        var path = Path.Combine(dir, ExperimentFile);
        if (!File.Exists(path))
        {
            if (!RunFolderLock.IsEmpty(dir))
                throw new TransitionExperimentException($"--out: {dir} is not empty and holds no {ExperimentFile}; choose a new or empty directory");
            return;
        }
        JsonNode? there;
        try
        {
            there = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException)
        {
            throw new TransitionExperimentException($"--out: {path} is not a readable experiment file ({e.Message.Split('\n')[0]})");
        }
        if (there is not JsonObject existing || existing["experiment"]?.GetValue<string>() != "transition")
            throw new TransitionExperimentException($"--out: {dir} holds a different experiment ({path} is not a transition experiment); choose another directory");
        // The preset name is a label; what must match is every setting.
        var a = (JsonObject)existing.DeepClone();
        var b = (JsonObject)config.DeepClone();
        a.Remove("preset");
        b.Remove("preset");
        if (FirstDifference(a, b, "") is string difference)
            throw new TransitionExperimentException($"--out: {dir} holds a different transition experiment ({difference}); use the same settings to resume, or another directory");
    }

    private static string? FirstDifference(JsonNode? a, JsonNode? b, string path)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                if (FirstDifference(oa[key], ob[key], path.Length == 0 ? key : $"{path}.{key}") is string d) return d;
            return null;
        }
        string sa = a?.ToJsonString() ?? "missing", sb = b?.ToJsonString() ?? "missing";
        return sa == sb ? null : $"{path}: {sa} there, {sb} requested";
    }

    private static ImageSet LoadPool(TransitionSettings settings)
    {
        try
        {
            return DatasetLoader.Load(DatasetSpec.Parse(settings.Data));
        }
        catch (DataFormatException e)
        {
            throw new TransitionExperimentException($"data: {e.Message.TrimEnd('.')}", e);
        }
    }

    private static TransitionPoint RunPoint(TransitionSettings settings, ImageSet pool, int n, string pointDir,
        IConvolutionFactory convolutions, StageReporter stage, CancellationToken cancellation)
    {
        Directory.CreateDirectory(pointDir);
        string P(string name) => Path.Combine(pointDir, name);
        var split = DisjointSplit.Create(pool, n, settings.EvalImages);
        var manifestPath = P("split.json");
        if (File.Exists(manifestPath))
        {
            var old = SplitManifest.Load(manifestPath);
            if (old.S1Sha256 != split.Manifest.S1Sha256 || old.S2Sha256 != split.Manifest.S2Sha256 || old.TestSha256 != split.Manifest.TestSha256)
                throw new TransitionExperimentException($"data: the images of '{settings.Data}' differ from those recorded in {manifestPath} (data changed); use a new --out");
        }
        else
        {
            split.Manifest.Save(manifestPath);
        }

        var options = settings.TrainingOptions();
        DenoisingNetwork Build(NetworkSpec spec, int channels, long seed) => NetworkFactory.Create(spec, channels, convolutions, seed);
        TrainingResult Train(string subset, ImageSet train, double from, double to)
        {
            var config = new TrainingConfig(settings.Network, new TrainingDataSource(settings.Data, n, subset, Path.GetRelativePath(P(subset), manifestPath)), TrainingSeed(settings.Seed, subset), options);
            var label = $"train {subset.ToUpperInvariant()}";
            stage.Report(label, "", from);
            var reporter = new InlineProgress<TrainingProgress>(p => stage.Report(label,
                string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F2} {p.ImagesPerSecond:F0} img/s"),
                from + (to - from) * p.Step / Math.Max(1, p.TotalSteps)));
            try
            {
                return TrainingRun.StartOrResume(P(subset), config, train, split.Test, Build, reporter, cancellation);
            }
            catch (TrainingRunException e)
            {
                throw new TransitionExperimentException($"training {P(subset)}: {e.Message.TrimEnd('.')}", e);
            }
        }

        using var s1 = Train("s1", split.S1, 0, 0.4).Network;
        using var s2 = Train("s2", split.S2, 0.4, 0.8).Network;
        double trainingSeconds = TrainingSeconds(P("s1")) + TrainingSeconds(P("s2"));
        var net1 = new NetworkDenoiser(s1, name: "network-s1");
        var net2 = new NetworkDenoiser(s2, name: "network-s2");
        var opt1 = new EmpiricalOptimalDenoiser(split.S1);
        var opt2 = new EmpiricalOptimalDenoiser(split.S2);

        cancellation.ThrowIfCancellationRequested();
        stage.Report("denoising curves", "", 0.8);
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

        // Every model starts from the same y0 for a given seed: the mean image of S1 ∪ S2 plus the seed's noise.
        var both = new ImageSet([.. split.S1.Pixels, .. split.S2.Pixels], 2 * n, pool.Channels, pool.Height, pool.Width, split.S1.Provenance);
        var sampler = new Algorithm1Sampler(settings.SamplerOptions() with { MeanImage = ImageStatistics.MeanImage(both) });
        long sampleSeed = settings.Seed;
        int sampled = 0;
        (ImageSet Images, int Diverged, int[] Steps) Sample(IDenoiser d, string name)
        {
            cancellation.ThrowIfCancellationRequested();
            var path = P($"samples-{name}.npy");
            var trajectories = P($"trajectories-{name}.csv");
            double from = 0.85 + 0.03 * sampled++;
            if (File.Exists(path) && File.Exists(trajectories))
            {
                var images = NpyReader.ReadImages(path);
                if (images.Count == settings.Samples && images.ImageSize == pool.ImageSize)
                    return (images, CountDiverged(trajectories), ReadSteps(trajectories));
            }
            var reporter = new InlineProgress<int>(k => stage.Report($"sample {name}", $"{k}/{settings.Samples}", from + 0.03 * k / settings.Samples));
            var result = sampler.Sample(d, settings.Samples, pool.Channels, pool.Height, pool.Width, sampleSeed, progress: reporter);
            var set = result.ToImageSet();
            result.WriteTrajectoryCsv(trajectories);
            NpyWriter.Write(path, set);
            return (set, result.DivergedCount, result.Steps);
        }
        var (x1, div1, st1) = Sample(net1, "s1");
        var (x2, div2, st2) = Sample(net2, "s2");
        var (o1, odiv1, ost1) = Sample(opt1, "optimal-s1");
        var (o2, odiv2, ost2) = Sample(opt2, "optimal-s2");

        stage.Report("memorization", "", 0.97);
        var searchClock = Stopwatch.StartNew();
        var m1 = Memorization.Measure(x1, split.S1);
        var m2 = Memorization.Measure(x2, split.S2);
        var mo1 = Memorization.Measure(o1, split.S1);
        var mo2 = Memorization.Measure(o2, split.S2);
        Memorization.WriteCsv(P("memorization-s1.csv"), m1);
        Memorization.WriteCsv(P("memorization-s2.csv"), m2);
        Memorization.WriteCsv(P("memorization-optimal-s1.csv"), mo1);
        Memorization.WriteCsv(P("memorization-optimal-s2.csv"), mo2);
        var cross = CrossModelSimilarity.Measure(x1, x2);
        var crossOpt = CrossModelSimilarity.Measure(o1, o2);
        CrossModelSimilarity.WriteCsv(P("cross-model-network.csv"), cross);
        CrossModelSimilarity.WriteCsv(P("cross-model-optimal.csv"), crossOpt);
        var pairs = NearestPairSimilarity.Measure(split.S1, split.S2, SimilarityMetric.Cosine);
        var pairsCentered = NearestPairSimilarity.Measure(split.S1, split.S2, SimilarityMetric.CenteredCosine);
        // Memorization runs three searches (cosine, centred cosine, l2) per sample set; the reference two over S1 × S2.
        double searchPairs = 4.0 * 3 * settings.Samples * n + 2.0 * n * n;
        double searchRate = searchPairs / Math.Max(searchClock.Elapsed.TotalSeconds, 1e-9);
        WriteNearestPairs(P("nearest-pairs.csv"), pairs, pairsCentered);
        WriteGrid(P("grid.png"), settings.GridRows, x1, x2, split.S1, split.S2, m1, m2);

        var point = new TransitionPoint(n, [.. c1.Sigmas],
            CurveValues.From(c1), CurveValues.From(c2), CurveValues.From(cOpt),
            FamilyMeasures.From(cross, m1, m2, div1 + div2, MedianOf(st1, st2)), FamilyMeasures.From(crossOpt, mo1, mo2, odiv1 + odiv2, MedianOf(ost1, ost2)),
            [.. pairs.Select(p => p.Similarity)], [.. pairsCentered.Select(p => p.Similarity)], trainingSeconds, searchRate);
        point.Save(P(PointFile));
        stage.Report("done", point.Regime.ToString().ToLowerInvariant(), 1);
        return point;
    }

    /// <summary>The initialization/data-order/noise seed of the network trained on <paramref name="subset"/>: S1 and S2 differ.</summary>
    public static long TrainingSeed(long seed, string subset) => seed * 16 + (subset == "s1" ? 1 : 2);

    private static double TrainingSeconds(string runDir)
    {
        var final = Path.Combine(runDir, TrainingRun.CheckpointFolder, TrainingRun.FinalCheckpointFile);
        if (!File.Exists(final)) return double.NaN;
        var meta = Checkpoint.ReadMetadata(final);
        return double.TryParse(meta.Values.GetValueOrDefault("elapsed_s", ""), NumberStyles.Float, CultureInfo.InvariantCulture, out var s) ? s : double.NaN;
    }

    private static int CountDiverged(string trajectoriesCsv)
    {
        var lines = File.ReadAllLines(trajectoriesCsv);
        if (lines.Length == 0) return 0;
        int column = Array.IndexOf(lines[0].Split(','), "diverged");
        if (column < 0) return 0;
        return lines.Skip(1).Count(l => l.Split(',') is var cells && cells.Length > column && cells[column] is "1" or "true" or "True");
    }

    private static double MedianOf(int[] a, int[] b) => ImageStatistics.Median([.. a.Concat(b).Select(x => (double)x)]);

    private static int[] ReadSteps(string trajectoriesCsv) =>
        [.. File.ReadAllLines(trajectoriesCsv).Skip(1).Where(l => l.Length > 0).Select(l => int.Parse(l.Split(',')[1], CultureInfo.InvariantCulture))];

    private static void WriteNearestPairs(string path, IReadOnlyList<NearestPair> plain, IReadOnlyList<NearestPair> centered)
    {
        var sb = new StringBuilder("s1_image,nearest_s2_cosine,cosine,nearest_s2_centered,centered_cosine\n");
        for (int i = 0; i < plain.Count; i++)
            sb.Append(CultureInfo.InvariantCulture, $"{i},{plain[i].NearestIndex},{F(plain[i].Similarity)},{centered[i].NearestIndex},{F(centered[i].Similarity)}\n");
        AtomicFile.WriteAllText(path, sb.ToString());
    }

    /// <summary>
    /// The picture that makes the transition visible: one row per seed with the S1 network's sample, the S2 network's
    /// sample, and the most similar (mean-removed cosine) training image of each in its own training set.
    /// </summary>
    public static void WriteGrid(string path, int rows, ImageSet s1Samples, ImageSet s2Samples, ImageSet s1, ImageSet s2,
        IReadOnlyList<SampleMemorization> m1, IReadOnlyList<SampleMemorization> m2)
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
        int zoom = Math.Max(1, 64 / Math.Max(s1.Height, s1.Width));
        var grid = ImageGrid.Compose(tiles, new ImageShape(s1.Channels, s1.Height, s1.Width), 4,
            rowLabels: [.. Enumerable.Range(0, count).Select(r => r.ToString(CultureInfo.InvariantCulture))], padding: 2, zoom: zoom,
            columnLabels: ["S1", "S2", "NN S1", "NN S2"]);
        PngWriter.WriteImage(path, grid.Pixels, grid.Channels, grid.Height, grid.Width);
    }

    /// <summary>summary.csv and summary.json: one row per N with the headline numbers.</summary>
    public static void WriteSummaries(string dir, JsonObject config, IReadOnlyList<TransitionPoint> points)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(points);
        var csv = new StringBuilder("n,regime,s1s2_centered_median,s1s2_centered_mean,s1s2_cosine_median,s1s2_cosine_mean," +
            "nearest_centered_median,nearest_cosine_median,fraction_memorized,psnr_gap,psnr_gap_s1,psnr_gap_s2,nearest_pair_centered_median," +
            "optimal_s1s2_centered_median,optimal_nearest_centered_median,optimal_fraction_memorized,optimal_psnr_gap,diverged,training_s,search_pairs_per_s");
        var sigmas = points.Count > 0 ? points[0].Sigmas : [];
        foreach (var s in sigmas) csv.Append(CultureInfo.InvariantCulture, $",train_psnr_{s:G4},test_psnr_{s:G4}");
        csv.Append('\n');
        var rows = new JsonArray();
        foreach (var p in points)
        {
            csv.Append(CultureInfo.InvariantCulture,
                $"{p.N},{p.Regime.ToString().ToLowerInvariant()},{F(p.Network.Cross.Median)},{F(p.Network.Cross.Mean)},{F(p.Network.CrossPlain.Median)},{F(p.Network.CrossPlain.Mean)}," +
                $"{F(p.Network.Nearest.Median)},{F(p.Network.NearestPlain.Median)},{F(p.FractionMemorized)},{F(p.PsnrGap)},{F(p.CurveS1.Gap)},{F(p.CurveS2.Gap)}," +
                $"{F(SimilaritySummary.Of(p.NearestPairCenteredCosine).Median)},{F(p.Optimal.Cross.Median)},{F(p.Optimal.Nearest.Median)},{F(TransitionPoint.CopyFraction(p.Optimal))}," +
                $"{F(p.CurveOptimal.Gap)},{p.Network.Diverged},{F(p.TrainingSeconds)},{F(p.SearchPairsPerSecond)}");
            for (int k = 0; k < p.Sigmas.Length; k++)
                csv.Append(CultureInfo.InvariantCulture, $",{F((p.CurveS1.TrainPsnr[k] + p.CurveS2.TrainPsnr[k]) / 2)},{F((p.CurveS1.TestPsnr[k] + p.CurveS2.TestPsnr[k]) / 2)}");
            csv.Append('\n');
            rows.Add(new JsonObject
            {
                ["n"] = p.N,
                ["regime"] = p.Regime.ToString().ToLowerInvariant(),
                ["verdict"] = p.Verdict,
                ["s1s2_similarity"] = Summary(p.Network.Cross),
                ["s1s2_similarity_plain_cosine"] = Summary(p.Network.CrossPlain),
                ["nearest_training_similarity"] = Summary(p.Network.Nearest),
                ["nearest_training_similarity_plain_cosine"] = Summary(p.Network.NearestPlain),
                ["fraction_memorized"] = J(p.FractionMemorized),
                ["psnr_gap"] = J(p.PsnrGap),
                ["psnr_gap_s1"] = J(p.CurveS1.Gap),
                ["psnr_gap_s2"] = J(p.CurveS2.Gap),
                ["sigmas"] = new JsonArray([.. p.Sigmas.Select(s => (JsonNode?)s)]),
                ["train_psnr_s1"] = Array(p.CurveS1.TrainPsnr),
                ["test_psnr_s1"] = Array(p.CurveS1.TestPsnr),
                ["train_psnr_s2"] = Array(p.CurveS2.TrainPsnr),
                ["test_psnr_s2"] = Array(p.CurveS2.TestPsnr),
                ["nearest_pair_reference"] = Summary(SimilaritySummary.Of(p.NearestPairCenteredCosine)),
                ["diverged_samples"] = p.Network.Diverged,
                ["training_seconds"] = J(p.TrainingSeconds),
                ["nearest_neighbour_pairs_per_second"] = J(p.SearchPairsPerSecond),
                ["optimal"] = new JsonObject
                {
                    ["s1s2_similarity"] = Summary(p.Optimal.Cross),
                    ["nearest_training_similarity"] = Summary(p.Optimal.Nearest),
                    ["fraction_memorized"] = J(TransitionPoint.CopyFraction(p.Optimal)),
                    ["psnr_gap"] = J(p.CurveOptimal.Gap),
                    ["train_psnr"] = Array(p.CurveOptimal.TrainPsnr),
                    ["test_psnr"] = Array(p.CurveOptimal.TestPsnr),
                },
            });
        }
        AtomicFile.WriteAllText(Path.Combine(dir, "summary.csv"), csv.ToString());
        var json = new JsonObject
        {
            ["config"] = config.DeepClone(),
            ["similarity"] = "cosine similarity after removing each image's mean unless named plain_cosine",
            ["criterion"] = TransitionPoint.Criterion,
            ["points"] = rows,
        };
        AtomicFile.WriteAllText(Path.Combine(dir, "summary.json"), json.ToJsonString(new() { WriteIndented = true }) + "\n");

        static JsonObject Summary(SimilaritySummary s) => new()
        {
            ["count"] = s.Count,
            ["mean"] = J(s.Mean),
            ["median"] = J(s.Median),
            ["sd"] = J(s.StandardDeviation),
            ["min"] = J(s.Min),
            ["max"] = J(s.Max),
        };
        static JsonArray Array(double[] v) => new([.. v.Select(x => J(x))]);
    }

    private static JsonNode? J(double v) => ResultJson.Finite(v);

    private static string F(double v) => double.IsNaN(v) ? "nan" : v.ToString("R", CultureInfo.InvariantCulture);

    /// <summary>Maps a stage's own fraction to the overall fraction and reports it.</summary>
    private sealed class StageReporter(IProgress<TransitionProgress>? progress, int n, int index, int count)
    {
        public void Report(string stage, string detail, double fraction) =>
            progress?.Report(new TransitionProgress(n, stage, detail, 0.02 + 0.96 * (index + Math.Clamp(fraction, 0, 1)) / count));
    }

    /// <summary>An <see cref="IProgress{T}"/> that calls back synchronously (unlike <see cref="Progress{T}"/>).</summary>
    private sealed class InlineProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
