using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Tests.Nn;

/// <summary>
/// Checkpoint metadata is checked against the tensors before anything is allocated, and weights that are not finite
/// are refused on load, naming the tensor. The metadata is re-signed here as anyone can (the checksum covers the file).
/// </summary>
public sealed class CheckpointValidationTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-ckpt-check-").FullName;
    private readonly CpuBackend _convolutions = new(new ReferenceConvolutionFactory());

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    [Theory]
    [InlineData("bfcnn:layers=2,width=3", 1)]
    [InlineData("bfcnn:layers=5,width=4", 3)]
    [InlineData("unet:blocks=1,width=2", 1)]
    [InlineData("unet:blocks=2,width=4", 3)]
    [InlineData("unet:blocks=3,width=2", 2)]
    public void StoredValueCountIsWhatTheBuiltNetworkSaves(string model, int channels)
    {
        var spec = NetworkSpec.Parse(model);
        using var net = NetworkFactory.Create(spec, channels, _convolutions, seed: 1);
        long actual = Checkpoint.NetworkTensors(net).Sum(t => (long)t.Value.Length);
        Assert.Equal(actual, spec.StoredValueCount(channels));
    }

    [Fact]
    public void AbsurdWidthSaturatesInsteadOfOverflowing() =>
        Assert.Equal(long.MaxValue, new NetworkSpec(NetworkArchitecture.Unet, 6, int.MaxValue).StoredValueCount(4));

    /// <summary>Saves a real unet:blocks=1,width=2 checkpoint with <paramref name="change"/> applied to its metadata, re-signed.</summary>
    private string Resigned(string name, Action<Dictionary<string, string>> change, Func<string, Tensor, Tensor>? tensor = null)
    {
        using var net = NetworkFactory.Create(NetworkSpec.Parse("unet:blocks=1,width=2"), 1, _convolutions, seed: 2);
        var original = PathOf("original.safetensors");
        Checkpoint.Save(original, net, 8, 8, 3);
        var metadata = new Dictionary<string, string>(SafeTensors.ReadMetadata(original));
        change(metadata);
        var tensors = Checkpoint.NetworkTensors(net).Select(t => (t.Name, tensor is null ? t.Value : tensor(t.Name, t.Value))).ToList();
        var path = PathOf(name);
        SafeTensors.Save(path, tensors, metadata);
        return path;
    }

    [Fact]
    public void AWiderArchitectureInTheMetadataIsRefusedBeforeTheNetworkIsBuilt()
    {
        var path = Resigned("wide.safetensors", m => m["architecture"] = "unet:blocks=1,width=4000");
        bool built = false;
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, (spec, channels) =>
        {
            built = true;
            return NetworkFactory.Create(spec, channels, _convolutions, 0);
        }, checkSize: true));
        Assert.False(built, "the network of the metadata was allocated before the check");
        Assert.Contains("unet:blocks=1,width=4000", e.Message);
        Assert.Contains("does not describe these tensors", e.Message);
        Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, _convolutions));
    }

    [Theory]
    [InlineData("height", "20000", "from 1 to 8192")]
    [InlineData("width", "100000", "from 1 to 8192")]
    [InlineData("channels", "7", "from 1 to 4")]
    [InlineData("height", "9", "not divisible by 2")]
    [InlineData("step", "-4", "must not be negative")]
    [InlineData("architecture", "unet:blocks=99,width=2", "architecture")]
    public void ImplausibleMetadataIsRefusedWhenReadingIt(string key, string value, string expected)
    {
        var path = Resigned($"{key}.safetensors", m => m[key] = value);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.ReadMetadata(path));
        Assert.Contains(expected, e.Message);
        Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, _convolutions));
    }

    [Theory]
    [InlineData(float.NaN, "enc0.conv1.weight")]
    [InlineData(float.PositiveInfinity, "mid.bn1.gamma")]
    [InlineData(float.NegativeInfinity, "dec0.conv2.weight")]
    public void NonFiniteWeightsAreRefusedNamingTheTensor(float bad, string name)
    {
        var path = Resigned("nan.safetensors", _ => { }, (n, t) =>
        {
            if (n != name) return t;
            var copy = t.Layout == TensorLayout.Nchw ? Tensor.FromArray(t.Data, t.Shape.ToArray()) : BlockedLayout.ToPlain(t);
            copy.Span[copy.Length / 2] = bad;
            return copy;
        });
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, _convolutions));
        Assert.Equal(name, e.Tensor);
        Assert.Contains("not finite", e.Message);
    }

    [Fact]
    public void AZeroRunningStandardDeviationIsRefused()
    {
        var path = Resigned("sd.safetensors", _ => { }, (n, t) =>
        {
            if (n != "mid.bn2.running_sd") return t;
            var copy = Tensor.FromArray(t.Data, t.Shape.ToArray());
            copy.Span[0] = 0;
            return copy;
        });
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.Load(path, _convolutions));
        Assert.Equal("mid.bn2.running_sd", e.Tensor);
        Assert.Contains("positive", e.Message);
    }
}
