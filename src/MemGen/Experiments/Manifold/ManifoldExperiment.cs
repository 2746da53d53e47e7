using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis;
using MemGen.Analysis.AdaptiveBasis;
using MemGen.Analysis.Manifolds;
using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Experiments.Kit;
using MemGen.Images;
using MemGen.Machine;
using MemGen.Nn;
using MemGen.Reporting;
using MemGen.Results;
using MemGen.Training;

namespace MemGen.Experiments.Manifold;

/// <summary>A denoising curve of the manifold experiment (the network's, the oracle's).</summary>
/// <param name="Denoiser">network or oracle.</param>
/// <param name="Images">Images averaged over.</param>
/// <param name="Psnr">Mean output PSNR per σ.</param>
/// <param name="StandardError">Its standard error.</param>
public sealed record ManifoldCurve(string Denoiser, int Images, double[] Psnr, double[] StandardError);

/// <summary>The network's Jacobian at one noisy point of the manifold.</summary>
/// <param name="Point">Index of the clean manifold image.</param>
/// <param name="Sigma">σ of the noise.</param>
/// <param name="TopEigenvalues">The largest eigenvalues of the Jacobian's symmetric part, descending.</param>
/// <param name="Cosines">Cosines of the principal angles between the top-k eigenvectors' span and the tangent space, descending.</param>
/// <param name="AboveHalf">The number of eigenvalues &gt; ½.</param>
/// <param name="Trace">tr J.</param>
public sealed record ManifoldJacobianPoint(int Point, double Sigma, double[] TopEigenvalues, double[] Cosines, int AboveHalf, double Trace)
{
    /// <summary>The mean principal-angle cosine (NaN when the tangent space is degenerate).</summary>
    public double MeanCosine => Cosines.Length > 0 ? Cosines.Average() : double.NaN;
}

/// <summary>What <see cref="ManifoldExperiment.Run"/> produced.</summary>
/// <param name="Settings">The settings run.</param>
/// <param name="Sigmas">The curves' σ.</param>
/// <param name="Network">The network's curve on the fresh images.</param>
/// <param name="Oracle">The oracle's curve on the first <see cref="ManifoldSettings.OracleImages"/> of them.</param>
/// <param name="NetworkOnOracleImages">The network's curve on those same images (for a like-for-like comparison).</param>
/// <param name="Jacobians">One per (point, σ), σ of <see cref="ManifoldSettings.CountSigmas"/> and <see cref="ManifoldSettings.JacobianSigma"/>.</param>
/// <param name="Elapsed">Wall time of this session.</param>
/// <param name="ReportPath">report.html.</param>
/// <param name="ReportProblems">Warnings of the report writer.</param>
public sealed record ManifoldResult(ManifoldSettings Settings, double[] Sigmas, ManifoldCurve Network, ManifoldCurve Oracle, ManifoldCurve NetworkOnOracleImages,
    IReadOnlyList<ManifoldJacobianPoint> Jacobians, TimeSpan Elapsed, string ReportPath, IReadOnlyList<string> ReportProblems)
{
    /// <summary>The measurements at <see cref="ManifoldSettings.JacobianSigma"/>.</summary>
    public IReadOnlyList<ManifoldJacobianPoint> AtJacobianSigma => [.. Jacobians.Where(j => j.Sigma == Settings.JacobianSigma)];

    /// <summary>The mean over points of the i-th eigenvalue at <see cref="ManifoldSettings.JacobianSigma"/>.</summary>
    public double[] MeanTopEigenvalues
    {
        get
        {
            var at = AtJacobianSigma;
            int n = at.Min(j => j.TopEigenvalues.Length);
            return [.. Enumerable.Range(0, n).Select(i => at.Average(j => j.TopEigenvalues[i]))];
        }
    }

    /// <summary>The mean principal-angle cosine over points at <see cref="ManifoldSettings.JacobianSigma"/>.</summary>
    public double MeanCosine => AtJacobianSigma.Where(j => j.Cosines.Length > 0).Select(j => j.MeanCosine).DefaultIfEmpty(double.NaN).Average();
}

/// <summary>
/// <c>memgen experiment manifold</c>: is a trained denoiser optimal on a known low-dimensional manifold? ([K24] §3.2,
/// docs/science.md §4.) A blind bias-free network is trained on images of the manifold (a <see cref="TrainingRun"/> in
/// models/, resumable); on fresh images its PSNR curve is compared with the oracle's (<see cref="ManifoldSample.Oracle"/>:
/// ray and sinusoids exact projections, disks the nearest disk by optimisation over the 5 parameters — not the empirical
/// optimal denoiser of a sample) and with PSNR_in + 10·log10(d/k). At noisy points of the manifold the Jacobian's top
/// eigenvalues, the principal angles between its top-k eigenvectors and the tangent space, and the number of eigenvalues
/// &gt; ½ against σ are measured. Writes experiment.json, curves.csv|json, jacobian.csv|json, eigenvalues.csv|json,
/// grids/eigenvectors.png and report.html.
/// </summary>
public static class ManifoldExperiment
{
    /// <summary>The experiment's name in experiment.json.</summary>
    public const string Name = "manifold";

    /// <summary>Eigenvalues kept per Jacobian (and eigenvectors in the grid).</summary>
    public const int TopEigenvalues = 16;

    /// <summary>Names of the presets.</summary>
    public static IReadOnlyList<string> PresetNames { get; } = ["quick", "paper"];

    /// <summary>
    /// <c>quick</c>: 16×16 images, a UNet (2 blocks, width 16) trained on 8192 manifold images for a budget of 32,768
    /// images (Adam, 2e-3), curves at 12 σ on 128 fresh images (the oracle on 32), Jacobians at 6 points (a few minutes on 2 cores).
    /// <c>paper</c>: [K24]'s scale, 80×80, UNet blocks=3 width=64, 10⁵ images, 10⁸ seen, 300 test images (GPU scale).
    /// </summary>
    public static ManifoldSettings Preset(string name, string kind = "disks") => name switch
    {
        "quick" => new ManifoldSettings { Kind = kind },
        "paper" => new ManifoldSettings
        {
            Kind = kind,
            Size = 80,
            Model = "unet:blocks=3,width=64",
            TrainingCount = 100_000,
            TrainingBudget = 100_000_000,
            BatchSize = 512,
            LearningRate = 1e-3,
            TestImages = 300,
            OracleImages = 100,
            Sigmas = DenoisingCurveOptions.GeometricSigmas(0.005, 0.5, 20),
            JacobianPoints = 10,
        },
        _ => throw new InvalidSettingException("preset", $"unknown preset '{name}' (expected {string.Join(" or ", PresetNames)})"),
    };

    /// <summary>
    /// Trains (or reloads) the network, measures the curves and the Jacobians, and writes the results and the report into
    /// <paramref name="runDirectory"/>. Invalid settings, too little memory or a run directory holding another experiment
    /// raise before anything is written. The network trains on <paramref name="backend"/> (an own CPU backend when null).
    /// </summary>
    public static ManifoldResult Run(ManifoldSettings settings, string runDirectory, string preset, IProgress<ExperimentProgress>? progress = null,
        CancellationToken cancellation = default, ReportWriteOptions? reportOptions = null, ComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        RequireMemory(settings);
        var identity = settings.ToJson(preset);
        using var run = RunDirectory.Open(runDirectory, identity);
        var record = RunRecord.Begin(run);
        var reporter = new ExperimentProgressReporter(progress, 1);
        var unit = reporter.Unit(0, settings.Kind);
        using var ownBackend = backend is null ? new CpuBackend() : null;
        var engine = backend ?? ownBackend!;

        unit.Report("data", "", 0);
        var trainSpec = settings.DataSpec(1);
        var training = DatasetLoader.Load(trainSpec);
        var manifold = ManifoldSample.FromSpec(DatasetSpec.Parse(settings.DataSpec(2)));
        var config = new TrainingConfig(NetworkSpec.Parse(settings.Model), new TrainingDataSource(trainSpec, settings.TrainingCount),
            unchecked(settings.Seed * 31 + 5), UnitTraining.Options(settings.TrainingBudget, settings.BatchSize, settings.LearningRate));
        using var network = UnitTraining.TrainOrResume(run, settings.Kind, config, training, manifold.Images, engine,
            unit.Training("train", 0, 0.6), cancellation).Network;
        var denoiser = new NetworkDenoiser(network, batchSize: 64);

        cancellation.ThrowIfCancellationRequested();
        long noiseSeed = NoiseSeed(settings);
        var sigmas = settings.Sigmas;
        var networkCurve = Curve("network", denoiser, manifold.Images, sigmas, settings.TestImages, noiseSeed, unit.Count("network curve", sigmas.Length, 0.6, 0.65));
        var oracleImages = manifold.Images.Subset([.. Enumerable.Range(0, settings.OracleImages)], "oracle images");
        var oracleCurve = Curve("oracle", manifold.Oracle, oracleImages, sigmas, settings.OracleImages, noiseSeed, unit.Count("oracle curve", sigmas.Length, 0.65, 0.8));
        var networkOnOracle = Curve("network", denoiser, oracleImages, sigmas, settings.OracleImages, noiseSeed, null);

        var jacobians = new List<ManifoldJacobianPoint>();
        var shape = new ImageShape(1, settings.Size, settings.Size);
        var jacobianSigmas = settings.CountSigmas.Append(settings.JacobianSigma).Distinct().Order().ToArray();
        var options = new JacobianStudyOptions { Top = Math.Max(TopEigenvalues, settings.ManifoldDimension), PowersOfTwo = false };
        var grid = run.File("grids", "eigenvectors.png");
        int total = settings.JacobianPoints * jacobianSigmas.Length, done = 0;
        for (int p = 0; p < settings.JacobianPoints; p++)
            foreach (var sigma in jacobianSigmas)
            {
                cancellation.ThrowIfCancellationRequested();
                unit.Report("jacobians", $"{done}/{total}", 0.8 + 0.18 * done / total);
                var clean = manifold.Images.Image(p);
                var m = JacobianStudy.Measure(denoiser, clean, shape, sigma, noiseSeed, p, 0, options);
                jacobians.Add(new ManifoldJacobianPoint(p, sigma, [.. m.Eigenvalues.Take(TopEigenvalues)], manifold.TangentCosines(p, m),
                    m.EigenvaluesAboveHalf, m.Trace));
                if (p == 0 && sigma == settings.JacobianSigma)
                {
                    var blank = Enumerable.Repeat(1f, shape.Size).ToArray(); // white: the eigenvectors start on the second row
                    var tangents = manifold.TangentsOf(p);
                    var leading = new List<ReadOnlyMemory<float>> { clean.ToArray(), m.Noisy, m.Denoised };
                    while (leading.Count < 8) leading.Add(blank);
                    for (int t = 0; t < settings.ManifoldDimension; t++) leading.Add(EigenvectorGrid.Scaled(tangents.AsSpan(t * shape.Size, shape.Size)));
                    while (leading.Count % 8 != 0) leading.Add(blank);
                    EigenvectorGrid.Write(grid, shape, m.Eigenvectors, TopEigenvalues, 8, leading);
                }
                done++;
            }

        reporter.Closing("report");
        var result = new ManifoldResult(settings, sigmas, networkCurve, oracleCurve, networkOnOracle, jacobians, record.Elapsed, Path.Combine(run.Path, ReportWriter.HtmlFileName), []);
        var header = new JsonObject { ["config"] = identity.DeepClone() };
        CurveTable(result).Write(Path.Combine(run.Path, "curves"), header);
        JacobianTable(result).Write(Path.Combine(run.Path, "jacobian"), (JsonObject)header.DeepClone());
        var output = ManifoldReport.Build(result, grid, identity, record).Write(run.Path, reportOptions);
        record.Finish();
        reporter.Closing("done", "", finished: true);
        return result with { Elapsed = record.Elapsed, ReportPath = output.HtmlPath, ReportProblems = output.Problems };
    }

    /// <summary>The seed of the curves' and the Jacobians' noise.</summary>
    public static long NoiseSeed(ManifoldSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return unchecked(settings.Seed + 17);
    }

    /// <summary>What the oracle of <paramref name="kind"/> is, in words (for the report).</summary>
    public static string OracleDescription(string kind) => kind switch
    {
        "disks" => "the nearest disk image, by optimisation over the 5 parameters (grid search, then compass search; least squares for the two intensities)",
        "sinusoids" => "the exact nearest point of the manifold (least-squares projection onto the plane of the sinusoid, clipped to the amplitude disk)",
        _ => "the exact orthogonal projection onto the ray through the source image",
    };

    private static ManifoldCurve Curve(string name, IDenoiser denoiser, ImageSet images, double[] sigmas, int count, long seed, IProgress<int>? progress)
    {
        var (psnr, se, n) = DenoisingPsnr.Measure(denoiser, images, sigmas, count, seed, 64, progress is null ? null : progress.Report);
        return new ManifoldCurve(name, n, psnr, se);
    }

    /// <summary>Refuses settings whose training set, fresh images, training activations and one Jacobian exceed the memory budget.</summary>
    private static void RequireMemory(ManifoldSettings s)
    {
        long d = s.Dimension;
        long bytes = MemoryBudget.Sum(
            MemoryBudget.Product((long)s.TrainingCount + s.TestImages, d, sizeof(float)),
            NetworkSpec.Parse(s.Model).ActivationBytes(s.BatchSize, s.Size, s.Size, training: true),
            MemoryBudget.Product(4, d, d, sizeof(double)));
        MemoryBudget.Require(bytes, $"manifold with {s.Size}×{s.Size} images and {s.TrainingCount} training images");
    }

    /// <summary>curves.csv|json: one row per (curve, σ), with the reference line PSNR_in + 10·log10(d/k).</summary>
    public static ResultTable CurveTable(ManifoldResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var s = result.Settings;
        var table = new ResultTable(["curve", "images", "sigma", "input_psnr", "output_psnr", "output_psnr_se"]);
        foreach (var (label, curve) in new[] { ("network", result.Network), ("oracle", result.Oracle), ("network on oracle images", result.NetworkOnOracleImages) })
            for (int i = 0; i < result.Sigmas.Length; i++)
                table.Add(label, curve.Images, result.Sigmas[i], ImageStatistics.InputPsnr(result.Sigmas[i]), curve.Psnr[i], curve.StandardError[i]);
        for (int i = 0; i < result.Sigmas.Length; i++)
        {
            double input = ImageStatistics.InputPsnr(result.Sigmas[i]);
            table.Add("PSNR_in + 10 log10(d/k)", 0, result.Sigmas[i], input, ManifoldOracle.Psnr(input, s.Dimension, s.ManifoldDimension), null);
        }
        return table;
    }

    /// <summary>jacobian.csv|json: one row per (point, σ): eigenvalues &gt; ½, tr J, the cosines and the top eigenvalues.</summary>
    public static ResultTable JacobianTable(ManifoldResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        int k = result.Settings.ManifoldDimension;
        var table = new ResultTable(["point", "sigma", "eigenvalues_above_half", "trace", "mean_cosine",
            .. Enumerable.Range(1, k).Select(i => $"cosine_{i}"), .. Enumerable.Range(1, TopEigenvalues).Select(i => $"lambda_{i}")]);
        foreach (var j in result.Jacobians)
            table.Add([j.Point, j.Sigma, j.AboveHalf, j.Trace, j.MeanCosine,
                .. Enumerable.Range(0, k).Select(i => (object?)(i < j.Cosines.Length ? j.Cosines[i] : null)),
                .. j.TopEigenvalues.Select(v => (object?)v)]);
        return table;
    }
}
