using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text;
using MemGen.Analysis.LinearGaussian;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Machine;
using MemGen.Native;
using MemGen.Nn;
using MemGen.Reporting;
using MemGen.Runs;
using MemGen.Sampling;
using MemGen.Training;

namespace MemGen.Experiments;

/// <summary>One (n, run) of the gaussian-network experiment.</summary>
/// <param name="TrainingCount">n, training images.</param>
/// <param name="Ratio">n/d.</param>
/// <param name="Run">Run index.</param>
/// <param name="TrainDistance">E_TG: per-pixel KDE ISD of the samples to the training set, averaged over pixels.</param>
/// <param name="OriginalDistance">E_OG: the same to the original set.</param>
/// <param name="PositivePixelFraction">Fraction of pixels with E_TG,i &gt; E_OG,i.</param>
/// <param name="Samples">Converged samples used as the generated set.</param>
/// <param name="Diverged">Samples that did not converge (left out of the generated set).</param>
/// <param name="MeanSteps">Mean Algorithm 1 steps per sample.</param>
/// <param name="LawTrainDistance">E_TG of a reference generated set drawn from the true law itself (a perfect generalizer).</param>
/// <param name="LawOriginalDistance">E_OG of that reference set.</param>
/// <param name="NearestTrainingDistance">Median over samples of the RMS distance to the nearest training image.</param>
/// <param name="NearestOriginalDistance">Median over samples of the RMS distance to the nearest image of an equally large fresh set from the law.</param>
/// <param name="SampleStd">Per-pixel standard deviation of the generated set, averaged over pixels (the law's is s).</param>
public sealed record GaussianNetworkMeasurement(
    int TrainingCount, double Ratio, int Run, double TrainDistance, double OriginalDistance, double PositivePixelFraction,
    int Samples, int Diverged, double MeanSteps, double LawTrainDistance, double LawOriginalDistance,
    double NearestTrainingDistance, double NearestOriginalDistance, double SampleStd)
{
    /// <summary>Δ = E_TG − E_OG of the network's samples (positive: closer to the law than to its training set).</summary>
    public double Delta => TrainDistance - OriginalDistance;

    /// <summary>Δ of the true-law reference set.</summary>
    public double LawDelta => LawTrainDistance - LawOriginalDistance;
}

/// <summary>Per-n summary of the gaussian-network experiment.</summary>
/// <param name="TrainingCount">n.</param>
/// <param name="Ratio">n/d.</param>
/// <param name="Runs">Runs.</param>
/// <param name="ProbabilityDeltaPositive">Fraction of runs with Δ &gt; 0 (network samples).</param>
/// <param name="LawProbabilityDeltaPositive">Fraction of runs with Δ &gt; 0 for the true-law reference set.</param>
/// <param name="TrainDistance">E_TG mean and spread.</param>
/// <param name="OriginalDistance">E_OG mean and spread.</param>
/// <param name="Delta">Δ mean and spread.</param>
/// <param name="LawDelta">Δ of the reference set, mean and spread.</param>
/// <param name="PositivePixelFraction">Mean fraction of pixels with Δ_i &gt; 0.</param>
/// <param name="NearestRatio">Mean over runs of (median distance to the nearest training image) / (median distance to the nearest fresh image): ≪ 1 when samples copy training images.</param>
/// <param name="Diverged">Diverged samples summed over runs.</param>
/// <param name="SampleStd">Mean over runs of the generated sets' per-pixel standard deviation (the law's is s).</param>
public sealed record GaussianNetworkSummary(
    int TrainingCount, double Ratio, int Runs, double ProbabilityDeltaPositive, double LawProbabilityDeltaPositive,
    Spread TrainDistance, Spread OriginalDistance, Spread Delta, Spread LawDelta, double PositivePixelFraction, double NearestRatio, int Diverged, double SampleStd);

/// <summary>What <see cref="GaussianNetworkExperiment.Run"/> produced.</summary>
/// <param name="Measurements">One per (n, run).</param>
/// <param name="Summaries">One per n.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="ReportProblems">Warnings of the report writer.</param>
public sealed record GaussianNetworkResult(
    IReadOnlyList<GaussianNetworkMeasurement> Measurements, IReadOnlyList<GaussianNetworkSummary> Summaries, TimeSpan Elapsed, IReadOnlyList<string> ReportProblems);

/// <summary>
/// <c>memgen experiment gaussian-network</c>: the nonlinear variant of docs/science.md §7. For every n and run: a fresh
/// training set of n isotropic Gaussian images, a blind bias-free network trained on it (a <see cref="TrainingRun"/> in
/// models/, so a stopped experiment resumes), samples from Algorithm 1 started at the training mean, and the per-pixel
/// KDE distances E_TG, E_OG to the training set and to a fresh original set (<see cref="PixelKernelDensity"/>; all sets
/// in image units). A generated set drawn from the true law is measured the same way as a reference.
/// Writes config.json, measurements.csv, summary.csv, summary.json, samples/*.npy (+ .trajectories.csv), grids/*.png and report.html.
/// </summary>
public static class GaussianNetworkExperiment
{
    /// <summary>Names of the presets.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["quick", "full"];

    /// <summary>
    /// <c>quick</c>: 4×4 images (d = 16), n/d ∈ {0.25, 1, 4}, R = 2, a 4-layer width-16 BF-CNN trained on 8192 images in
    /// batches of 32 (about 15 s of CPU per network; a few minutes on 2 busy cores). <c>full</c>: 8×8 images,
    /// n/d ∈ {0.25, 0.5, 1, 2, 4, 8}, R = 5, 5-layer width-32, 65,536 images per network, 10^4 original images.
    /// </summary>
    public static GaussianNetworkSettings Preset(string name) => name switch
    {
        "quick" => new GaussianNetworkSettings
        {
            Size = 4,
            Ratios = [0.25, 1, 4],
            Runs = 2,
            Model = "bfcnn:layers=4,width=16",
            TrainingBudget = 8192,
            BatchSize = 32,
            SampleCount = 128,
            OriginalCount = 4000,
        },
        "full" => new GaussianNetworkSettings
        {
            Size = 8,
            Ratios = [0.25, 0.5, 1, 2, 4, 8],
            Runs = 5,
            Model = "bfcnn:layers=5,width=32",
            TrainingBudget = 65_536,
            SampleCount = 256,
            OriginalCount = 10_000,
        },
        _ => throw new ArgumentException($"Unknown preset '{name}' (expected {string.Join(" or ", PresetNames)}).", nameof(name)),
    };

    /// <summary>Runs every (n, run) and writes the results and the report into <paramref name="runDirectory"/>.</summary>
    public static GaussianNetworkResult Run(GaussianNetworkSettings settings, string runDirectory, string preset,
        Action<double>? progress = null, CancellationToken cancellation = default, ReportWriteOptions? reportOptions = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Validate() is string problem) throw new ArgumentException(problem, nameof(settings));
        RequireMemory(settings); // before anything is written
        var started = DateTimeOffset.UtcNow;
        var clock = Stopwatch.StartNew();
        using var folderLock = RunFolderLock.Acquire(runDirectory);
        var config = ConfigJson(settings, preset);
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "config.json"), config.ToJsonString(new() { WriteIndented = true }));

        var counts = settings.TrainingCounts;
        int units = counts.Length * settings.Runs, done = 0;
        var measurements = new List<GaussianNetworkMeasurement>();
        var grids = new List<(int N, string Path)>();
        using var convolutions = new OneDnnConvolutionFactory();
        NetworkBuilder build = (spec, channels, seed) => NetworkFactory.Create(spec, channels, convolutions, seed);
        foreach (int n in counts)
        {
            for (int run = 0; run < settings.Runs; run++)
            {
                cancellation.ThrowIfCancellationRequested();
                int unit = done;
                void Report(double f) => progress?.Invoke((unit + Math.Clamp(f, 0, 1)) / units);
                var (measurement, samples, training) = RunOne(settings, n, run, runDirectory, build, Report, cancellation);
                measurements.Add(measurement);
                if (run == 0)
                {
                    var grid = Path.Combine(runDirectory, "grids", $"n{n:D5}.png");
                    WriteGrid(grid, training, samples);
                    grids.Add((n, grid));
                }
                done++;
                progress?.Invoke((double)done / units);
            }
        }

        var summaries = Summarize(settings, measurements);
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "measurements.csv"), MeasurementsCsv(measurements));
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "summary.csv"), SummaryCsv(summaries));
        AtomicFile.WriteAllText(Path.Combine(runDirectory, "summary.json"),
            new JsonObject { ["config"] = config.DeepClone(), ["summary"] = SummaryJson(summaries) }.ToJsonString(new() { WriteIndented = true }));
        var report = BuildReport(settings, summaries, measurements, grids, config, clock.Elapsed, started);
        var output = report.Write(runDirectory, reportOptions);
        return new GaussianNetworkResult(measurements, summaries, clock.Elapsed, output.Problems);
    }

    /// <summary>
    /// Refuses settings whose largest unit would take more than the memory budget: its training, fresh, original,
    /// evaluation and law sets and its samples (with their written copy), plus the network's training activations.
    /// </summary>
    private static void RequireMemory(GaussianNetworkSettings s)
    {
        long n = s.TrainingCounts[^1], d = s.Dimension;
        long images = MemoryBudget.Sum(MemoryBudget.Product(2, n), s.OriginalCount, 32, MemoryBudget.Product(3, s.SampleCount));
        long bytes = MemoryBudget.Sum(MemoryBudget.Product(images, d, sizeof(float)),
            NetworkSpec.Parse(s.Model).ActivationBytes(s.BatchSize, s.Size, s.Size, training: true));
        MemoryBudget.Require(bytes, $"gaussian-network with {s.Size}×{s.Size} images and n up to {n}");
    }

    /// <summary>The seed of one random role (training set, original set, ...) of one (n, run).</summary>
    public static long SeedOf(long seed, int role, int n, int run) =>
        unchecked(seed * 1_000_000_007L + role * 10_000_000_000L + run * 1_000_000L + n);

    /// <summary>The dataset spec of the training set (role 1), the original set (2), the evaluation set (3) or the law reference (4).</summary>
    public static string DataSpec(GaussianNetworkSettings settings, int role, int count, int n, int run)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return string.Create(CultureInfo.InvariantCulture,
            $"gaussian:size={settings.Size},mean={settings.Mean:R},std={settings.Std:R},n={count},seed={SeedOf(settings.Seed, role, n, run)}");
    }

    private static (GaussianNetworkMeasurement, ImageSet Samples, ImageSet Training) RunOne(GaussianNetworkSettings s, int n, int run, string runDirectory,
        NetworkBuilder build, Action<double> progress, CancellationToken cancellation)
    {
        var trainSpec = DataSpec(s, 1, n, n, run);
        var training = DatasetLoader.Load(trainSpec);
        var evaluation = DatasetLoader.Load(DataSpec(s, 3, 32, n, run));
        var original = DatasetLoader.Load(DataSpec(s, 2, s.OriginalCount, n, run));
        var options = new TrainingOptions
        {
            LearningRate = s.LearningRate,
            BatchSize = s.BatchSize,
            Budget = s.TrainingBudget,
            ImagesPerEpoch = (int)Math.Min(s.TrainingBudget, 250_000),
            EvalImages = 32,
        };
        long steps = options.TotalSteps;
        options = options with { EvalEvery = (int)Math.Max(1, steps / 4), CheckpointEvery = (int)Math.Max(1, steps / 4) };
        var config = new TrainingConfig(NetworkSpec.Parse(s.Model), new TrainingDataSource(trainSpec, n), SeedOf(s.Seed, 5, n, run), options);
        var unitName = $"n{n:D5}-run{run:D2}";
        var trainingProgress = new SynchronousProgress<TrainingProgress>(p => progress(0.85 * p.Step / Math.Max(1, p.TotalSteps)));
        var trained = TrainingRun.StartOrResume(Path.Combine(runDirectory, "models", unitName), config, training, evaluation, build, trainingProgress, cancellation);
        using var network = trained.Network;
        var denoiser = new NetworkDenoiser(network, batchSize: 256);
        var sampler = new Algorithm1Sampler(s.SamplerOptions.WithTrainingMean(training));
        var sampleProgress = new SynchronousProgress<int>(k => progress(0.85 + 0.1 * k / s.SampleCount));
        var result = sampler.Sample(denoiser, s.SampleCount, 1, s.Size, s.Size, SeedOf(s.Seed, 6, n, run), progress: sampleProgress);
        var all = result.ToImageSet();
        NpyWriter.Write(Path.Combine(runDirectory, "samples", unitName + ".npy"), all);
        result.WriteTrajectoryCsv(Path.Combine(runDirectory, "samples", unitName + ".trajectories.csv"));
        var converged = Enumerable.Range(0, result.Count).Where(k => result.Outcomes[k] == SampleOutcome.Converged).ToArray();
        var generated = all.Subset(converged, "converged");
        var law = DatasetLoader.Load(DataSpec(s, 4, s.SampleCount, n, run));
        var fresh = DatasetLoader.Load(DataSpec(s, 7, n, n, run));
        double trainDistance = double.NaN, originalDistance = double.NaN, positive = double.NaN, nearTrain = double.NaN, nearFresh = double.NaN, sampleStd = double.NaN;
        if (generated.Count >= 2)
        {
            var kde = PixelKernelDensity.Compare(generated, training, original);
            (trainDistance, originalDistance, positive) = (kde.MeanTrainDistance, kde.MeanOriginalDistance, kde.PositivePixelFraction);
            nearTrain = MedianNearestDistance(generated, training);
            nearFresh = MedianNearestDistance(generated, fresh);
            sampleStd = MeanPixelStd(generated);
        }
        var lawKde = PixelKernelDensity.Compare(law, training, original);
        progress(1);
        return (new GaussianNetworkMeasurement(n, (double)n / s.Dimension, run, trainDistance, originalDistance, positive,
            generated.Count, result.DivergedCount, result.Steps.Average(), lawKde.MeanTrainDistance, lawKde.MeanOriginalDistance, nearTrain, nearFresh, sampleStd),
            all, training);
    }

    /// <summary>Median over the images of <paramref name="queries"/> of the RMS distance to the nearest image of <paramref name="set"/>.</summary>
    public static double MedianNearestDistance(ImageSet queries, ImageSet set)
    {
        ArgumentNullException.ThrowIfNull(queries);
        ArgumentNullException.ThrowIfNull(set);
        var nearest = new double[queries.Count];
        Parallel.For(0, queries.Count, i =>
        {
            var q = queries.Image(i);
            double best = double.PositiveInfinity;
            for (int j = 0; j < set.Count; j++) best = Math.Min(best, ImageStatistics.MeanSquaredError(q, set.Image(j)));
            nearest[i] = Math.Sqrt(best);
        });
        return ImageStatistics.Median(nearest);
    }

    /// <summary>The per-pixel sample standard deviation (N − 1) of <paramref name="set"/>, averaged over pixels.</summary>
    public static double MeanPixelStd(ImageSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        int d = set.ImageSize, n = set.Count;
        if (n < 2) return double.NaN;
        double total = 0;
        for (int j = 0; j < d; j++)
        {
            double mean = 0, ss = 0;
            for (int i = 0; i < n; i++) mean += set.Pixels[(long)i * d + j];
            mean /= n;
            for (int i = 0; i < n; i++)
            {
                double v = set.Pixels[(long)i * d + j] - mean;
                ss += v * v;
            }
            total += Math.Sqrt(ss / (n - 1));
        }
        return total / d;
    }

    /// <summary>Groups the measurements by n.</summary>
    public static IReadOnlyList<GaussianNetworkSummary> Summarize(GaussianNetworkSettings settings, IEnumerable<GaussianNetworkMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return [.. measurements.GroupBy(m => m.TrainingCount).OrderBy(g => g.Key).Select(g =>
        {
            var list = g.ToList();
            return new GaussianNetworkSummary(g.Key, (double)g.Key / settings.Dimension, list.Count,
                list.Count(m => m.Delta > 0) / (double)list.Count,
                list.Count(m => m.LawDelta > 0) / (double)list.Count,
                Spread.Of([.. list.Select(m => m.TrainDistance)]), Spread.Of([.. list.Select(m => m.OriginalDistance)]),
                Spread.Of([.. list.Select(m => m.Delta)]), Spread.Of([.. list.Select(m => m.LawDelta)]),
                list.Average(m => m.PositivePixelFraction),
                list.Average(m => m.NearestTrainingDistance / m.NearestOriginalDistance),
                list.Sum(m => m.Diverged),
                list.Average(m => m.SampleStd));
        })];
    }

    /// <summary>The settings as JSON (config.json and the report).</summary>
    public static JsonObject ConfigJson(GaussianNetworkSettings settings, string preset)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return new JsonObject
        {
            ["experiment"] = "gaussian-network",
            ["preset"] = preset,
            ["memgen_version"] = MemGenInfo.Version,
            ["size"] = settings.Size,
            ["d"] = settings.Dimension,
            ["mean"] = settings.Mean,
            ["std"] = settings.Std,
            ["ratios"] = new JsonArray([.. settings.Ratios.Select(r => (JsonNode)r)]),
            ["training_counts"] = new JsonArray([.. settings.TrainingCounts.Select(n => (JsonNode)n)]),
            ["runs"] = settings.Runs,
            ["original_count"] = settings.OriginalCount,
            ["sample_count"] = settings.SampleCount,
            ["model"] = settings.Model,
            ["training_budget_images"] = settings.TrainingBudget,
            ["batch_size"] = settings.BatchSize,
            ["learning_rate"] = settings.LearningRate,
            ["sampler"] = settings.SamplerOptions.Describe(),
            ["kde_bandwidth"] = "eps = s_i/N per set and pixel (s_i: sample std of pixel i, N: set size)",
            ["seed"] = settings.Seed,
        };
    }

    /// <summary>measurements.csv: one line per (n, run).</summary>
    public static string MeasurementsCsv(IEnumerable<GaussianNetworkMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var csv = new StringBuilder("n,n_over_d,run,e_tg,e_og,delta,positive_pixel_fraction,samples,diverged,mean_steps,law_e_tg,law_e_og,law_delta,nearest_training_rms,nearest_fresh_rms,sample_std\n");
        foreach (var m in measurements)
            csv.Append(CultureInfo.InvariantCulture,
                $"{m.TrainingCount},{F(m.Ratio)},{m.Run},{F(m.TrainDistance)},{F(m.OriginalDistance)},{F(m.Delta)},{F(m.PositivePixelFraction)},{m.Samples},{m.Diverged},{F(m.MeanSteps)},{F(m.LawTrainDistance)},{F(m.LawOriginalDistance)},{F(m.LawDelta)},{F(m.NearestTrainingDistance)},{F(m.NearestOriginalDistance)},{F(m.SampleStd)}\n");
        return csv.ToString();
    }

    /// <summary>summary.csv: one line per n.</summary>
    public static string SummaryCsv(IEnumerable<GaussianNetworkSummary> summaries)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        var csv = new StringBuilder("n,n_over_d,runs,p_delta_positive,law_p_delta_positive,e_tg_mean,e_tg_std,e_og_mean,e_og_std,delta_mean,delta_std,law_delta_mean,law_delta_std,positive_pixel_fraction,nearest_ratio,diverged,sample_std\n");
        foreach (var s in summaries)
            csv.Append(CultureInfo.InvariantCulture,
                $"{s.TrainingCount},{F(s.Ratio)},{s.Runs},{F(s.ProbabilityDeltaPositive)},{F(s.LawProbabilityDeltaPositive)},{F(s.TrainDistance.Mean)},{F(s.TrainDistance.Std)},{F(s.OriginalDistance.Mean)},{F(s.OriginalDistance.Std)},{F(s.Delta.Mean)},{F(s.Delta.Std)},{F(s.LawDelta.Mean)},{F(s.LawDelta.Std)},{F(s.PositivePixelFraction)},{F(s.NearestRatio)},{s.Diverged},{F(s.SampleStd)}\n");
        return csv.ToString();
    }

    private static JsonArray SummaryJson(IEnumerable<GaussianNetworkSummary> summaries)
    {
        var rows = new JsonArray();
        foreach (var s in summaries)
        {
            rows.Add(new JsonObject
            {
                ["n"] = s.TrainingCount,
                ["n_over_d"] = s.Ratio,
                ["runs"] = s.Runs,
                ["p_delta_positive"] = s.ProbabilityDeltaPositive,
                ["law_p_delta_positive"] = s.LawProbabilityDeltaPositive,
                ["e_tg"] = SpreadJson(s.TrainDistance),
                ["e_og"] = SpreadJson(s.OriginalDistance),
                ["delta"] = SpreadJson(s.Delta),
                ["law_delta"] = SpreadJson(s.LawDelta),
                ["positive_pixel_fraction"] = Finite(s.PositivePixelFraction),
                ["nearest_ratio"] = Finite(s.NearestRatio),
                ["diverged"] = s.Diverged,
                ["sample_std"] = Finite(s.SampleStd),
            });
        }
        return rows;
    }

    private static void WriteGrid(string path, ImageSet training, ImageSet samples)
    {
        int columns = 12;
        var images = new List<ReadOnlyMemory<float>>();
        int d = training.ImageSize;
        var blank = Enumerable.Repeat(1f, d).ToArray(); // white, like the padding
        for (int i = 0; i < columns; i++) images.Add(i < training.Count ? training.Pixels.AsMemory(i * d, d) : blank);
        for (int i = 0; i < 2 * columns && i < samples.Count; i++) images.Add(samples.Pixels.AsMemory(i * d, d));
        PngWriter.WriteGrid(path, images, new ImageShape(1, training.Height, training.Width), columns, ["train", "samples", ""], zoom: 6,
            lo: 0f, hi: 1f);
    }

    private static ReportBuilder BuildReport(GaussianNetworkSettings settings, IReadOnlyList<GaussianNetworkSummary> summaries,
        IReadOnlyList<GaussianNetworkMeasurement> measurements, IReadOnlyList<(int N, string Path)> grids, JsonObject config, TimeSpan elapsed, DateTimeOffset started)
    {
        var report = new ReportBuilder("Trained denoiser on Gaussian images: per-pixel KDE transition",
            string.Create(CultureInfo.InvariantCulture, $"docs/science.md §7 (nonlinear variant) · d = {settings.Dimension} ({settings.Size}×{settings.Size}) · {settings.Model} · R = {settings.Runs} runs per n"));
        report.AddText(
            string.Create(CultureInfo.InvariantCulture,
                $"Training images x ~ N({settings.Mean}·1, {settings.Std}²·I) in d = {settings.Dimension} pixels. For each n and run a fresh training set, a blind " +
                $"bias-free network ({settings.Model}, {settings.TrainingBudget} training images seen), {settings.SampleCount} samples from Algorithm 1 " +
                $"({settings.Variant.ToString().ToLowerInvariant()} variant, started at the training mean) and a fresh original set of {settings.OriginalCount} images. ") +
            "Per pixel, each set is smoothed by a 1-D Gaussian kernel of width ε = ŝ_i/N (ŝ_i its sample standard deviation of that pixel, N its size); " +
            "E_TG and E_OG are the closed-form integrated squared differences between the samples' density and the training / original densities, " +
            "averaged over pixels; Δ = E_TG − E_OG > 0 means the samples are closer to the law than to the training set. " +
            "The 'true law' reference applies the same metric to a set drawn from the law itself (what a perfect generalizer would score). " +
            "The nearest-neighbour ratio compares the samples' distance to their nearest training image with that to an equally large fresh set: " +
            "≪ 1 when the network reproduces its training images. 'Sample std' is the generated sets' per-pixel standard deviation, " +
            string.Create(CultureInfo.InvariantCulture, $"to compare with the law's s = {settings.Std} (a check of sample quality independent of the KDE metric). ") +
            "Caveat: a blind bias-free network is positively homogeneous, f(αy) = α·f(y), so it cannot pin the overall intensity of an image; " +
            "on this data (mean m, small s) Algorithm 1 samples can end at any brightness along the ray through an image (see the grids), " +
            "which the per-pixel metric counts against them.",
            heading: "What was run");
        report.AddSettings(config, elapsed, started);

        var rows = new JsonArray();
        foreach (var s in summaries)
        {
            rows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["p"] = s.ProbabilityDeltaPositive, ["set"] = "network samples" });
            rows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["p"] = s.LawProbabilityDeltaPositive, ["set"] = "true-law reference" });
        }
        report.AddFigure("p-delta-positive", "P(Δ > 0) vs n/d",
            "Fraction of runs in which the samples are closer (per-pixel KDE distance) to the original set than to the training set; " +
            "the dashed line marks n = d.",
            LineChart(rows, "p", "P(Δ > 0)", (0, 1)));

        var deltaRows = new JsonArray();
        foreach (var m in measurements)
        {
            deltaRows.Add(new JsonObject { ["n_over_d"] = m.Ratio, ["n"] = m.TrainingCount, ["value"] = Finite(m.Delta), ["set"] = "network samples" });
            deltaRows.Add(new JsonObject { ["n_over_d"] = m.Ratio, ["n"] = m.TrainingCount, ["value"] = Finite(m.LawDelta), ["set"] = "true-law reference" });
        }
        report.AddFigure("delta", "Δ = E_TG − E_OG per run vs n/d",
            "Every run as a point, the mean as a line; Δ in units of 1/(image intensity) (a 1-D density squared, integrated).",
            PointsChart(deltaRows, "value", "Δ"));

        var distRows = new JsonArray();
        foreach (var s in summaries)
        {
            distRows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["value"] = Finite(s.TrainDistance.Mean), ["set"] = "E_TG (training set)" });
            distRows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["value"] = Finite(s.OriginalDistance.Mean), ["set"] = "E_OG (original set)" });
        }
        report.AddFigure("distances", "E_TG and E_OG vs n/d", "Means over runs of the per-pixel KDE distances of the network samples.", LineChart(distRows, "value", "distance", null));

        var nearRows = new JsonArray();
        foreach (var s in summaries)
            nearRows.Add(new JsonObject { ["n_over_d"] = s.Ratio, ["n"] = s.TrainingCount, ["value"] = Finite(s.NearestRatio), ["set"] = "nearest training / nearest fresh" });
        report.AddFigure("nearest", "Memorization: nearest-neighbour distance ratio vs n/d",
            "Median RMS distance of a sample to its nearest training image divided by that to its nearest image in a fresh set of the same size (mean over runs); " +
            "near 0: samples are copies of training images; near 1: no closer to the training set than to new data.",
            LineChart(nearRows, "value", "ratio", null));

        foreach (var (n, path) in grids)
            report.AddImage($"grid-n{n}", string.Create(CultureInfo.InvariantCulture, $"n = {n} (n/d = {(double)n / settings.Dimension:G3}), run 0"),
                "Top row: training images; below: samples (values clamped to [0,1]).", path);

        report.AddTable("summary", "Per n", "Mean ± standard deviation over runs (files: summary.csv, summary.json, measurements.csv).",
            ["n", "n/d", "P(Δ>0)", "P(Δ>0) law", "E_TG", "E_OG", "Δ", "Δ law", "pixels Δ_i>0", "NN ratio", "sample std", "diverged"],
            summaries.Select(s => (IReadOnlyList<object?>)
            [
                s.TrainingCount, Math.Round(s.Ratio, 3), s.ProbabilityDeltaPositive, s.LawProbabilityDeltaPositive, Pm(s.TrainDistance), Pm(s.OriginalDistance),
                Pm(s.Delta), Pm(s.LawDelta), Math.Round(s.PositivePixelFraction, 3), Math.Round(s.NearestRatio, 3), Math.Round(s.SampleStd, 4), s.Diverged,
            ]));
        return report;
    }

    private static JsonObject RatioAxis() => new()
    {
        ["field"] = "n_over_d",
        ["type"] = "quantitative",
        ["title"] = "n / d",
        ["scale"] = new JsonObject { ["type"] = "log", ["base"] = 2 },
    };

    private static JsonObject NDashRule() => new()
    {
        ["data"] = new JsonObject { ["values"] = new JsonArray(new JsonObject { ["n_over_d"] = 1.0 }) },
        ["mark"] = new JsonObject { ["type"] = "rule", ["strokeDash"] = new JsonArray(4, 4), ["color"] = "gray" },
        ["encoding"] = new JsonObject { ["x"] = new JsonObject { ["field"] = "n_over_d", ["type"] = "quantitative" } },
    };

    private static JsonObject LineChart(JsonArray values, string field, string title, (double, double)? domain)
    {
        var y = new JsonObject { ["field"] = field, ["type"] = "quantitative", ["title"] = title };
        if (domain is var (lo, hi)) y["scale"] = new JsonObject { ["domain"] = new JsonArray(lo, hi) };
        return new JsonObject
        {
            ["width"] = 480,
            ["height"] = 280,
            ["layer"] = new JsonArray(
                new JsonObject
                {
                    ["data"] = new JsonObject { ["values"] = values.DeepClone() },
                    ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
                    ["encoding"] = new JsonObject
                    {
                        ["x"] = RatioAxis(),
                        ["y"] = y,
                        ["color"] = new JsonObject { ["field"] = "set", ["type"] = "nominal", ["title"] = null },
                        ["tooltip"] = new JsonArray(
                            new JsonObject { ["field"] = "n", ["type"] = "quantitative" },
                            new JsonObject { ["field"] = field, ["type"] = "quantitative", ["format"] = ".4g" }),
                    },
                },
                NDashRule()),
        };
    }

    private static JsonObject PointsChart(JsonArray values, string field, string title)
    {
        var color = new JsonObject { ["field"] = "set", ["type"] = "nominal", ["title"] = null };
        return new JsonObject
        {
            ["width"] = 480,
            ["height"] = 280,
            ["layer"] = new JsonArray(
                new JsonObject
                {
                    ["data"] = new JsonObject { ["values"] = values.DeepClone() },
                    ["mark"] = new JsonObject { ["type"] = "point", ["opacity"] = 0.6 },
                    ["encoding"] = new JsonObject
                    {
                        ["x"] = RatioAxis(),
                        ["y"] = new JsonObject { ["field"] = field, ["type"] = "quantitative", ["title"] = title },
                        ["color"] = color.DeepClone(),
                    },
                },
                new JsonObject
                {
                    ["data"] = new JsonObject { ["values"] = values.DeepClone() },
                    ["mark"] = new JsonObject { ["type"] = "line" },
                    ["encoding"] = new JsonObject
                    {
                        ["x"] = RatioAxis(),
                        ["y"] = new JsonObject { ["aggregate"] = "mean", ["field"] = field, ["type"] = "quantitative", ["title"] = title },
                        ["color"] = color.DeepClone(),
                    },
                },
                NDashRule()),
        };
    }


    private static JsonNode? Finite(double v) => ResultJson.Finite(v);

    private static JsonObject SpreadJson(Spread s) => ResultJson.MeanStd(s.Mean, s.Std);

    private static string Pm(Spread s) => double.IsNaN(s.Std)
        ? s.Mean.ToString("G4", CultureInfo.InvariantCulture)
        : $"{s.Mean.ToString("G4", CultureInfo.InvariantCulture)} ± {s.Std.ToString("G2", CultureInfo.InvariantCulture)}";

    private static string F(double v) => double.IsNaN(v) ? "" : v.ToString("R", CultureInfo.InvariantCulture);

    private sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
