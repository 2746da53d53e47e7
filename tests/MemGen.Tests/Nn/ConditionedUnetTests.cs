using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Nn;
using MemGen.Tensors;
using static MemGen.Tests.Nn.GradientCheck;

namespace MemGen.Tests.Nn;

/// <summary>
/// The noise-conditioned UNet (docs/science.md §9.3): its spec, size and names, its output against an independent
/// formula on a tiny instance, its gradients against finite differences, EDM's preconditioning at σ → 0, its exact
/// Jacobian (not assuming homogeneity), the two engines, and checkpoints.
/// </summary>
public class ConditionedUnetTests
{
    private static readonly CpuBackend s_reference = new(new ReferenceConvolutionFactory());

    [Fact]
    public void SpecParsesWithDefaultsAndRoundTrips()
    {
        var spec = NetworkSpec.Parse("unet-cond:blocks=2,width=32");
        Assert.Equal(new NetworkSpec(NetworkArchitecture.ConditionedUnet, 2, 32, 64, 0.5), spec);
        Assert.Equal("unet-cond:blocks=2,width=32,emb=64,sigma_data=0.5", spec.ToString());
        Assert.True(spec.IsConditioned);
        Assert.Equal(4, spec.SizeDivisor);
        var other = NetworkSpec.Parse("unet-cond:blocks=1,width=16,emb=8,sigma_data=0.25");
        Assert.Equal(other, NetworkSpec.Parse(other.ToString()));
        Assert.Equal(0.25, other.SigmaData);
        Assert.False(NetworkSpec.Parse("unet:blocks=2,width=32").IsConditioned);
        foreach (var bad in new[] { "unet-cond:emb=7", "unet-cond:sigma_data=0", "unet-cond:sigma_data=x", "unet-cond:depth=2", "unet:emb=8", "unet:sigma_data=0.5", "unet-cond:blocks=7" })
            Assert.Throws<FormatException>(() => NetworkSpec.Parse(bad));
    }

    /// <summary>
    /// unet-cond:blocks=2,width=32 (emb 64) on gray images: the blind UNet's 456,832 less its 576 γ (conv weights
    /// 456,256), plus conv biases where no norm follows (enc0.conv1 32, up1 64, up0 32, dec0.conv2 1), γ and β of its eight
    /// norms (2·576), their FiLM projections (2·576·(64 + 1) = 74,880) and the embedding MLP (2·(64² + 64) = 8,320).
    /// </summary>
    [Theory]
    [InlineData("unet-cond:blocks=2,width=32", 1, 456_256 + 129 + 1_152 + 74_880 + 8_320)]
    [InlineData("unet-cond:blocks=2,width=32,emb=32", 1, 456_256 + 129 + 1_152 + 2 * 576 * 33 + 2 * (32 * 32 + 32))]
    [InlineData("unet-cond:blocks=1,width=16,emb=8", 2, 0)]
    [InlineData("unet:blocks=2,width=32", 1, 456_832)]
    [InlineData("unet:blocks=3,width=64", 1, 7_659_264)]
    [InlineData("bfcnn:layers=21,width=64", 1, 702_784)]
    [InlineData("bfcnn:layers=3,width=5", 2, 0)]
    public void ParameterCountsInClosedFormMatchTheBuiltNetworks(string text, int channels, long expected)
    {
        var spec = NetworkSpec.Parse(text);
        using var net = NetworkFactory.Create(spec, channels, s_reference, seed: 1);
        if (expected > 0) Assert.Equal(expected, net.ParameterCount);
        Assert.Equal(net.ParameterCount, spec.ParameterCount(channels));
        // The checkpoint size check: parameters and buffers, counted from the built network.
        Assert.Equal(net.Parameters.Sum(p => (long)p.Value.Length) + net.Buffers.Sum(b => (long)b.Value.Length), spec.StoredValueCount(channels));
    }

    [Fact]
    public void NamesAndShapesAreThoseTheSpecLists()
    {
        var spec = NetworkSpec.Parse("unet-cond:blocks=2,width=16,emb=8");
        using var net = new ConditionedUnet(spec, 1, s_reference, seed: 1);
        var listed = ConditionedUnet.TensorShapes(spec, 1);
        var built = net.Parameters.Select(p => (p.Name, p.Value.Shape.ToArray(), true))
            .Concat(net.Buffers.Select(b => (b.Name, b.Value.Shape.ToArray(), false))).ToList();
        Assert.Equal(listed.Select(t => t.Name), built.Select(t => t.Name));
        for (int i = 0; i < listed.Count; i++)
        {
            Assert.Equal(listed[i].Shape, built[i].Item2);
            Assert.Equal(listed[i].Trainable, built[i].Item3);
        }
        var names = listed.Select(t => t.Name).ToHashSet();
        Assert.Equal(listed.Count, names.Count);
        foreach (var n in new[] { "emb.fc1.weight", "enc0.conv1.bias", "enc0.bn2.film.weight", "enc1.bn1.beta", "mid.bn2.running_mean", "up1.bias", "dec0.conv2.bias" })
            Assert.Contains(n, names);
        Assert.DoesNotContain("enc1.conv1.bias", names); // a norm follows: its β is the bias
        Assert.DoesNotContain("dec0.bn2.gamma", names); // the output layer is linear
        Assert.True(net.IsConditioned);
        // FiLM starts at zero (the untrained network ignores σ in its body), γ at one, β and biases at zero.
        Assert.All(net.Parameters.Where(p => p.Name.Contains(".film.", StringComparison.Ordinal) || p.Name.EndsWith(".bias", StringComparison.Ordinal) || p.Name.EndsWith(".beta", StringComparison.Ordinal)),
            p => Assert.All(p.Value.Data, v => Assert.Equal(0f, v)));
        Assert.All(net.Parameters.Where(p => p.Name.EndsWith(".gamma", StringComparison.Ordinal)), p => Assert.All(p.Value.Data, v => Assert.Equal(1f, v)));
    }

    /// <summary>A small network with every parameter O(1)-perturbed (FiLM, β, biases non-zero) and running statistics from a few training passes.</summary>
    private static ConditionedUnet Randomized(string text, int channels, ComputeBackend backend, long seed, bool train = true)
    {
        var net = new ConditionedUnet(NetworkSpec.Parse(text), channels, backend, seed);
        var rng = new DeterministicRng(seed, 77);
        foreach (var p in net.Parameters)
        {
            if (p.Name.EndsWith(".gamma", StringComparison.Ordinal)) rng.FillUniform(p.Value.Span, 0.5f, 1.5f);
            else if (!p.Name.EndsWith(".weight", StringComparison.Ordinal) || p.Name.Contains(".film.", StringComparison.Ordinal)) Random(p.Value, rng, 0.2f);
        }
        if (train)
        {
            var batch = Random(new Tensor(4, channels, 8, 8), rng, 0.5f);
            for (int i = 0; i < 3; i++) net.Forward(batch, [0.1f, 0.5f, 1f, 2f], training: true);
        }
        return net;
    }

    [Theory]
    [InlineData("unet-cond:blocks=1,width=4,emb=4", 1, true)]
    [InlineData("unet-cond:blocks=1,width=4,emb=4", 1, false)]
    [InlineData("unet-cond:blocks=2,width=3,emb=2", 2, true)]
    public void WholeNetworkBackwardMatchesFiniteDifferences(string spec, int channels, bool training)
    {
        using var net = Randomized(spec, channels, s_reference, seed: 3);
        var rng = new DeterministicRng(4);
        var x = Random(new Tensor(2, channels, 8, 8), rng, 0.5f);
        float[] sigmas = [0.07f, 1.3f];
        var mean = net.Buffers.Select(b => b.Value.Clone()).ToArray();
        var gradInput = x.ZerosLike();
        var variables = new List<CheckedVariable> { new("input", x, () => gradInput) };
        variables.AddRange(net.Parameters.Select(p => new CheckedVariable(p.Name, p.Value, () => p.Gradient)));
        Tensor Forward()
        {
            for (int b = 0; b < mean.Length; b++) mean[b].Storage.CopyTo(net.Buffers[b].Value.Storage); // training passes move them
            return net.Forward(x, sigmas, training);
        }
        Check(Forward, dr => net.Backward(dr, gradInput), variables, 1e-3, 3e-3, 5);
    }

    [Fact]
    public void OutputMatchesAnIndependentFormulaOnATinyInstance()
    {
        const string text = "unet-cond:blocks=1,width=2,emb=2,sigma_data=0.7";
        using var net = Randomized(text, 1, s_reference, seed: 8);
        var rng = new DeterministicRng(9);
        var y = Random(new Tensor(2, 1, 4, 4), rng, 0.5f);
        float[] sigmas = [0.2f, 3f];
        var got = net.Forward(y, sigmas, training: false).Clone();
        var p = net.Parameters.ToDictionary(q => q.Name, q => q.Value);
        foreach (var b in net.Buffers) p[b.Name] = b.Value;
        var expected = TinyConditionedUnet.Residual(p, y, sigmas, sigmaData: 0.7, embedding: 2);
        for (int i = 0; i < got.Length; i++) Assert.Equal(expected[i], got.Data[i], 1e-5);
    }

    [Fact]
    public void PreconditioningMakesTheDenoiserTheIdentityAsSigmaGoesToZero()
    {
        using var net = Randomized("unet-cond:blocks=1,width=4,emb=4", 1, s_reference, seed: 10);
        var rng = new DeterministicRng(11);
        var y = Random(new Tensor(3, 1, 8, 8), rng, 0.5f);
        for (int i = 0; i < y.Length; i++) y.Data[i] += 0.5f;
        var r = net.Forward(y, [0f, 1e-5f, 1e-3f], training: false).Clone();
        double Norm(int n, Tensor t) => Math.Sqrt(t.Item(n).ToArray().Sum(v => (double)v * v));
        Assert.All(r.Item(0).ToArray(), v => Assert.Equal(0f, v)); // σ = 0: c_skip = 1, c_out = 0, f(y) = y exactly
        Assert.True(Norm(1, r) < 1e-4 * Norm(1, y), $"σ = 1e-5: ‖y − f(y)‖ = {Norm(1, r)}");
        Assert.True(Norm(2, r) < 1e-2 * Norm(2, y), $"σ = 1e-3: ‖y − f(y)‖ = {Norm(2, r)}");
        Assert.True(Norm(2, r) > Norm(1, r), "the residual grows with σ");
        var edm = new EdmPreconditioning(0.5);
        Assert.Equal(1, edm.Skip(0));
        Assert.Equal(0, edm.Out(0));
        Assert.Equal(1 - edm.Skip(0.3), edm.ResidualSkip(0.3), 15);
        Assert.Equal(1 / (edm.Out(0.3) * edm.Out(0.3)), edm.LossWeight(0.3), 9);
        Assert.Equal(0.5, edm.Out(1e9), 6); // σ → ∞: c_out → σ_d, c_skip → 0
        Assert.True(edm.Skip(1e9) < 1e-15);
        Assert.True(double.IsFinite(edm.Noise(0)) && double.IsFinite(edm.LossWeight(0)));
    }

    [Fact]
    public void ExactJacobianMatchesFiniteDifferencesAndIsNotHomogeneous()
    {
        using var net = Randomized("unet-cond:blocks=2,width=4,emb=4", 1, s_reference, seed: 12);
        var rng = new DeterministicRng(13);
        var y = Random(new Tensor(1, 1, 8, 8), rng, 0.5f);
        const float sigma = 0.4f;
        var lin = net.LinearizeAt(y, [sigma]);
        var v = Random(new Tensor(3, 1, 8, 8), rng);
        var jv = new Tensor(3, 1, 8, 8);
        lin.DenoiserJvp(v, jv);
        const float h = 1e-3f;
        for (int k = 0; k < 3; k++)
        {
            var plus = y.Clone();
            var minus = y.Clone();
            for (int i = 0; i < y.Length; i++)
            {
                plus.Data[i] += h * v.Item(k)[i];
                minus.Data[i] -= h * v.Item(k)[i];
            }
            var fPlus = Denoise(net, plus, sigma);
            var fMinus = Denoise(net, minus, sigma);
            double diff = 0, norm = 0;
            for (int i = 0; i < y.Length; i++)
            {
                double fd = (fPlus[i] - fMinus[i]) / (2 * h);
                diff += (fd - jv.Item(k)[i]) * (fd - jv.Item(k)[i]);
                norm += fd * fd;
            }
            Assert.True(Math.Sqrt(diff / norm) < 2e-3, $"vector {k}: JVP vs central differences, relative error {Math.Sqrt(diff / norm):E2}");
        }
        // Adjoint: ⟨u, J v⟩ = ⟨Jᵀ u, v⟩.
        var u = Random(new Tensor(3, 1, 8, 8), rng);
        var jtu = new Tensor(3, 1, 8, 8);
        lin = net.LinearizeAt(y, [sigma]);
        lin.DenoiserJvp(v, jv);
        lin.DenoiserVjp(u, jtu);
        Assert.Equal(Dot(u, jv), Dot(jtu, v), 3);
        // Not homogeneous: J·y is not f(y) (biases, FiLM shifts and c_skip make f affine near y, not linear).
        var jy = new Tensor(1, 1, 8, 8);
        lin.DenoiserJvp(y, jy);
        var f = lin.Denoised.ToArray();
        double err = 0, fn = 0;
        for (int i = 0; i < f.Length; i++)
        {
            err += (jy.Data[i] - f[i]) * (jy.Data[i] - f[i]);
            fn += f[i] * f[i];
        }
        Assert.True(Math.Sqrt(err / fn) > 1e-2, $"‖J·y − f(y)‖/‖f(y)‖ = {Math.Sqrt(err / fn):E2}");
        // σ is part of the point: a different σ gives a different Jacobian.
        var other = net.LinearizeAt(y, [2f]);
        var jv2 = new Tensor(3, 1, 8, 8);
        other.DenoiserJvp(v, jv2);
        Assert.True(jv2.Data.Zip(jv.Data).Max(t => Math.Abs(t.First - t.Second)) > 1e-3);
        Assert.Throws<ArgumentException>(() => net.LinearizeAt(y));
        Assert.Throws<ArgumentException>(() => net.Forward(y, training: false));
        Assert.Throws<ArgumentException>(() => net.Forward(y, [-1f], training: false));
    }

    private static float[] Denoise(DenoisingNetwork net, Tensor y, float sigma)
    {
        var r = net.Forward(y, [sigma], training: false);
        return y.Data.Zip(r.Data, (a, b) => a - b).ToArray();
    }

    [Fact]
    public void OneDnnAndReferenceEnginesAgree()
    {
        using var onednn = new CpuBackend();
        using var fast = Randomized("unet-cond:blocks=2,width=16,emb=8", 1, onednn, seed: 14, train: false);
        using var slow = Randomized("unet-cond:blocks=2,width=16,emb=8", 1, s_reference, seed: 14, train: false);
        Assert.Equal(TensorLayout.Nchw16c, fast.InnerLayout);
        var rng = new DeterministicRng(15);
        var x = Random(new Tensor(3, 1, 8, 8), rng);
        var dr = Random(new Tensor(3, 1, 8, 8), rng);
        float[] sigmas = [0.01f, 0.3f, 5f];
        foreach (bool training in new[] { true, false })
        {
            NetworkTests.AssertClose(slow.Forward(x, sigmas, training).Clone(), fast.Forward(x, sigmas, training).Clone(), 1e-4, $"residual (training {training})");
            var (gFast, gSlow) = (x.ZerosLike(), x.ZerosLike());
            fast.Backward(dr, gFast);
            slow.Backward(dr, gSlow);
            NetworkTests.AssertClose(gSlow, gFast, 1e-4, "input gradient");
            for (int i = 0; i < fast.Parameters.Count; i++)
                NetworkTests.AssertClose(slow.Parameters[i].Gradient, fast.Parameters[i].Gradient, 1e-4, fast.Parameters[i].Name);
        }
        for (int i = 0; i < fast.Buffers.Count; i++) NetworkTests.AssertClose(slow.Buffers[i].Value, fast.Buffers[i].Value, 1e-5, fast.Buffers[i].Name);
    }

    [Fact]
    public void CheckpointsCarryTheKindAndRoundTrip()
    {
        using var folder = new Data.TempFolder();
        var path = Path.Combine(folder.Path, "net.safetensors");
        using var net = Randomized("unet-cond:blocks=1,width=4,emb=4,sigma_data=0.3", 1, s_reference, seed: 16);
        Checkpoint.Save(path, net, 8, 8, 12);
        var meta = Checkpoint.ReadMetadata(path);
        Assert.Equal("unet-cond:blocks=1,width=4,emb=4,sigma_data=0.3", meta.Values["architecture"]);
        Assert.Equal(net.Spec, meta.Spec);
        using var loaded = Checkpoint.Load(path, s_reference);
        Assert.IsType<ConditionedUnet>(loaded);
        var y = Random(new Tensor(2, 1, 8, 8), new DeterministicRng(17), 0.5f);
        Assert.Equal(net.Forward(y, [0.2f, 0.9f], training: false).Data, loaded.Forward(y, [0.2f, 0.9f], training: false).Data);
        using var otherSigmaData = new ConditionedUnet(NetworkSpec.Parse("unet-cond:blocks=1,width=4,emb=4,sigma_data=0.5"), 1, s_reference, seed: 1);
        Assert.Throws<CheckpointException>(() => Checkpoint.LoadInto(path, otherSigmaData));
    }
}
