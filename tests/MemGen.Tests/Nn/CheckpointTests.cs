using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Nn;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-ckpt-").FullName;
    private readonly CpuBackend _convolutions = new(new ReferenceConvolutionFactory());

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string PathOf(string name) => Path.Combine(_folder, name);

    private TinyConvNet Net(long seed, int width = 3, int channels = 1) => new(channels, width, _convolutions, seed);

    private static void Perturb(DenoisingNetwork net, long seed)
    {
        var rng = new DeterministicRng(seed, 7);
        foreach (var b in net.Buffers) rng.FillUniform(b.Value.Span, 0.5f, 2f);
    }

    private static float[][] State(DenoisingNetwork net) =>
        [.. net.Parameters.Select(p => p.Value.Data.ToArray()), .. net.Buffers.Select(b => b.Value.Data.ToArray())];

    private static void AssertBitwiseEqual(float[][] expected, float[][] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.Equal(expected[i].Select(BitConverter.SingleToInt32Bits), actual[i].Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void RoundTripRestoresEveryParameterAndBufferBitForBit()
    {
        using var source = Net(1);
        Perturb(source, 1);
        var path = PathOf("net.safetensors");
        Checkpoint.Save(path, source, 12, 10, 345, new Dictionary<string, string> { ["run"] = "test-run" });

        using var target = Net(2);
        Assert.NotEqual(source.Parameters[0].Value.Data, target.Parameters[0].Value.Data);
        var metadata = Checkpoint.LoadInto(path, target);
        AssertBitwiseEqual(State(source), State(target));
        Assert.Equal(source.Spec, metadata.Spec);
        Assert.Equal((1, 12, 10, 345L), (metadata.Channels, metadata.Height, metadata.Width, metadata.Step));
        Assert.Equal("test-run", metadata.Values["run"]);
        Assert.Equal(metadata with { Values = metadata.Values }, Checkpoint.ReadMetadata(path) with { Values = metadata.Values });

        using var built = Checkpoint.Load(path, (spec, channels) => new TinyConvNet(channels, spec.Width, _convolutions, 99));
        AssertBitwiseEqual(State(source), State(built));
    }

    [Theory]
    [InlineData("bfcnn:layers=4,width=4", 2)]
    [InlineData("unet:blocks=2,width=4", 1)]
    public void RealNetworksRoundTripThroughLoad(string model, int channels)
    {
        var spec = NetworkSpec.Parse(model);
        using var source = NetworkFactory.Create(spec, channels, _convolutions, 3);
        Perturb(source, 3);
        var path = PathOf("real.safetensors");
        Checkpoint.Save(path, source, 8, 8, 12);
        using var loaded = Checkpoint.Load(path, _convolutions);
        Assert.Equal(spec, loaded.Spec);
        Assert.Equal(channels, loaded.Channels);
        AssertBitwiseEqual(State(source), State(loaded));
        // Same outputs in eval mode (running sd restored too).
        var x = new Tensor(2, channels, 8, 8);
        new DeterministicRng(1, 1).FillUniform(x.Span);
        Assert.Equal(source.Forward(x, training: false).Data, loaded.Forward(x, training: false).Data);
        Assert.Contains(loaded.Buffers, b => b.Name.EndsWith(".running_sd", StringComparison.Ordinal));

        using var other = NetworkFactory.Create(NetworkSpec.Parse(spec.Architecture == NetworkArchitecture.BfCnn ? "bfcnn:layers=5,width=4" : "unet:blocks=1,width=4"), channels, _convolutions, 3);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(path, other));
        Assert.Contains(model, e.Message);
    }

    [Fact]
    public void FileFollowsTheSafetensorsLayoutRules()
    {
        using var net = Net(3, width: 5, channels: 2);
        Perturb(net, 3);
        var path = PathOf("layout.safetensors");
        Checkpoint.Save(path, net, 8, 8, 1);
        var bytes = File.ReadAllBytes(path);

        // Independent parse: u64 LE header length, JSON header padded with spaces to 8 bytes, contiguous data.
        long n = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        Assert.Equal(0, n % 8);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.StartsWith("{", header);
        int end = header.LastIndexOf('}');
        Assert.True(header[(end + 1)..].All(c => c == ' '), "header must be padded with spaces");
        Assert.True(n - (end + 1) < 8, "padding must be shorter than 8 bytes");
        using var doc = JsonDocument.Parse(header);
        var metadata = doc.RootElement.GetProperty("__metadata__");
        Assert.Equal("bfcnn:layers=2,width=5", metadata.GetProperty("architecture").GetString());
        Assert.Equal("2", metadata.GetProperty("channels").GetString());
        Assert.All(metadata.EnumerateObject(), p => Assert.Equal(JsonValueKind.String, p.Value.ValueKind));

        var expected = net.Parameters.Select(p => (p.Name, p.Value)).Concat(net.Buffers.Select(b => (b.Name, b.Value))).ToList();
        var entries = doc.RootElement.EnumerateObject().Where(p => p.Name != "__metadata__").ToList();
        Assert.Equal(expected.Select(e => e.Name).Order(), entries.Select(e => e.Name).Order());
        long cursor = 0;
        foreach (var entry in entries.OrderBy(e => e.Value.GetProperty("data_offsets")[0].GetInt64()))
        {
            Assert.Equal("F32", entry.Value.GetProperty("dtype").GetString());
            var offsets = entry.Value.GetProperty("data_offsets");
            Assert.Equal(cursor, offsets[0].GetInt64());
            var value = expected.Single(e => e.Name == entry.Name).Value;
            Assert.Equal(value.Shape.ToArray(), entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt32()));
            Assert.Equal(cursor + 4L * value.Length, offsets[1].GetInt64());
            for (int i = 0; i < value.Length; i++)
                Assert.Equal(value.Data[i], BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan((int)(8 + n + cursor + 4 * i))));
            cursor = offsets[1].GetInt64();
        }
        Assert.Equal(bytes.Length, 8 + n + cursor);
    }

    [Fact]
    public void WrongArchitectureOrChannelsIsRefusedAndLeavesTheNetworkUnchanged()
    {
        using var narrow = Net(4, width: 3);
        var path = PathOf("narrow.safetensors");
        Checkpoint.Save(path, narrow, 8, 8, 0);

        using var wide = Net(5, width: 4);
        var before = State(wide);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(path, wide));
        Assert.Contains(path, e.Message);
        Assert.Contains("bfcnn:layers=2,width=3", e.Message);
        AssertBitwiseEqual(before, State(wide));

        using var color = Net(6, width: 3, channels: 3);
        e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(path, color));
        Assert.Contains("channel", e.Message);
    }

    [Fact]
    public void WrongShapeMissingOrExtraTensorNamesTheTensor()
    {
        using var net = Net(7);
        var good = Checkpoint.NetworkTensors(net);
        Checkpoint.Save(PathOf("ref.safetensors"), net, 8, 8, 0);
        var metadata = SafeTensors.ReadMetadata(PathOf("ref.safetensors"));

        var wrongShape = good.Select(t => t.Name == "layers.1.conv.weight" ? (t.Name, new Tensor(1, 3, 3, 2)) : t).ToList();
        SafeTensors.Save(PathOf("shape.safetensors"), wrongShape, metadata);
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(PathOf("shape.safetensors"), net));
        Assert.Equal("layers.1.conv.weight", e.Tensor);
        Assert.Contains("[1,3,3,2]", e.Message);
        Assert.Contains("[1,3,3,3]", e.Message);

        SafeTensors.Save(PathOf("missing.safetensors"), good.Where(t => t.Name != "layers.0.running_rms").ToList(), metadata);
        e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(PathOf("missing.safetensors"), net));
        Assert.Equal("layers.0.running_rms", e.Tensor);
        Assert.Contains("missing", e.Message);

        SafeTensors.Save(PathOf("extra.safetensors"), [.. good, ("layers.2.conv.weight", new Tensor(1, 1, 3, 3))], metadata);
        e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(PathOf("extra.safetensors"), net));
        Assert.Equal("layers.2.conv.weight", e.Tensor);
    }

    [Fact]
    public void EveryTruncationIsDetected()
    {
        using var net = Net(8, width: 2);
        var path = PathOf("full.safetensors");
        Checkpoint.Save(path, net, 8, 8, 0);
        var bytes = File.ReadAllBytes(path);
        var cut = PathOf("cut.safetensors");
        using var target = Net(9, width: 2);
        for (int length = 0; length < bytes.Length; length++)
        {
            File.WriteAllBytes(cut, bytes.AsSpan(0, length).ToArray());
            var e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(cut, target));
            Assert.Contains(cut, e.Message);
        }
    }

    [Fact]
    public void RandomCorruptionIsDetectedOrHarmless()
    {
        using var net = Net(10, width: 2);
        Perturb(net, 10);
        var path = PathOf("orig.safetensors");
        Checkpoint.Save(path, net, 8, 8, 5);
        var original = File.ReadAllBytes(path);
        var originalState = State(net);
        var bad = PathOf("bad.safetensors");
        var rng = new DeterministicRng(2024, 0);
        int detected = 0;
        for (int trial = 0; trial < 600; trial++)
        {
            var bytes = original.ToList();
            switch (rng.NextInt(4))
            {
                case 0: // flip one bit
                    int i = rng.NextInt(bytes.Count);
                    bytes[i] ^= (byte)(1 << rng.NextInt(8));
                    break;
                case 1: // overwrite a run with random bytes
                    int start = rng.NextInt(bytes.Count), len = 1 + rng.NextInt(16);
                    for (int k = start; k < Math.Min(bytes.Count, start + len); k++) bytes[k] = (byte)rng.NextInt(256);
                    break;
                case 2: // delete a run
                    int at = rng.NextInt(bytes.Count);
                    bytes.RemoveRange(at, Math.Min(bytes.Count - at, 1 + rng.NextInt(8)));
                    break;
                default: // insert bytes
                    bytes.InsertRange(rng.NextInt(bytes.Count + 1), Enumerable.Range(0, 1 + rng.NextInt(8)).Select(_ => (byte)rng.NextInt(256)));
                    break;
            }
            File.WriteAllBytes(bad, bytes.ToArray());
            using var target = Net(11, width: 2);
            try
            {
                var metadata = Checkpoint.LoadInto(bad, target);
                // Accepted: then it must be exactly what was saved (e.g. a space of padding became a tab).
                AssertBitwiseEqual(originalState, State(target));
                Assert.Equal(5, metadata.Step);
            }
            catch (CheckpointException e)
            {
                Assert.Contains(bad, e.Message);
                detected++;
            }
        }
        Assert.True(detected > 550, $"only {detected} of 600 corruptions detected");
    }

    [Fact]
    public void NotACheckpointIsRefusedWithTheFileName()
    {
        var path = PathOf("text.safetensors");
        File.WriteAllText(path, "this is not a checkpoint at all, just some text");
        var e = Assert.Throws<CheckpointException>(() => Checkpoint.ReadMetadata(path));
        Assert.Contains(path, e.Message);
        var missing = PathOf("absent.safetensors");
        e = Assert.Throws<CheckpointException>(() => Checkpoint.ReadMetadata(missing));
        Assert.Contains(missing, e.Message);
    }

    [Fact]
    public void OptimizerStateRoundTripContinuesIdentically()
    {
        using var a = Net(12);
        using var b = Net(12);
        var adamA = new Adam(a.Parameters, _convolutions);
        var rng = new DeterministicRng(5, 5);
        void FakeGradients(DenoisingNetwork net, long step)
        {
            var r = new DeterministicRng(77, step);
            foreach (var p in net.Parameters) r.FillNormal(p.Gradient.Span);
        }
        for (int s = 0; s < 3; s++)
        {
            FakeGradients(a, s);
            adamA.Step(1e-2);
        }
        var path = PathOf("adam.safetensors");
        OptimizerCheckpoint.Save(path, adamA, a.Parameters, new Dictionary<string, string> { ["training_step"] = "3" });
        Checkpoint.Save(PathOf("weights.safetensors"), a, 8, 8, 3);

        Checkpoint.LoadInto(PathOf("weights.safetensors"), b);
        var adamB = new Adam(b.Parameters, _convolutions);
        var meta = OptimizerCheckpoint.LoadInto(path, adamB, b.Parameters);
        Assert.Equal("3", meta["training_step"]);
        Assert.Equal(3, adamB.StepCount);
        for (int s = 3; s < 6; s++)
        {
            FakeGradients(a, s);
            FakeGradients(b, s);
            adamA.Step(1e-2);
            adamB.Step(1e-2);
        }
        AssertBitwiseEqual(State(a), State(b));

        var e = Assert.Throws<CheckpointException>(() => OptimizerCheckpoint.LoadInto(path, new Adam(b.Parameters, _convolutions, beta1: 0.8), b.Parameters));
        Assert.Contains("beta1", e.Message);
        e = Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(path, b));
        Assert.Contains("format", e.Message);
    }
}
