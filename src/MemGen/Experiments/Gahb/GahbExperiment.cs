using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MemGen.Analysis;
using MemGen.Analysis.AdaptiveBasis;
using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Experiments.Kit;
using MemGen.Experiments.Transition;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Reporting;
using MemGen.Results;
using MemGen.Sampling;
using MemGen.Training;

namespace MemGen.Experiments.Gahb;

/// <summary>The adaptive-basis measurements of one network over every σ (one line of the figures).</summary>
/// <param name="Name">File-name stem: <c>n-N</c>, or <c>shuffled-n-N</c> for the shuffled-pixel control.</param>
/// <param name="Label">Legend label: <c>N=1000</c> or <c>N=1000 shuffled</c>.</param>
/// <param name="N">Training-set size.</param>
/// <param name="Shuffled">Trained on pixel-shuffled images (its eigenvectors are stored and shown unshuffled).</param>
/// <param name="Summaries">One summary per σ (medians of λ_k etc. over images and draws).</param>
/// <param name="Psnr">Output PSNR at each σ on <see cref="GahbSettings.PsnrImages"/> held-out images (mean).</param>
/// <param name="PsnrStandardError">Its standard error.</param>
public sealed record GahbNetworkResult(string Name, string Label, int N, bool Shuffled, IReadOnlyList<JacobianStudySummary> Summaries,
    double[] Psnr, double[] PsnrStandardError);

/// <summary>The S1 and S2 networks' trajectories of one N compared step by step.</summary>
/// <param name="N">Training-set size.</param>
/// <param name="Comparisons">One comparison per seed.</param>
public sealed record GahbTrajectories(int N, IReadOnlyList<TrajectoryComparison> Comparisons);

/// <summary>What <see cref="GahbExperiment.Run"/> produced.</summary>
/// <param name="Networks">The networks measured (sizes in order, then the shuffled control).</param>
/// <param name="Trajectories">Per N, the S1–S2 trajectory comparison (empty when SaveEvery is 0).</param>
/// <param name="Elapsed">Wall time of this session.</param>
/// <param name="ReportPath">Path of report.html.</param>
/// <param name="ReportProblems">Warnings of the report writer.</param>
public sealed record GahbResult(IReadOnlyList<GahbNetworkResult> Networks, IReadOnlyList<GahbTrajectories> Trajectories, TimeSpan Elapsed,
    string ReportPath, IReadOnlyList<string> ReportProblems);

/// <summary>
/// <c>memgen experiment gahb</c>: the adaptive basis of trained denoisers (docs/science.md §5.6, [K24] §3, figures 5–8, 21).
/// For each network (S1 of each N, from a finished transition run or trained here with its recipe), each of K held-out
/// images x, each σ and each noise draw: the exact Jacobian J at y = x + σz, the eigenvalues λ_k and eigenvectors e_k of
/// (J + Jᵀ)/2, tr J and Σλ², the clean image's coefficients and the oracle shrinkage c_k²/(c_k² + σ²) of that basis, the
/// compaction curve, the bias-free check f(y) = J·y, the asymmetry of J and SURE against the true error
/// (<see cref="JacobianStudy"/>). Plus: the shuffled-pixel control (the largest N trained under one fixed pixel
/// permutation), and the S1 and S2 networks' sampling trajectories from the same seeds. Run directory:
/// <code>
/// experiment.json, run.json       settings (a re-run with other settings is refused), sessions
/// n-N/s1, n-N/s2, n-N/split.json  networks trained here (as the transition experiment's; absent with --from)
/// shuffled/s1, shuffled/split.json  the shuffled-pixel control network
/// jacobians/NAME/measurements.csv|json   one row per (σ, image, draw): tr J, Σλ², asymmetry, homogeneity, SURE, error
/// jacobians/NAME/eigenvalues.npy  float64 [σ, image, draw, d], descending
/// jacobians/NAME/eigenvectors.npy float32 [σ, image, kept, d] of draw 0 (pixel order; the control's unshuffled)
/// jacobians/NAME/kept.json        the 1-based indices k of the kept eigenvectors
/// summary.csv|json                one row per (network, σ); profiles.csv|json one row per (network, σ, k)
/// psnr.csv|json                   denoising PSNR per (network, σ); trajectories.csv|json cosine per (N, seed, step)
/// grids/eigenvectors-sigma-S.png  one row per network: x, y, f(y), e_1…e_M, e_k at k = 2^j
/// report.html (+ report.json, figures/)
/// </code>
/// Training resumes from its checkpoints; the Jacobians (seconds at 16×16) are recomputed on a re-run, bit for bit.
/// </summary>
public static class GahbExperiment
{
    /// <summary>The experiment's name in experiment.json.</summary>
    public const string Name = "gahb";

    /// <summary>Names of the presets.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["quick", "paper"];

    /// <summary>
    /// The preset's settings.
    /// <para><c>quick</c> — minutes on 2 CPU cores: Fashion-MNIST resized to 16×16 and de-duplicated (d = 256, as the
    /// transition quick preset), N ∈ {1, 10, 1000} (two memorizers and a generalizer), the transition quick preset's
    /// bias-free UNet (blocks 2, width 32) with 40,000 training images per network, six σ from 0.02 to 0.6, K = 2 images ×
    /// 2 noise draws, the shuffled-pixel control at N = 1000, and 4 trajectories per N kept at every step. Give
    /// <c>--from</c> a finished transition run to analyze its networks instead of training.</para>
    /// <para><c>paper</c> — [K24]'s scale: 80×80 grayscale faces (give a folder with <c>--data</c>), N up to 100,000, UNet
    /// blocks 3 width 64 with the transition paper preset's recipe, K = 10 images. Each Jacobian is 6400 linearized passes
    /// and a 6400×6400 eigendecomposition (seconds on a GPU, about a minute of LAPACK on 2 cores), but training the
    /// networks is years of CPU time: run it <c>--from</c> a transition run made on a GPU backend.</para>
    /// </summary>
    public static GahbSettings Preset(string name) => name switch
    {
        "quick" => new GahbSettings(),
        "paper" => Paper(TransitionExperiment.Preset("paper")),
        _ => throw new InvalidSettingException("preset", $"unknown preset '{name}' (expected {string.Join(" or ", PresetNames)})"),
    };

    // The paper preset analyses the networks of the transition study's paper preset: its data, sizes and training recipe.
    private static GahbSettings Paper(TransitionSettings transition) => new()
    {
        Data = transition.Data,
        Sizes = transition.Sizes,
        Model = transition.Model,
        Budget = transition.Budget,
        BatchSize = transition.BatchSize,
        LearningRateHalvings = transition.LearningRateHalvings,
        Images = 10,
        Draws = 4,
        PsnrImages = 300,
        Sampler = transition.Sampler,
        SaveEvery = 10,
        Trajectories = 8,
    };

    /// <summary>The 1-based k [K24] quotes eigenvalues at (σ = 0.15 on 80×80 faces: λ5 = 1.244, λ53 = 0.973, λ101 = 0.822, λ245 = 0.51).</summary>
    public static IReadOnlyList<int> QuotedRanks { get; } = [5, 53, 101, 245];

    /// <summary>
    /// Runs (or resumes) the study in <paramref name="runDirectory"/>. Bad input (invalid settings, a --from directory that
    /// is not a finished transition run, data too small for the sizes, a run directory holding something else) raises an
    /// <see cref="InvalidSettingException"/> before anything is written. Networks run on <paramref name="backend"/> (a CPU
    /// backend of its own when null).
    /// </summary>
    public static GahbResult Run(GahbSettings settings, string runDirectory, string preset, IProgress<ExperimentProgress>? progress = null,
        CancellationToken cancellation = default, ReportWriteOptions? reportOptions = null, ComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        var (training, source) = settings.From is null ? (settings.Training(settings.Sizes!), null) : ReadTransitionRun(settings);
        var identity = settings.ToJson(preset, source);
        RunDirectory.CheckCompatible(runDirectory, identity);
        int units = training.Sizes.Length + (settings.ShuffleSeed is null ? 0 : 1);
        var reporter = new ExperimentProgressReporter(progress, units);
        reporter.Setup("load data", training.Data);
        var pool = TransitionExperiment.LoadPool(training);
        var testSet = TransitionExperiment.LoadTestSet(training, pool);
        var shape = new ImageShape(pool.Channels, pool.Height, pool.Width);
        if (settings.From is not null) CheckNetworks(settings, training);
        // Held out from every N: S1 and S2 of a smaller N are the first and last images of the largest N's.
        int largest = training.Sizes[^1];
        var heldOut = Split(pool, testSet, largest, training.EvalImages).Test;
        var images = ImageTransforms.Take(heldOut, settings.Images);
        var psnrImages = ImageTransforms.Take(heldOut, settings.PsnrImages);

        using var run = RunDirectory.Open(runDirectory, identity);
        var record = RunRecord.Begin(run);
        var networks = new List<GahbNetworkResult>();
        var trajectories = new List<GahbTrajectories>();
        var eigenvectors = new List<(string Label, JacobianMeasurementImages Images)>();
        using var ownBackend = backend is null ? new CpuBackend() : null;
        var engine = backend ?? ownBackend!;
        for (int i = 0; i < training.Sizes.Length; i++)
        {
            cancellation.ThrowIfCancellationRequested();
            int n = training.Sizes[i];
            var unit = reporter.Unit(i, $"N={n}");
            var split = Split(pool, testSet, n, training.EvalImages);
            bool both = settings.SaveEvery > 0;
            using var s1 = Network(settings, training, pool, testSet, n, "s1", run, engine, unit, 0, both ? 0.35 : 0.7, cancellation);
            var (result, grid) = Measure(settings, run, $"n-{N(n)}", $"N={N(n)}", n, false, new NetworkDenoiser(s1, name: $"n-{N(n)}-s1"),
                images, psnrImages, null, unit, both ? 0.7 : 0.7, both ? 0.85 : 1, cancellation);
            networks.Add(result);
            eigenvectors.Add((result.Label, grid));
            if (!both) continue;
            using var s2 = Network(settings, training, pool, testSet, n, "s2", run, engine, unit, 0.35, 0.7, cancellation);
            unit.Report("trajectories", "", 0.85);
            trajectories.Add(new GahbTrajectories(n, Trajectories(settings, new NetworkDenoiser(s1, name: "s1"), new NetworkDenoiser(s2, name: "s2"), split, shape,
                unit.Count("sample S1, S2", 2 * settings.Trajectories, 0.85, 1))));
            unit.Report("done", "", 1);
        }
        if (settings.ShuffleSeed is long shuffleSeed)
        {
            var unit = reporter.Unit(training.Sizes.Length, "shuffled");
            var permutation = new PixelShuffleTransform(shuffleSeed);
            var shuffledTraining = training with { Data = $"{training.Data}|{permutation.Description}", TestData = null };
            var shuffledPool = ImageTransforms.Apply(pool, permutation);
            var shuffledTest = testSet is null ? null : ImageTransforms.Apply(testSet, permutation);
            var dir = run.Folder("shuffled");
            var split = TransitionExperiment.Split(shuffledTraining, shuffledPool, shuffledTest, largest, dir);
            using var network = TrainOrThrow(shuffledTraining, split, largest, dir, engine, unit.Training("train shuffled", 0, 0.7), cancellation);
            var (result, grid) = Measure(settings, run, $"shuffled-n-{N(largest)}", $"N={N(largest)} shuffled", largest, true,
                new NetworkDenoiser(network, name: "shuffled"), ImageTransforms.Apply(images, permutation), ImageTransforms.Apply(psnrImages, permutation),
                permutation, unit, 0.7, 1, cancellation);
            networks.Add(result);
            eigenvectors.Add((result.Label, grid));
        }

        reporter.Closing("report");
        var gridFiles = WriteGrids(run, settings, shape, eigenvectors);
        SummaryTable(networks).Write(run.File("summary"), new JsonObject { ["config"] = identity.DeepClone() });
        ProfileTable(networks).Write(run.File("profiles"));
        PsnrTable(settings, networks).Write(run.File("psnr"));
        TrajectoryTable(trajectories).Write(run.File("trajectories"));
        var output = GahbReport.Build(settings, training, identity, networks, trajectories, gridFiles, record).Write(run.Path, reportOptions);
        record.Finish();
        reporter.Closing("done", "", finished: true);
        return new GahbResult(networks, trajectories, record.Elapsed, output.HtmlPath, output.Problems);
    }

    /// <summary>The transition settings recorded in the --from run's experiment.json, restricted to the requested sizes.</summary>
    private static (TransitionSettings Training, JsonObject Source) ReadTransitionRun(GahbSettings settings)
    {
        TransitionSettings training;
        JsonObject json;
        try
        {
            (training, json) = TransitionExperiment.ReadRecord(settings.From!);
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException("from", e.Message, e);
        }
        var sizes = settings.Sizes ?? training.Sizes;
        foreach (int n in sizes)
            if (!training.Sizes.Contains(n))
                throw new InvalidSettingException("sizes", $"N = {n} is not a size of the --from run (it has {string.Join(", ", training.Sizes)})");
        training = training with { Sizes = sizes, EvalImages = Math.Max(training.EvalImages, Math.Max(settings.Images, settings.PsnrImages)) };
        var source = (JsonObject)json.DeepClone();
        source.Remove("preset");
        return (training, source);
    }

    private static string CheckpointOf(string pointDirectory, string subset) =>
        Path.Combine(pointDirectory, subset, TrainingRun.CheckpointFolder, TrainingRun.FinalCheckpointFile);

    /// <summary>Every network the study needs from the --from run is there (checked before anything is written).</summary>
    private static void CheckNetworks(GahbSettings settings, TransitionSettings training)
    {
        foreach (int n in training.Sizes)
            foreach (var subset in settings.SaveEvery > 0 ? new[] { "s1", "s2" } : ["s1"])
            {
                var path = CheckpointOf(TransitionExperiment.PointDirectory(settings.From!, n), subset);
                if (!File.Exists(path)) throw new InvalidSettingException("from", $"the network of N = {n}, {subset} is not finished ({path} is missing)");
            }
    }

    private static DisjointSplit Split(ImageSet pool, ImageSet? testSet, int n, int testCount) =>
        testSet is null ? DisjointSplit.Create(pool, n, testCount) : DisjointSplit.Create(pool, n, testSet, testCount);

    /// <summary>The network of subset <paramref name="subset"/> of size N: loaded from the --from run, or trained (resumed) here.</summary>
    private static DenoisingNetwork Network(GahbSettings settings, TransitionSettings training, ImageSet pool, ImageSet? testSet, int n, string subset,
        RunDirectory run, ComputeBackend engine, ExperimentProgressReporter.UnitProgress unit, double from, double to, CancellationToken cancellation)
    {
        if (settings.From is not null)
        {
            unit.Report($"load {subset.ToUpperInvariant()}", "", from);
            return Checkpoint.Load(CheckpointOf(TransitionExperiment.PointDirectory(settings.From, n), subset), engine);
        }
        var pointDir = TransitionExperiment.PointDirectory(run.Path, n);
        var split = TransitionExperiment.Split(training, pool, testSet, n, pointDir);
        return TrainOrThrow(training, split, n, pointDir, engine, unit.Training($"train {subset.ToUpperInvariant()}", from, to), cancellation, subset);
    }

    private static DenoisingNetwork TrainOrThrow(TransitionSettings training, DisjointSplit split, int n, string pointDir, ComputeBackend engine,
        IProgress<TrainingProgress> progress, CancellationToken cancellation, string subset = "s1") =>
        TransitionExperiment.Train(training, split, n, subset, pointDir, engine, progress, cancellation).Network;

    /// <summary>
    /// Every Jacobian of one network: σ × image × draw, the files of jacobians/NAME/, the per-σ summaries and the denoising
    /// PSNR. <paramref name="unshuffle"/> (the control) maps its eigenvectors back to the original pixel order.
    /// </summary>
    private static (GahbNetworkResult Result, JacobianMeasurementImages Grid) Measure(GahbSettings settings, RunDirectory run, string name, string label,
        int n, bool shuffled, NetworkDenoiser denoiser, ImageSet images, ImageSet psnrImages, PixelShuffleTransform? unshuffle,
        ExperimentProgressReporter.UnitProgress unit, double from, double to, CancellationToken cancellation)
    {
        var shape = new ImageShape(images.Channels, images.Height, images.Width);
        int d = shape.Size, sigmas = settings.Sigmas.Length, k = settings.Images, draws = settings.Draws;
        var options = new JacobianStudyOptions { Top = settings.Top };
        var kept = options.KeptEigenvectors(d);
        var eigenvalues = new double[(long)sigmas * k * draws * d];
        var vectors = new float[(long)sigmas * k * kept.Length * d];
        var grid = new JacobianMeasurementImages(kept, new float[sigmas][], new float[sigmas][], new float[sigmas][], new float[sigmas][]);
        var table = new ResultTable(["sigma", "image", "draw", "trace", "sum_squared_eigenvalues", "eigenvalues_above_half", "lambda_1", "asymmetry",
            "homogeneity_error", "sure", "squared_error", "oracle_squared_error"]);
        var summaries = new List<JacobianStudySummary>();
        int total = sigmas * k * draws, done = 0;
        var restored = new double[d];
        for (int s = 0; s < sigmas; s++)
        {
            var measurements = new List<JacobianMeasurement>();
            for (int i = 0; i < k; i++)
                for (int r = 0; r < draws; r++)
                {
                    cancellation.ThrowIfCancellationRequested();
                    unit.Report($"Jacobians {label}", I($"{done}/{total}"), from + (to - from) * 0.8 * done++ / total);
                    var m = JacobianStudy.Measure(denoiser, images.Image(i), shape, settings.Sigmas[s], settings.Seed, i, r, options);
                    measurements.Add(m);
                    table.Add(settings.Sigmas[s], i, r, m.Trace, m.SumSquaredEigenvalues, m.EigenvaluesAboveHalf, m.Eigenvalues[0], m.Asymmetry,
                        m.HomogeneityError, m.SteinEstimate, m.SquaredError, m.Shrinkage.OracleSquaredError);
                    m.Eigenvalues.CopyTo(eigenvalues, (((long)s * k + i) * draws + r) * d);
                    if (r != 0) continue;
                    for (int e = 0; e < kept.Length; e++)
                    {
                        var v = m.Eigenvectors.AsSpan(e * d, d);
                        if (unshuffle is not null)
                        {
                            unshuffle.Unshuffle<double>(v, shape, restored);
                            v = restored;
                        }
                        var target = vectors.AsSpan((int)((((long)s * k + i) * kept.Length + e) * d), d);
                        for (int p = 0; p < d; p++) target[p] = (float)v[p];
                    }
                    if (i == 0)
                    {
                        grid.Clean[s] = Unshuffled(images.Image(0).ToArray(), shape, unshuffle);
                        grid.Noisy[s] = Unshuffled(m.Noisy, shape, unshuffle);
                        grid.Denoised[s] = Unshuffled(m.Denoised, shape, unshuffle);
                        grid.Eigenvectors[s] = vectors.AsSpan((int)((long)s * k * kept.Length * d), kept.Length * d).ToArray();
                    }
                }
            summaries.Add(JacobianStudySummary.Of(measurements));
        }
        unit.Report($"PSNR {label}", "", from + (to - from) * 0.8);
        var (psnr, psnrError, _) = DenoisingPsnr.Measure(denoiser, psnrImages, settings.Sigmas, settings.PsnrImages, settings.Seed, 64);
        var dir = $"jacobians/{name}";
        table.Write(run.File(dir, "measurements"), new JsonObject { ["network"] = label, ["n"] = n, ["shuffled"] = shuffled });
        NpyWriter.Write(run.File(dir, "eigenvalues.npy"), eigenvalues, [sigmas, k, draws, d]);
        NpyWriter.Write(run.File(dir, "eigenvectors.npy"), vectors, [sigmas, k, kept.Length, d]);
        run.WriteJson($"{dir}/kept.json", new JsonObject
        {
            ["k"] = new JsonArray(kept.Select(x => (JsonNode)(x + 1)).ToArray()),
            ["sigmas"] = new JsonArray(settings.Sigmas.Select(x => (JsonNode)x).ToArray()),
            ["pixel_order"] = unshuffle is null ? "original" : $"original (unshuffled from {unshuffle.Description})",
        });
        unit.Report($"PSNR {label}", "", to);
        return (new GahbNetworkResult(name, label, n, shuffled, summaries, psnr, psnrError), grid);
    }

    private static float[] Unshuffled(float[] image, ImageShape shape, PixelShuffleTransform? permutation)
    {
        if (permutation is null) return image;
        var result = new float[image.Length];
        permutation.Unshuffle<float>(image, shape, result);
        return result;
    }

    /// <summary>The S1 and S2 networks sampled from the same seeds, every SaveEvery-th iterate kept, compared step by step.</summary>
    private static IReadOnlyList<TrajectoryComparison> Trajectories(GahbSettings settings, IDenoiser s1, IDenoiser s2, DisjointSplit split, ImageShape shape,
        IProgress<int> progress)
    {
        var spec = settings.SamplerSpec.SavingEvery(settings.SaveEvery);
        var both = new ImageSet([.. split.S1.Pixels.AsSpan(0, split.S1.Count * split.S1.ImageSize), .. split.S2.Pixels.AsSpan(0, split.S2.Count * split.S2.ImageSize)], split.S1.Count + split.S2.Count, shape.Channels, shape.Height, shape.Width, split.S1.Provenance);
        var sampler = spec.Create(SamplingStart.MeanOf(both, "mean image of S1 ∪ S2"), settings.Trajectories);
        var first = sampler.Sample(s1, settings.Trajectories, shape.Channels, shape.Height, shape.Width, settings.Seed);
        progress.Report(settings.Trajectories);
        var second = sampler.Sample(s2, settings.Trajectories, shape.Channels, shape.Height, shape.Width, settings.Seed);
        progress.Report(2 * settings.Trajectories);
        return TrajectorySimilarity.CompareAll(first.Trajectories!, second.Trajectories!);
    }

    /// <summary>One grid per σ: a row per network with x, y, f(y) and the kept eigenvectors of image 0, draw 0.</summary>
    private static IReadOnlyList<(double Sigma, string Path)> WriteGrids(RunDirectory run, GahbSettings settings, ImageShape shape,
        IReadOnlyList<(string Label, JacobianMeasurementImages Images)> rows)
    {
        var files = new List<(double, string)>();
        if (rows.Count == 0) return files;
        var kept = rows[0].Images.Kept;
        int d = shape.Size;
        int zoom = Math.Clamp((int)Math.Ceiling(48.0 / Math.Max(shape.Height, shape.Width)), 1, 8);
        for (int s = 0; s < settings.Sigmas.Length; s++)
        {
            var tiles = new List<ReadOnlyMemory<float>>();
            foreach (var (_, m) in rows)
            {
                tiles.Add(m.Clean[s]);
                tiles.Add(m.Noisy[s]);
                tiles.Add(m.Denoised[s]);
                for (int e = 0; e < kept.Length; e++) tiles.Add(Displayed(m.Eigenvectors[s].AsSpan(e * d, d)));
            }
            var grid = ImageGrid.Compose(tiles, shape, 3 + kept.Length, rowLabels: [.. rows.Select(r => r.Label.ToUpperInvariant())], padding: 2, zoom: zoom,
                columnLabels: ["X", "Y", "F(Y)", .. kept.Select(k => I($"{k + 1}"))], title: I($"EIGENVECTORS OF (J+JT)/2, SIGMA = {settings.Sigmas[s]}"));
            var path = run.File("grids", I($"eigenvectors-sigma-{settings.Sigmas[s]}.png"));
            PngWriter.WriteImage(path, grid.Pixels, grid.Channels, grid.Height, grid.Width);
            files.Add((settings.Sigmas[s], path));
        }
        return files;
    }

    /// <summary>An eigenvector mapped to [0, 1] for display: 0 is mid grey, the largest |value| black or white.</summary>
    private static float[] Displayed(ReadOnlySpan<float> vector)
    {
        float max = 0;
        foreach (var v in vector) max = Math.Max(max, Math.Abs(v));
        var result = new float[vector.Length];
        for (int i = 0; i < result.Length; i++) result[i] = max > 0 ? 0.5f + 0.5f * vector[i] / max : 0.5f;
        return result;
    }

    /// <summary>summary.csv|json: one row per (network, σ).</summary>
    public static ResultTable SummaryTable(IReadOnlyList<GahbNetworkResult> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        var table = new ResultTable([
            "network", "n", "shuffled", "sigma", "count", "trace", "trace_se", "sum_squared_eigenvalues", "eigenvalues_above_half", "lambda_1",
            .. QuotedRanks.Select(r => I($"lambda_{r}")), "asymmetry", "max_homogeneity_error", "sure", "sure_se", "squared_error", "squared_error_se",
            "sure_minus_true", "sure_minus_true_se", "oracle_squared_error", "compaction_top16", "jacobian_psnr", "psnr", "psnr_se"]);
        foreach (var g in networks)
            for (int s = 0; s < g.Summaries.Count; s++)
            {
                var m = g.Summaries[s];
                table.Add([
                    g.Label, g.N, g.Shuffled, m.Sigma, m.Count, m.Trace.Mean, m.Trace.StandardError, m.SumSquaredEigenvalues.Mean, m.EigenvaluesAboveHalf.Mean,
                    m.MedianEigenvalues[0], .. QuotedRanks.Select(r => (object?)(r <= m.Dimension ? m.MedianEigenvalues[r - 1] : double.NaN)),
                    m.MeanAsymmetry, m.MaxHomogeneityError, m.SteinEstimate.Mean, m.SteinEstimate.StandardError, m.SquaredError.Mean, m.SquaredError.StandardError,
                    m.SteinMinusTrue.Mean, m.SteinMinusTrue.StandardError, m.OracleSquaredError.Mean, m.MeanCompaction[Math.Min(16, m.Dimension) - 1],
                    m.Psnr, g.Psnr[s], g.PsnrStandardError[s]]);
            }
        return table;
    }

    /// <summary>profiles.csv|json: one row per (network, σ, k): median λ_k, oracle shrinkage, |c_k| and the mean compaction.</summary>
    public static ResultTable ProfileTable(IReadOnlyList<GahbNetworkResult> networks)
    {
        ArgumentNullException.ThrowIfNull(networks);
        var table = new ResultTable(["network", "n", "shuffled", "sigma", "k", "eigenvalue", "oracle_shrinkage", "abs_coefficient", "compaction"]);
        foreach (var g in networks)
            foreach (var m in g.Summaries)
                for (int k = 0; k < m.Dimension; k++)
                    table.Add(g.Label, g.N, g.Shuffled, m.Sigma, k + 1, m.MedianEigenvalues[k], m.MedianOracleShrinkage[k], m.MedianAbsCoefficients[k], m.MeanCompaction[k]);
        return table;
    }

    private static ResultTable PsnrTable(GahbSettings settings, IReadOnlyList<GahbNetworkResult> networks)
    {
        var table = new ResultTable(["network", "n", "shuffled", "sigma", "input_psnr", "psnr", "psnr_se", "images"]);
        foreach (var g in networks)
            for (int s = 0; s < settings.Sigmas.Length; s++)
                table.Add(g.Label, g.N, g.Shuffled, settings.Sigmas[s], ImageStatistics.InputPsnr(settings.Sigmas[s]), g.Psnr[s], g.PsnrStandardError[s], settings.PsnrImages);
        return table;
    }

    private static ResultTable TrajectoryTable(IReadOnlyList<GahbTrajectories> trajectories)
    {
        var table = new ResultTable(["n", "seed", "step", "cosine", "both_running"]);
        foreach (var t in trajectories)
            foreach (var c in t.Comparisons)
                for (int i = 0; i < c.Steps.Length; i++) table.Add(t.N, c.Sample, c.Steps[i], c.Cosine[i], c.BothRunning[i]);
        return table;
    }

    private static string I(FormattableString s) => FormattableString.Invariant(s);

    private static string N(int n) => n.ToString(CultureInfo.InvariantCulture);
}

/// <summary>What the eigenvector grid shows of one network: per σ, image 0's x, y, f(y) and kept eigenvectors (row-major), in original pixel order.</summary>
internal sealed record JacobianMeasurementImages(int[] Kept, float[][] Clean, float[][] Noisy, float[][] Denoised, float[][] Eigenvectors);
