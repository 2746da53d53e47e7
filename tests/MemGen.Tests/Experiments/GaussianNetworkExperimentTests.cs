using System.Globalization;
using MemGen.Analysis;
using MemGen.Cli;
using MemGen.Data;
using MemGen.Experiments.GaussianNetwork;
using MemGen.Images;
using MemGen.Reporting;

namespace MemGen.Tests.Experiments;

public sealed class GaussianNetworkExperimentTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-gaussian-network-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static GaussianNetworkSettings Tiny => new()
    {
        Size = 4,
        Ratios = [0.25, 1],
        Runs = 2,
        Model = "bfcnn:layers=3,width=8",
        TrainingBudget = 256,
        BatchSize = 16,
        SampleCount = 12,
        OriginalCount = 60,
        Sampler = "algorithm1:variant=code,max_steps=400",
    };

    [Fact]
    public void TinyRunWritesConsistentResultsAndResumesToTheSameNumbers()
    {
        var dir = Path.Combine(_folder, "run");
        var options = new ReportWriteOptions { ExportSvg = false };
        var first = GaussianNetworkExperiment.Run(Tiny, dir, "test", reportOptions: options);
        Assert.Equal(4, first.Measurements.Count);
        foreach (var f in new[] { "experiment.json", "run.json", "measurements.csv", "measurements.json", "summary.csv", "summary.json", "report.html", "grids/n00004.png",
                     "samples/n00016-run01.npy", "models/n00004-run00/checkpoints/final.safetensors" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.Equal(5, File.ReadAllLines(Path.Combine(dir, "measurements.csv")).Length);
        Assert.Contains(first.Measurements, m => m.Samples >= 2); // the recomputation below is exercised

        foreach (var m in first.Measurements)
        {
            // Recompute the KDE distances independently from the saved samples and the regenerated data sets.
            var training = DatasetLoader.Load(GaussianNetworkExperiment.DataSpec(Tiny, 1, m.TrainingCount, m.TrainingCount, m.Run));
            var original = DatasetLoader.Load(GaussianNetworkExperiment.DataSpec(Tiny, 2, Tiny.OriginalCount, m.TrainingCount, m.Run));
            var samples = NpyReader.ReadImages(Path.Combine(dir, "samples", $"n{m.TrainingCount:D5}-run{m.Run:D2}.npy"));
            Assert.Equal(Tiny.SampleCount, samples.Count);
            Assert.Equal(Tiny.SampleCount, m.Samples + m.Diverged);
            if (m.Samples >= 2)
            {
                var kde = PixelKernelDensity.Compare(samples.Subset(ConvergedIndices(m, dir), "converged"), training, original);
                Assert.Equal(kde.MeanTrainDistance, m.TrainDistance, 1e-12);
                Assert.Equal(kde.MeanOriginalDistance, m.OriginalDistance, 1e-12);
            }
            Assert.Equal(m.TrainDistance - m.OriginalDistance, m.Delta);
            Assert.True(double.IsFinite(m.LawDelta));
        }
        foreach (var s in first.Summaries)
        {
            var runs = first.Measurements.Where(m => m.TrainingCount == s.TrainingCount).ToList();
            Assert.Equal(runs.Count(m => m.Delta > 0) / (double)runs.Count, s.ProbabilityDeltaPositive);
            Assert.Equal(runs.Average(m => m.Delta), s.Delta.Mean, 1e-12);
        }

        // Running again into the same directory resumes the finished networks and reproduces every number.
        var second = GaussianNetworkExperiment.Run(Tiny, dir, "test", reportOptions: options);
        Assert.Equal(first.Measurements, second.Measurements);
    }

    [Fact]
    public void ANoiseConditionedNetworkRunsBesideABlindOneOnTheSameTrainingSets()
    {
        var dir = Path.Combine(_folder, "compare");
        var settings = Tiny with { Ratios = [1], Model = "unet-cond:blocks=1,width=4,emb=8", CompareModel = "unet:blocks=1,width=4" };
        var result = GaussianNetworkExperiment.Run(settings, dir, "test", reportOptions: new ReportWriteOptions { ExportSvg = false });
        Assert.NotNull(result.Comparison);
        Assert.Equal("unet:blocks=1,width=4", result.Comparison.Model);
        Assert.Equal(2, result.Measurements.Count);
        Assert.Equal(2, result.Comparison.Measurements.Count);
        foreach (var f in new[] { "compare-summary.csv", "compare-measurements.csv", "samples/n00016-run00-compare.npy", "models/n00016-run01-compare/checkpoints/final.safetensors", "grids/n00016-compare.png" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.True(MemGen.Nn.Checkpoint.ReadMetadata(Path.Combine(dir, "models", "n00016-run00", "checkpoints", "final.safetensors")).Spec.IsConditioned);
        for (int i = 0; i < 2; i++)
        {
            var (a, b) = (result.Measurements[i], result.Comparison.Measurements[i]);
            // Same training, original and law sets: the law reference scores identically for both models.
            Assert.Equal((a.TrainingCount, a.Run), (b.TrainingCount, b.Run));
            Assert.Equal(a.LawTrainDistance, b.LawTrainDistance);
            Assert.Equal(a.LawOriginalDistance, b.LawOriginalDistance);
        }
        var s = Assert.Single(result.Comparison.Summaries);
        Assert.Equal(result.Comparison.Measurements.Count(m => m.Delta > 0) / 2.0, s.ProbabilityDeltaPositive);
        var html = File.ReadAllText(Path.Combine(dir, "report.html"));
        Assert.Contains("compare-summary", html, StringComparison.Ordinal);
        Assert.Contains("noise-conditioned", html, StringComparison.Ordinal);
        Assert.Throws<InvalidSettingException>(() => (settings with { CompareModel = "unet-cond:blocks=1,width=4,emb=8" }).Validate());
    }

    /// <summary>Indices of the converged samples, from the unit's trajectories file.</summary>
    private static int[] ConvergedIndices(GaussianNetworkMeasurement m, string dir)
    {
        var lines = File.ReadAllLines(Path.Combine(dir, "samples", $"n{m.TrainingCount:D5}-run{m.Run:D2}.trajectories.csv"));
        return [.. lines.Skip(1).Select(l => l.Split(',')).Where(f => f[4] == "0").Select(f => int.Parse(f[0], CultureInfo.InvariantCulture))];
    }

    [Fact]
    public void MeanPixelStdIsThePerPixelSampleStdAveraged()
    {
        var two = new ImageSet([0f, 1f, 2f, 5f], 2, 1, 1, 2, new Provenance("hand", []));
        Assert.Equal((Math.Sqrt(2) + Math.Sqrt(8)) / 2, GaussianNetworkExperiment.MeanPixelStd(two), 1e-12);
        var law = DatasetLoader.Load("gaussian:size=3,mean=0.5,std=0.1,n=4000,seed=9");
        Assert.Equal(0.1, GaussianNetworkExperiment.MeanPixelStd(law), 0.004);
    }

    [Fact]
    public void SeedsOfRolesRunsAndSizesNeverCollide()
    {
        var seeds = new HashSet<long>();
        foreach (int role in new[] { 1, 2, 3, 4, 5, 6, 7 })
            foreach (int n in new[] { 2, 4, 16, 64, 4096 })
                for (int run = 0; run < 50; run++)
                    Assert.True(seeds.Add(GaussianNetworkExperiment.SeedOf(0, role, n, run)));
    }

    [Fact]
    public void PresetsAreValid()
    {
        foreach (var name in GaussianNetworkExperiment.PresetNames)
            GaussianNetworkExperiment.Preset(name).Validate();
        Assert.Equal([4, 16, 64], GaussianNetworkExperiment.Preset("quick").TrainingCounts);
    }

    [Theory]
    [InlineData("--ratios", "a,b")]
    [InlineData("--size", "1")]
    [InlineData("--model", "resnet")]
    [InlineData("--model", "unet:blocks=3,width=8")]
    [InlineData("--runs", "0")]
    [InlineData("--samples", "1")]
    [InlineData("--preset", "huge")]
    [InlineData("--sampler", "langevin")]
    [InlineData("--sampler", "algorithm1:beta=2")]
    public void BadFlagsFailWithoutWritingAnything(string flag, string value)
    {
        var dir = Path.Combine(_folder, "bad");
        Assert.NotEqual(0, Program.BuildRoot().Parse(["experiment", "gaussian-network", "--out", dir, flag, value]).Invoke());
        Assert.False(Directory.Exists(dir));
    }
}
