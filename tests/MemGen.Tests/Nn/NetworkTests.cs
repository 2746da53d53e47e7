using MemGen.Native;
using MemGen.Nn;
using MemGen.Tensors;
using static MemGen.Tests.Nn.GradientCheck;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Nn;

public class NetworkTests
{
    private static readonly CpuBackend s_reference = new(new ReferenceConvolutionFactory());

    [Theory]
    [InlineData("bfcnn:layers=21,width=64", 702_784)]
    [InlineData("unet:blocks=3,width=64", 7_659_264)]
    [InlineData("unet:blocks=1,width=64", 366_080)]
    public void ParameterCountsMatchThePaper(string spec, long expected)
    {
        using var net = NetworkFactory.Create(NetworkSpec.Parse(spec), 1, s_reference, seed: 1);
        Assert.Equal(expected, net.ParameterCount);
        Assert.Equal(spec, net.Spec.ToString());
    }

    [Fact]
    public void NamesSayTheLayerAndAreUnique()
    {
        using var unet = NetworkFactory.Create(NetworkSpec.Parse("unet:blocks=2,width=64"), 1, s_reference, seed: 1);
        var names = unet.Parameters.Select(p => p.Name).ToArray();
        Assert.Equal(names.Length, names.Distinct().Count());
        Assert.Contains("enc0.conv1.weight", names);
        Assert.DoesNotContain("enc0.bn1.gamma", names); // the very first conv has no BN
        Assert.Contains("enc0.bn2.gamma", names);
        Assert.Contains("enc1.bn1.gamma", names);
        Assert.Contains("mid.conv2.weight", names);
        Assert.Contains("up1.weight", names);
        Assert.Contains("dec0.conv2.weight", names);
        Assert.DoesNotContain("dec0.bn2.gamma", names); // the last conv is linear
        Assert.Equal([1, 64, 3, 3], unet.Parameters.Single(p => p.Name == "dec0.conv2.weight").Value.Shape.ToArray());
        Assert.Equal([64, 128, 3, 3], unet.Parameters.Single(p => p.Name == "dec0.conv1.weight").Value.Shape.ToArray());
        Assert.Equal([256, 128, 2, 2], unet.Parameters.Single(p => p.Name == "up1.weight").Value.Shape.ToArray());
        Assert.Equal(unet.Parameters.Count(p => p.Name.EndsWith(".gamma")), unet.Buffers.Count);
        Assert.All(unet.Buffers, b => Assert.EndsWith(".running_sd", b.Name));

        using var cnn = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=5,width=8"), 2, s_reference, seed: 1);
        Assert.Equal(["layer0.conv.weight", "layer1.conv.weight", "layer1.bn.gamma", "layer2.conv.weight", "layer2.bn.gamma",
            "layer3.conv.weight", "layer3.bn.gamma", "layer4.conv.weight"], cnn.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void InitializationIsKaimingFanInAndDeterministic()
    {
        using var a = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=4,width=64"), 1, s_reference, seed: 7);
        using var b = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=4,width=64"), 1, s_reference, seed: 7);
        using var c = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=4,width=64"), 1, s_reference, seed: 8);
        for (int i = 0; i < a.Parameters.Count; i++) Assert.Equal(a.Parameters[i].Value.Data, b.Parameters[i].Value.Data);
        Assert.NotEqual(a.Parameters[1].Value.Data, c.Parameters[1].Value.Data);
        var body = a.Parameters.Single(p => p.Name == "layer1.conv.weight").Value.Data;
        double sd = Math.Sqrt(body.Sum(v => (double)v * v) / body.Length);
        Assert.InRange(sd, 0.97 * Math.Sqrt(2.0 / 576), 1.03 * Math.Sqrt(2.0 / 576)); // 36864 draws: ±1% sampling error
    }

    public static TheoryData<string, int, bool> SmallNetworks => new()
    {
        { "bfcnn:layers=4,width=16", 1, true },
        { "bfcnn:layers=4,width=16", 1, false },
        { "bfcnn:layers=3,width=5", 2, true },
        { "unet:blocks=2,width=16", 1, true },
        { "unet:blocks=2,width=16", 1, false },
        { "unet:blocks=1,width=4", 2, true },
    };

    /// <summary>
    /// Whole networks against central differences (float32). Gammas are set to O(1) so every layer
    /// contributes. ε = 1e-3 on inputs and weights of size ~0.1–1: the chance that ±ε flips a ReLU is small
    /// and a flip changes L by O(ε²); rounding in L over 2ε is ~1e-4 relative; tolerance 3e-3.
    /// </summary>
    [Theory]
    [MemberData(nameof(SmallNetworks))]
    public void WholeNetworkBackwardMatchesFiniteDifferences(string spec, int channels, bool training)
    {
        using var net = NetworkFactory.Create(NetworkSpec.Parse(spec), channels, s_reference, seed: 3);
        var rng = new DeterministicRng(4);
        foreach (var p in net.Parameters.Where(p => p.Name.EndsWith(".gamma"))) Random(p.Value, rng);
        var x = Random(new Tensor(2, channels, 8, 8), rng);
        if (!training)
        {
            net.Forward(x, training: true); // non-trivial running sd
            foreach (var b in net.Buffers) Assert.NotEqual(1f, b.Value.Data[0]);
        }
        var gradInput = x.ZerosLike();
        var variables = new List<CheckedVariable> { new("input", x, () => gradInput) };
        variables.AddRange(net.Parameters.Select(p => new CheckedVariable(p.Name, p.Value, () => p.Gradient)));
        Check(() => net.Forward(x, training), dr => net.Backward(dr, gradInput), variables, 1e-4, 3e-3, 5);
    }

    [Theory]
    [InlineData("bfcnn:layers=4,width=16")]
    [InlineData("unet:blocks=2,width=16")]
    public void OneDnnAndReferenceEnginesAgree(string spec)
    {
        using var onednn = new CpuBackend();
        using var fast = NetworkFactory.Create(NetworkSpec.Parse(spec), 1, onednn, seed: 11);
        using var slow = NetworkFactory.Create(NetworkSpec.Parse(spec), 1, s_reference, seed: 11);
        Assert.Equal(TensorLayout.Nchw16c, fast.InnerLayout);
        var rng = new DeterministicRng(12);
        var x = Random(new Tensor(3, 1, 8, 8), rng);
        var dr = Random(new Tensor(3, 1, 8, 8), rng);
        foreach (bool training in new[] { true, false })
        {
            var rFast = fast.Forward(x, training).Clone();
            var rSlow = slow.Forward(x, training).Clone();
            AssertClose(rSlow, rFast, 1e-4, $"residual (training {training})");
            var (gFast, gSlow) = (x.ZerosLike(), x.ZerosLike());
            fast.Backward(dr, gFast);
            slow.Backward(dr, gSlow);
            AssertClose(gSlow, gFast, 1e-4, "input gradient");
            for (int i = 0; i < fast.Parameters.Count; i++)
                AssertClose(slow.Parameters[i].Gradient, fast.Parameters[i].Gradient, 1e-4, fast.Parameters[i].Name);
        }
        for (int i = 0; i < fast.Buffers.Count; i++) AssertClose(slow.Buffers[i].Value, fast.Buffers[i].Value, 1e-5, fast.Buffers[i].Name);
    }

    [Fact]
    public void WinogradNetworkAgreesWithDirectWithinItsRoundingError()
    {
        using var direct = new CpuBackend();
        using var winograd = new CpuBackend(winograd: true);
        using var a = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=4,width=16"), 1, direct, seed: 13);
        using var b = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=4,width=16"), 1, winograd, seed: 13);
        var rng = new DeterministicRng(14);
        var x = Random(new Tensor(2, 1, 8, 8), rng);
        var dr = Random(new Tensor(2, 1, 8, 8), rng);
        AssertClose(a.Forward(x, training: true).Clone(), b.Forward(x, training: true), 1e-4, "residual");
        a.Backward(dr);
        b.Backward(dr);
        // Winograd's transforms add ~3× direct's rounding (ENGINE_NOTES); batch norm passes it on unamplified.
        for (int i = 0; i < a.Parameters.Count; i++) AssertClose(a.Parameters[i].Gradient, b.Parameters[i].Gradient, 1e-4, a.Parameters[i].Name);
    }

    /// <summary>Relative L2 error below <paramref name="tolerance"/>: float32 sums in a different order differ by ~1e-6.</summary>
    internal static void AssertClose(Tensor expected, Tensor actual, double tolerance, string what)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = expected.Data[i] - actual.Data[i];
            diff += d * d;
            norm += (double)expected.Data[i] * expected.Data[i];
        }
        double relative = Math.Sqrt(diff / Math.Max(norm, 1e-30));
        Assert.True(relative < tolerance, $"{what}: relative error {relative:E2}");
    }

    [Fact]
    public void CyclingThroughManyBatchSizesKeepsResultsExact()
    {
        // Beyond LayeredNetwork.CachedInputShapes distinct shapes the buffers are dropped and rebuilt.
        using var net = NetworkFactory.Create(NetworkSpec.Parse("unet:blocks=1,width=16"), 1, s_reference, seed: 2);
        var rng = new DeterministicRng(3);
        var x = Random(new Tensor(1, 1, 4, 4), rng);
        var first = net.Forward(x, training: false).Clone();
        for (int n = 2; n <= LayeredNetwork.CachedInputShapes + 2; n++)
        {
            var batch = new Tensor(n, 1, 4, 4);
            for (int k = 0; k < n; k++) x.Span.CopyTo(batch.Item(k));
            var r = net.Forward(batch, training: false);
            for (int k = 0; k < n; k++) Assert.True(first.Span.SequenceEqual(r.Item(k)), $"batch {n}, item {k}");
        }
        Assert.True(first.Span.SequenceEqual(net.Forward(x, training: false).Span));
    }

    [Fact]
    public void InputsOfTheWrongShapeAreRejected()
    {
        using var unet = NetworkFactory.Create(NetworkSpec.Parse("unet:blocks=2,width=4"), 1, s_reference, seed: 1);
        var e = Assert.Throws<ArgumentException>(() => unet.Forward(new Tensor(1, 1, 6, 8), training: false));
        Assert.Contains("divisible by 4", e.Message);
        Assert.Throws<ArgumentException>(() => unet.Forward(new Tensor(1, 2, 8, 8), training: false));
        Assert.Throws<InvalidOperationException>(() => unet.Backward(new Tensor(1, 1, 8, 8)));
    }
}
