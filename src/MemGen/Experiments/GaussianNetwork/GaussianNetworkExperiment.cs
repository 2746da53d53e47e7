using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text;
using MemGen.Analysis.LinearGaussian;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Experiments.Kit;
using MemGen.Images;
using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Machine;
using MemGen.Nn;
using MemGen.Reporting;
using MemGen.Results;
using MemGen.Sampling;
using MemGen.Training;

namespace MemGen.Experiments.GaussianNetwork;

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
/// <param name="Measurements">One per (n, run), of <see cref="GaussianNetworkSettings.Model"/>.</param>
/// <param name="Summaries">One per n.</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="ReportProblems">Warnings of the report writer.</param>
/// <param name="Comparison">The same for <see cref="GaussianNetworkSettings.CompareModel"/>; null without one.</param>
public sealed record GaussianNetworkResult(
    IReadOnlyList<GaussianNetworkMeasurement> Measurements, IReadOnlyList<GaussianNetworkSummary> Summaries, TimeSpan Elapsed, IReadOnlyList<string> ReportProblems,
    GaussianNetworkComparison? Comparison = null);

/// <summary>The measurements of the compared model (<see cref="GaussianNetworkSettings.CompareModel"/>), on the same training sets.</summary>
/// <param name="Model">Its network spec.</param>
/// <param name="Measurements">One per (n, run).</param>
/// <param name="Summaries">One per n.</param>
public sealed record GaussianNetworkComparison(string Model, IReadOnlyList<GaussianNetworkMeasurement> Measurements, IReadOnlyList<GaussianNetworkSummary> Summaries);

/// <summary>
/// <c>memgen experiment gaussian-network</c>: the nonlinear variant of docs/science.md §7. For every n and run: a fresh
/// training set of n isotropic Gaussian images, a blind bias-free network trained on it (a <see cref="TrainingRun"/> in
/// models/, so a stopped experiment resumes), samples from Algorithm 1 started at the training mean, and the per-pixel
/// KDE distances E_TG, E_OG to the training set and to a fresh original set (<see cref="PixelKernelDensity"/>; all sets
/// in image units). A generated set drawn from the true law is measured the same way as a reference.
/// Writes config.json, measurements.csv, summary.csv, summary.json, samples/*.npy (+ .trajectories.csv), grids/*.png and report.html;
/// with a compared model (<see cref="GaussianNetworkSettings.CompareModel"/>) also compare-measurements.csv and
/// compare-summary.csv, its networks and samples under the unit names with suffix <c>-compare</c>.
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
        _ => throw new InvalidSettingException("preset", $"unknown preset '{name}' (expected {string.Join(" or ", PresetNames)})"),
    };

    /// <summary>Suffix of the compared model's unit names (models/, samples/, grids/).</summary>
    public const string CompareSuffix = "-compare";

    /// <summary>The experiment's name in experiment.json.</summary>
    public const string Name = "gaussian-network";

    /// <summary>
    /// Runs every (n, run) and writes the results and the report into <paramref name="runDirectory"/>; a re-run with the
    /// same settings reuses the trained networks and samples. Invalid settings or a run directory holding something else
    /// raise an <see cref="InvalidSettingException"/> before anything is written. The networks train on
    /// <paramref name="backend"/> (a CPU backend of its own when null).
    /// </summary>
    public static GaussianNetworkResult Run(GaussianNetworkSettings settings, string runDirectory, string preset,
        IProgress<ExperimentProgress>? progress = null, CancellationToken cancellation = default, ReportWriteOptions? reportOptions = null,
        ComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        RequireMemory(settings); // before anything is written
        var identity = ConfigJson(settings, preset);
        using var run = RunDirectory.Open(runDirectory, identity);
        var record = RunRecord.Begin(run);

        var counts = settings.TrainingCounts;
        var models = settings.Models;
        var reporter = new ExperimentProgressReporter(progress, counts.Length * settings.Runs * models.Count);
        var measured = models.Select(_ => new List<GaussianNetworkMeasurement>()).ToArray();
        var grids = new List<(int N, string Path)>();
        using var ownBackend = backend is null ? new CpuBackend() : null;
        var engine = backend ?? ownBackend!;
        NetworkBuilder build = (spec, channels, seed) => NetworkFactory.Create(spec, channels, engine, seed);
        int unitIndex = 0;
        foreach (int n in counts)
        {
            for (int r = 0; r < settings.Runs; r++)
            {
                for (int k = 0; k < models.Count; k++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    string suffix = k == 0 ? "" : CompareSuffix;
                    var unit = reporter.Unit(unitIndex++, $"n={n} run {r}{(k == 0 ? "" : " " + models[k])}");
                    var (measurement, samples, training) = RunOne(settings, models[k], suffix, n, r, run, build, unit, cancellation);
                    measured[k].Add(measurement);
                    if (r == 0)
                    {
                        var grid = run.File("grids", $"n{n:D5}{suffix}.png");
                        WriteGrid(grid, training, samples);
                        if (k == 0) grids.Add((n, grid));
                    }
                }
            }
        }

        reporter.Closing("report");
        var measurements = measured[0];
        var summaries = Summarize(settings, measurements);
        MeasurementsTable(measurements).Write(Path.Combine(run.Path, "measurements"), new JsonObject { ["config"] = identity.DeepClone() });
        SummaryTable(summaries).Write(Path.Combine(run.Path, "summary"), new JsonObject { ["config"] = identity.DeepClone() });
        GaussianNetworkComparison? comparison = null;
        if (settings.CompareModel is { } compared)
        {
            comparison = new GaussianNetworkComparison(compared, measured[1], Summarize(settings, measured[1]));
            var metadata = new JsonObject { ["config"] = identity.DeepClone(), ["model"] = compared };
            MeasurementsTable(comparison.Measurements).Write(Path.Combine(run.Path, "compare-measurements"), metadata);
            SummaryTable(comparison.Summaries).Write(Path.Combine(run.Path, "compare-summary"), metadata.DeepClone().AsObject());
        }
        var report = GaussianNetworkReport.Build(settings, summaries, measurements, grids, identity, record, comparison);
        var output = report.Write(run.Path, reportOptions);
        record.Finish();
        reporter.Closing("done", "", finished: true);
        return new GaussianNetworkResult(measurements, summaries, record.Elapsed, output.Problems, comparison);
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
            s.Models.Max(m => NetworkSpec.Parse(m).ActivationBytes(s.BatchSize, s.Size, s.Size, training: true)));
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

    private static (GaussianNetworkMeasurement, ImageSet Samples, ImageSet Training) RunOne(GaussianNetworkSettings s, string model, string suffix, int n, int run, RunDirectory runDirectory,
        NetworkBuilder build, ExperimentProgressReporter.UnitProgress progress, CancellationToken cancellation)
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
        var config = new TrainingConfig(NetworkSpec.Parse(model), new TrainingDataSource(trainSpec, n), SeedOf(s.Seed, 5, n, run), options);
        var unitName = $"n{n:D5}-run{run:D2}{suffix}";
        TrainingResult trained;
        try
        {
            trained = TrainingRun.StartOrResume(runDirectory.Folder("models", unitName), config, training, evaluation, build, progress.Training("train", 0, 0.85), cancellation);
        }
        catch (TrainingRunException e)
        {
            throw new InvalidSettingException("out", $"training {Path.Combine(runDirectory.Path, "models", unitName)}: {e.Message}", e);
        }
        using var network = trained.Network;
        var denoiser = new NetworkDenoiser(network, batchSize: 256);
        var sampler = s.SamplerSpec.Create(SamplingStart.MeanOf(training, "training mean image"), Math.Min(s.SampleCount, 256));
        var files = new SampleSetFiles(runDirectory.File("samples", unitName + ".npy"), runDirectory.File("samples", unitName + ".trajectories.csv"));
        long sampleSeed = SeedOf(s.Seed, 6, n, run);
        var result = files.TryRead(s.SampleCount, new ImageShape(1, s.Size, s.Size), sampleSeed, sampler.Spec.ToString(), denoiser.Name);
        if (result is null)
        {
            result = sampler.Sample(denoiser, s.SampleCount, 1, s.Size, s.Size, sampleSeed, progress: progress.Count("sample", s.SampleCount, 0.85, 0.95));
            files.Write(result);
        }
        var all = result.ToImageSet();
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
        progress.Report("measured", "", 1);
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
        var json = new JsonObject
        {
            ["experiment"] = Name,
            ["preset"] = preset,
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
            ["sampler"] = settings.SamplerSpec.ToString(),
            ["kde_bandwidth"] = "eps = s_i/N per set and pixel (s_i: sample std of pixel i, N: set size)",
            ["seed"] = settings.Seed,
        };
        if (settings.CompareModel is not null) json["compare_model"] = settings.CompareModel; // absent otherwise: older run folders keep their identity
        return json;
    }

    /// <summary>measurements.csv|json: one row per (n, run).</summary>
    public static ResultTable MeasurementsTable(IEnumerable<GaussianNetworkMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var table = new ResultTable(["n", "n_over_d", "run", "e_tg", "e_og", "delta", "positive_pixel_fraction", "samples", "diverged", "mean_steps",
            "law_e_tg", "law_e_og", "law_delta", "nearest_training_rms", "nearest_fresh_rms", "sample_std"]);
        foreach (var m in measurements)
            table.Add(m.TrainingCount, m.Ratio, m.Run, m.TrainDistance, m.OriginalDistance, m.Delta, m.PositivePixelFraction, m.Samples, m.Diverged, m.MeanSteps,
                m.LawTrainDistance, m.LawOriginalDistance, m.LawDelta, m.NearestTrainingDistance, m.NearestOriginalDistance, m.SampleStd);
        return table;
    }

    /// <summary>summary.csv|json: one row per n (means and standard deviations over runs).</summary>
    public static ResultTable SummaryTable(IEnumerable<GaussianNetworkSummary> summaries)
    {
        ArgumentNullException.ThrowIfNull(summaries);
        var table = new ResultTable(["n", "n_over_d", "runs", "p_delta_positive", "law_p_delta_positive", "e_tg_mean", "e_tg_std", "e_og_mean", "e_og_std",
            "delta_mean", "delta_std", "law_delta_mean", "law_delta_std", "positive_pixel_fraction", "nearest_ratio", "diverged", "sample_std"]);
        foreach (var s in summaries)
            table.Add(s.TrainingCount, s.Ratio, s.Runs, s.ProbabilityDeltaPositive, s.LawProbabilityDeltaPositive, s.TrainDistance.Mean, s.TrainDistance.Std,
                s.OriginalDistance.Mean, s.OriginalDistance.Std, s.Delta.Mean, s.Delta.Std, s.LawDelta.Mean, s.LawDelta.Std, s.PositivePixelFraction,
                s.NearestRatio, s.Diverged, s.SampleStd);
        return table;
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
}
