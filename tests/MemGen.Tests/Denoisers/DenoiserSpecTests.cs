using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Native;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Denoisers;

public sealed class DenoiserSpecTests : IDisposable
{
    private const string Gaussian = "gaussian:size=4,mean=0.5,std=0.1,n=6,seed=3";
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-denoiser-spec-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData("identity", DenoiserKind.Identity, "identity")]
    [InlineData(" Identity ", DenoiserKind.Identity, "identity")]
    [InlineData("checkpoint:runs/a/final.safetensors", DenoiserKind.Checkpoint, "checkpoint:runs/a/final.safetensors")]
    [InlineData("empirical:fashion-mnist:train|take=10", DenoiserKind.Empirical, "empirical:fashion-mnist:train|take=10")]
    [InlineData("WIENER:npy:x.npy|gray", DenoiserKind.Wiener, "wiener:npy:x.npy|gray")]
    public void ParsesEveryKind(string text, DenoiserKind kind, string canonical)
    {
        var spec = DenoiserSpec.Parse(text);
        Assert.Equal(kind, spec.Kind);
        Assert.Equal(canonical, spec.ToString());
        Assert.Equal(canonical, DenoiserSpec.Parse(spec.ToString()).ToString());
        Assert.Equal(kind == DenoiserKind.Checkpoint, spec.Path is not null);
        Assert.Equal(kind is DenoiserKind.Empirical or DenoiserKind.Wiener, spec.Data is not null);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("network:x", "unknown kind 'network'")]
    [InlineData("identity:3", "takes no argument")]
    [InlineData("checkpoint:", "missing path")]
    [InlineData("empirical", "missing dataset spec")]
    [InlineData("wiener:gaussian:size=4,mean=0.5,n=3,seed=1", "missing key 'std'")]
    [InlineData("empirical:mnist:train", "unknown source kind 'mnist'")]
    public void RejectsBadSpecsWithAMessageSayingWhy(string text, string reason)
    {
        var e = Assert.Throws<FormatException>(() => DenoiserSpec.Parse(text));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void EmpiricalAndWienerAreBuiltFromTheirDataset()
    {
        var data = DatasetLoader.Load(Gaussian);
        using (var empirical = DenoiserSpec.Parse("empirical:" + Gaussian).Open())
        {
            Assert.IsType<EmpiricalOptimalDenoiser>(empirical.Denoiser);
            Assert.Equal(new ImageShape(1, 4, 4), empirical.Shape);
            Assert.Equal(data.Pixels, empirical.Data!.Pixels);
            // At small σ it returns the nearest training image (here: a lightly perturbed image 2).
            var noisy = new Tensor(1, 1, 4, 4);
            for (int j = 0; j < 16; j++) noisy.Data[j] = data.Image(2)[j] + (j % 2 == 0 ? 0.002f : -0.002f);
            var output = noisy.ZerosLike();
            empirical.Denoiser.Denoise(noisy, output, [0.01f]);
            for (int j = 0; j < 16; j++) Assert.Equal(data.Image(2)[j], output.Data[j], 1e-5f);
        }
        using var wiener = DenoiserSpec.Parse("wiener:" + Gaussian).Open();
        var gaussian = Assert.IsType<GaussianDenoiser>(wiener.Denoiser);
        var mean = MemGen.Images.ImageStatistics.MeanImage(data);
        for (int j = 0; j < 16; j++) Assert.Equal(mean[j], gaussian.Mean[j], 1e-6f);
    }

    [Fact]
    public void CheckpointOpensAsTheSavedNetworkInEvaluationMode()
    {
        var path = Path.Combine(_folder, "net.safetensors");
        using var convolutions = new CpuBackend();
        using var network = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=3,width=4"), 1, convolutions, seed: 5);
        Checkpoint.Save(path, network, 8, 6, 17);

        using var opened = DenoiserSpec.Parse("checkpoint:" + path).Open(batchSize: 2);
        Assert.Equal(new ImageShape(1, 8, 6), opened.Shape);
        Assert.Equal(17, opened.Checkpoint!.Step);
        Assert.True(opened.Denoiser.IsBlind);

        var noisy = new Tensor(3, 1, 8, 6);
        new DeterministicRng(9).FillUniform(noisy.Span);
        var expected = noisy.ZerosLike();
        var actual = noisy.ZerosLike();
        new NetworkDenoiser(network).Denoise(noisy, expected, [0.1f, 0.1f, 0.1f]);
        opened.Denoiser.Denoise(noisy, actual, [0.1f, 0.1f, 0.1f]);
        Assert.Equal(expected.Data, actual.Data);

        // A training run directory means its checkpoints/final.safetensors.
        var run = Path.Combine(_folder, "run");
        Assert.Throws<CheckpointException>(() => DenoiserSpec.Parse("checkpoint:" + _folder).Open());
        Directory.CreateDirectory(Path.Combine(run, "checkpoints"));
        File.Copy(path, Path.Combine(run, "checkpoints", "final.safetensors"));
        using var fromRun = DenoiserSpec.Parse("checkpoint:" + run).Open();
        fromRun.Denoiser.Denoise(noisy, actual, [0.1f, 0.1f, 0.1f]);
        Assert.Equal(expected.Data, actual.Data);
    }

    [Fact]
    public void MissingCheckpointNamesTheFile()
    {
        var path = Path.Combine(_folder, "absent.safetensors");
        var e = Assert.Throws<CheckpointException>(() => DenoiserSpec.Parse("checkpoint:" + path).Open());
        Assert.Contains(path, e.Message, StringComparison.Ordinal);
    }
}
