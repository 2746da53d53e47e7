using MemGen.Analysis;
using MemGen.Cli;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Experiments.Manifold;
using MemGen.Reporting;

namespace MemGen.Tests.Experiments;

public sealed class ManifoldExperimentTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-manifold-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static ManifoldSettings Tiny => new()
    {
        Kind = "ray",
        Size = 8,
        RaySource = "calpha:alpha=2,size=8,n=1,seed=4",
        Model = "bfcnn:layers=3,width=8",
        TrainingCount = 64,
        TrainingBudget = 256,
        BatchSize = 16,
        TestImages = 6,
        OracleImages = 4,
        Sigmas = DenoisingCurveOptions.GeometricSigmas(0.02, 0.4, 4),
        JacobianPoints = 2,
        JacobianSigma = 0.04,
        CountSigmas = [0.02, 0.2],
        Seed = 5,
    };

    [Fact]
    public void TinyRayRunComparesTheNetworkWithTheExactProjectionAndResumes()
    {
        var dir = Path.Combine(_folder, "run");
        var options = new ReportWriteOptions { ExportSvg = false };
        var first = ManifoldExperiment.Run(Tiny, dir, "test", reportOptions: options);
        foreach (var f in new[] { "experiment.json", "run.json", "curves.csv", "curves.json", "jacobian.csv", "jacobian.json", "report.html",
                     "grids/eigenvectors.png", "models/ray/checkpoints/final.safetensors" })
            Assert.True(File.Exists(Path.Combine(dir, f)), f);

        // The oracle curve is that of the projection onto the ray through the source image, on the fresh rescaled images.
        var source = DatasetLoader.Load(Tiny.RaySourceSpec).Image(0).ToArray();
        var fresh = DatasetLoader.Load(Tiny.DataSpec(2));
        var (oracle, _, _) = DenoisingPsnr.Measure(new RayDenoiser(source), fresh, Tiny.Sigmas, Tiny.OracleImages, ManifoldExperiment.NoiseSeed(Tiny), 64);
        Assert.Equal(oracle, first.Oracle.Psnr, (a, b) => Math.Abs(a - b) < 1e-9);
        Assert.Equal(Tiny.OracleImages, first.Oracle.Images);
        Assert.Equal(Tiny.TestImages, first.Network.Images);

        // The reference line is PSNR_in + 10·log10(d/k), k = 1 for a ray.
        var reference = File.ReadAllLines(Path.Combine(dir, "curves.csv")).Where(l => l.StartsWith("PSNR_in", StringComparison.Ordinal)).ToList();
        Assert.Equal(Tiny.Sigmas.Length, reference.Count);

        // One Jacobian per (point, σ of the count grid and the eigenvalue σ); one cosine each (k = 1), in [0, 1].
        Assert.Equal(Tiny.JacobianPoints * 3, first.Jacobians.Count);
        foreach (var j in first.Jacobians)
        {
            Assert.Single(j.Cosines);
            Assert.InRange(j.Cosines[0], 0, 1);
            int shown = j.TopEigenvalues.Count(l => l > 0.5);
            Assert.True(shown < j.TopEigenvalues.Length ? j.AboveHalf == shown : j.AboveHalf >= shown);
            for (int i = 1; i < j.TopEigenvalues.Length; i++) Assert.True(j.TopEigenvalues[i] <= j.TopEigenvalues[i - 1]);
        }
        Assert.Equal(Tiny.JacobianPoints, first.AtJacobianSigma.Count);

        var second = ManifoldExperiment.Run(Tiny, dir, "test", reportOptions: options);
        // The re-run reloads the network from its checkpoint and measures again; the engine may sum in another order
        // (last digits differ, seen at 1e-15 relative), so equal to 1e-9, not bit for bit.
        Assert.Equal(first.Network.Psnr.Length, second.Network.Psnr.Length);
        for (int i = 0; i < first.Network.Psnr.Length; i++) Assert.Equal(first.Network.Psnr[i], second.Network.Psnr[i], 1e-9);
        foreach (var (a, b) in first.Jacobians.Zip(second.Jacobians)) Assert.Equal(a.MeanCosine, b.MeanCosine, 1e-9);
    }

    [Fact]
    public void PresetsAreValidForEveryKind()
    {
        foreach (var name in ManifoldExperiment.PresetNames)
            foreach (var kind in ManifoldSettings.Kinds)
                ManifoldExperiment.Preset(name, kind).Validate();
        Assert.Equal([5, 2, 1], ManifoldSettings.Kinds.Select(k => new ManifoldSettings { Kind = k }.ManifoldDimension));
        Assert.StartsWith("disks:", new ManifoldSettings().DataSpec(1), StringComparison.Ordinal);
        Assert.Contains("aa=exact", new ManifoldSettings().DataSpec(2), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--kind", "cones")]
    [InlineData("--size", "8")]
    [InlineData("--oracle-images", "0")]
    [InlineData("--jacobian-sigma", "0")]
    [InlineData("--count-sigmas", "0.1,x")]
    [InlineData("--sigmas", "-1")]
    [InlineData("--model", "unet:blocks=5,width=8")]
    [InlineData("--ray-source", "nothing:x")]
    public void BadFlagsFailWithoutWritingAnything(string flag, string value)
    {
        var dir = Path.Combine(_folder, "bad");
        string[] kind = flag == "--ray-source" ? ["--kind", "ray"] : [];
        int code = Program.BuildRoot().Parse(["experiment", "manifold", "--out", dir, flag, value, .. kind]).Invoke();
        // A value outside a fixed list is refused by the parser (exit 1, as for every command); the rest by the settings (exit 2).
        Assert.Equal(flag is "--preset" or "--kind" ? 1 : 2, code);
        Assert.False(Directory.Exists(dir));
    }
}
