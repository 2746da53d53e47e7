using System.Globalization;
using MemGen.Analysis;
using MemGen.Cli;
using MemGen.Compute.Cpu;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Experiments.CAlpha;
using MemGen.Nn;
using MemGen.Reporting;

namespace MemGen.Tests.Experiments;

public sealed class CAlphaExperimentTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-calpha-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static CAlphaSettings Tiny => new()
    {
        Size = 8,
        Alphas = [1, 3],
        Model = "bfcnn:layers=3,width=8",
        TrainingCount = 64,
        TrainingBudget = 256,
        BatchSize = 16,
        TestImages = 6,
        Sigmas = DenoisingCurveOptions.GeometricSigmas(0.01, 0.5, 8),
        Fit = new PsnrSlopeFitOptions { ResidualTolerance = 5 }, // a tiny network's curve is far from straight; the test checks the bookkeeping
        EigenvectorSigma = 0.1,
        Seed = 3,
    };

    [Fact]
    public void TinyRunWritesTheSlopesOfItsNetworksCurvesAndResumesToTheSameNumbers()
    {
        var dir = Path.Combine(_folder, "run");
        var options = new ReportWriteOptions { ExportSvg = false };
        var first = CAlphaExperiment.Run(Tiny, dir, "test", reportOptions: options);
        Assert.Equal([1.0, 3.0], first.Measurements.Select(m => m.Alpha));
        foreach (var f in new[] { "experiment.json", "run.json", "slopes.csv", "slopes.json", "curves.csv", "curves.json", "report.html",
                     "grids/alpha-1.png", "grids/alpha-3.png", "units/alpha-3.json", "models/alpha-1/checkpoints/final.safetensors" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);
        Assert.Equal(1 + 2 * Tiny.Sigmas.Length, File.ReadAllLines(Path.Combine(dir, "curves.csv")).Length);

        using var backend = new CpuBackend();
        foreach (var m in first.Measurements)
        {
            Assert.Equal(m.Alpha / (m.Alpha + 1), m.OptimalSlope, 1e-12);
            // The written fit is the stated rule applied to the written curve.
            var refit = PsnrSlopeFit.Of(m.Sigmas.Select(s => -20 * Math.Log10(s)).ToArray(), m.OutputPsnr, Tiny.Fit);
            Assert.Equal(refit, m.Fit);
            Assert.True(m.Fit.Found);
            Assert.Equal(m.Fit.Slope - m.OptimalSlope, m.Difference, 1e-12);
            // The curve is the saved network's on fresh Cα images of this α (not its training images).
            using var network = Checkpoint.Load(Path.Combine(dir, "models", CAlphaExperiment.UnitName(m.Alpha), "checkpoints", "final.safetensors"), backend);
            var fresh = DatasetLoader.Load(Tiny.DataSpec(m.Alpha, 2));
            Assert.NotEqual(DatasetLoader.Load(Tiny.DataSpec(m.Alpha, 1)).Image(0).ToArray(), fresh.Image(0).ToArray());
            var (psnr, _, _) = DenoisingPsnr.Measure(new NetworkDenoiser(network), fresh, Tiny.Sigmas, Tiny.TestImages, CAlphaExperiment.NoiseSeed(Tiny), 64);
            Assert.Equal(psnr, m.OutputPsnr, (a, b) => Math.Abs(a - b) < 1e-9);
            for (int i = 1; i < m.TopEigenvalues.Length; i++) Assert.True(m.TopEigenvalues[i] <= m.TopEigenvalues[i - 1]);
        }
        var rows = File.ReadAllLines(Path.Combine(dir, "curves.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal(first.Measurements.Sum(m => m.Fit.Points), rows.Count(r => r[^1] == "true"));
        var slopes = File.ReadAllLines(Path.Combine(dir, "slopes.csv"));
        Assert.Equal(first.Measurements[1].Fit.Slope, double.Parse(slopes[2].Split(',')[1], CultureInfo.InvariantCulture), 1e-12);

        var second = CAlphaExperiment.Run(Tiny, dir, "test", reportOptions: options);
        Assert.Equal(first.Measurements.Select(m => m.Fit), second.Measurements.Select(m => m.Fit));
        Assert.Equal(first.Measurements.SelectMany(m => m.OutputPsnr), second.Measurements.SelectMany(m => m.OutputPsnr));
    }

    [Fact]
    public void PresetsAreValidAndFreshImagesDifferFromTrainingImages()
    {
        foreach (var name in CAlphaExperiment.PresetNames) CAlphaExperiment.Preset(name).Validate();
        Assert.Equal(80, CAlphaExperiment.Preset("paper").Size);
        Assert.Equal(100_000, CAlphaExperiment.Preset("paper").TrainingCount);
        var s = Tiny with { Beta = 1.5 };
        Assert.Contains("beta=1.5", s.DataSpec(3, 1), StringComparison.Ordinal);
        Assert.Equal(4, new[] { s.DataSpec(1, 1), s.DataSpec(1, 2), s.DataSpec(3, 1), s.DataSpec(3, 2) }.Select(d => DatasetSpec.Parse(d).GetLong("seed")).Distinct().Count());
    }

    [Theory]
    [InlineData("--alphas", "1,x")]
    [InlineData("--alphas", "0,1")]
    [InlineData("--alphas", "2,2")]
    [InlineData("--beta", "-1")]
    [InlineData("--size", "4")]
    [InlineData("--model", "resnet")]
    [InlineData("--model", "unet:blocks=3,width=8")]
    [InlineData("--sigmas", "0.1,0.2")]
    [InlineData("--fit-tolerance", "0")]
    [InlineData("--test-images", "0")]
    [InlineData("--preset", "huge")]
    public void BadFlagsFailWithoutWritingAnything(string flag, string value)
    {
        var dir = Path.Combine(_folder, "bad");
        string[] size = flag == "--model" && value.StartsWith("unet", StringComparison.Ordinal) ? ["--size", "12"] : [];
        int code = Program.BuildRoot().Parse(["experiment", "calpha", "--out", dir, flag, value, .. size]).Invoke();
        // A value outside a fixed list is refused by the parser (exit 1, as for every command); the rest by the settings (exit 2).
        Assert.Equal(flag is "--preset" or "--kind" ? 1 : 2, code);
        Assert.False(Directory.Exists(dir));
    }
}
