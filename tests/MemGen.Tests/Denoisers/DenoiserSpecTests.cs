using MemGen.Denoisers;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Tests.Denoisers;

public class DenoiserSpecTests
{
    [Fact]
    public void CheckpointSpecGivesTheSavedNetworkInEvalMode()
    {
        var path = Path.Combine(Path.GetTempPath(), $"memgen-spec-{Guid.NewGuid():N}.safetensors");
        try
        {
            using var network = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=3,width=16"), 1, new ReferenceConvolutionFactory(), seed: 4);
            Checkpoint.Save(path, network, 12, 12, step: 7);
            var y = DenoiserTestData.Noisy(DenoiserTestData.Uniform(2, 1, 12, 12, seed: 5), 0.2f, seed: 6);
            var expected = y.ZerosLike();
            new NetworkDenoiser(network).Denoise(y, expected, [0f, 0f]);

            using var loaded = DenoiserSpec.Load("checkpoint:" + path);
            Assert.Equal((1, 12, 12), (loaded.Channels, loaded.Height, loaded.Width));
            Assert.True(loaded.Denoiser.IsBlind);
            Assert.Null(loaded.TrainingMean());
            var actual = y.ZerosLike();
            loaded.Denoiser.Denoise(y, actual, [0f, 0f]);
            for (int i = 0; i < y.Length; i++) Assert.Equal(expected.Data[i], actual.Data[i], 4);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void DatasetSpecsGiveClosedFormDenoisers()
    {
        using var empirical = DenoiserSpec.Load("empirical:disks:size=10,n=4,seed=1");
        Assert.IsType<EmpiricalOptimalDenoiser>(empirical.Denoiser);
        Assert.Equal(4, empirical.Training!.Count);
        Assert.Equal(100, empirical.TrainingMean()!.Length);
        using var wiener = DenoiserSpec.Load("wiener:disks:size=10,n=4,seed=1");
        Assert.IsType<GaussianDenoiser>(wiener.Denoiser);
        using var identity = DenoiserSpec.Load("identity");
        Assert.Null(identity.Height);
    }

    [Theory]
    [InlineData("")]
    [InlineData("empirical:")]
    [InlineData("network:x")]
    public void BadSpecsNameTheProblem(string spec)
    {
        var e = Assert.Throws<ArgumentException>(() => DenoiserSpec.Load(spec));
        Assert.Contains(DenoiserSpec.SyntaxHelp, e.Message);
    }
}
