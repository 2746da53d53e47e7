using MemGen.Nn;
using MemGen.Tensors;
using static MemGen.Tests.Nn.GradientCheck;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Nn;

/// <summary>
/// Every layer's Backward against central finite differences, in both activation layouts, with the reference
/// convolution. Tolerances: the layers run in float32; with ε = 1e-2 on O(1) values the rounding error of
/// L = Σ c·y (a few hundred terms, |L| ~ 10) over 2ε is ~1e-6·10/0.02 ≈ 5e-4 of ‖∇L‖ at worst, and the
/// truncation error of the central difference is O(ε²) = 1e-4 for the smooth batch-norm map (exactly 0 for
/// the piecewise-linear layers away from kinks). 2e-3 relative leaves margin; a wrong index or sign is O(1).
/// </summary>
public class LayerGradientTests
{
    private const double Epsilon = 1e-2;
    private const double Tolerance = 2e-3;
    private static readonly CpuBackend s_reference = new(new ReferenceConvolutionFactory());

    private static Tensor Activation(int n, int c, int h, int w, TensorLayout layout) =>
        layout == TensorLayout.Nchw ? new Tensor(n, c, h, w) : BlockedLayout.Allocate(n, c, h, w, TensorLayout.Nchw16c);

    public static TheoryData<TensorLayout, int, int> ConvCases => new()
    {
        { TensorLayout.Nchw, 3, 5 },
        { TensorLayout.Nchw16c, 16, 32 },
    };

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv2dBackwardMatchesFiniteDifferences(TensorLayout layout, int cin, int cout)
    {
        var rng = new DeterministicRng(1, cin);
        using var conv = new Conv2d("c", cin, cout, layout, layout, s_reference);
        conv.InitializeKaiming(rng);
        var x = Random(Activation(2, cin, 5, 4, layout), rng);
        Tensor? dx = null;
        Check(() => conv.Forward(x), dy => dx = conv.Backward(dy, parameterGradients: true),
            [new("input", x, () => dx!), new("weight", conv.Weight.Value, () => conv.Weight.Gradient)], Epsilon, Tolerance, 1);
    }

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void ConvTranspose2dBackwardMatchesFiniteDifferences(TensorLayout layout, int cin, int cout)
    {
        var rng = new DeterministicRng(2, cin);
        using var conv = new ConvTranspose2d("up", cout, cin, layout, layout, s_reference);
        conv.InitializeKaiming(rng);
        var x = Random(Activation(2, cout, 3, 4, layout), rng);
        Tensor? dx = null;
        Check(() => conv.Forward(x), dy => dx = conv.Backward(dy, parameterGradients: true),
            [new("input", x, () => dx!), new("weight", conv.Weight.Value, () => conv.Weight.Gradient)], Epsilon, Tolerance, 2);
    }

    [Fact]
    public void ConvolutionOutputShapesAndWeightShapes()
    {
        using var conv = new Conv2d("c", 3, 5, TensorLayout.Nchw, TensorLayout.Nchw, s_reference);
        using var up = new ConvTranspose2d("u", 5, 3, TensorLayout.Nchw, TensorLayout.Nchw, s_reference);
        Assert.Equal([5, 3, 3, 3], conv.Weight.Value.Shape.ToArray());
        Assert.Equal([5, 3, 2, 2], up.Weight.Value.Shape.ToArray());
        Assert.Equal("c.weight", conv.Weight.Name);
        Assert.Equal(27, conv.FanIn);
        Assert.Equal(12, up.FanIn); // PyTorch's fan-in of a ConvTranspose2d weight [in,out,2,2]: out·4
        var y = up.Forward(new Tensor(2, 5, 3, 4));
        Assert.Equal([2, 3, 6, 8], y.Shape.ToArray());
        Assert.Throws<ArgumentException>(() => conv.Forward(new Tensor(2, 4, 3, 3)));
    }

    public static TheoryData<TensorLayout, int, bool, LayerMode> NormCases => new()
    {
        { TensorLayout.Nchw, 3, false, LayerMode.Training },
        { TensorLayout.Nchw, 3, true, LayerMode.Training },
        { TensorLayout.Nchw16c, 32, false, LayerMode.Training },
        { TensorLayout.Nchw16c, 32, true, LayerMode.Training },
        { TensorLayout.Nchw, 3, true, LayerMode.Evaluation },
        { TensorLayout.Nchw16c, 16, true, LayerMode.Evaluation },
        { TensorLayout.Nchw16c, 16, false, LayerMode.Evaluation },
    };

    [Theory]
    [MemberData(nameof(NormCases))]
    public void BatchNormBackwardMatchesFiniteDifferences(TensorLayout layout, int channels, bool relu, LayerMode mode)
    {
        var rng = new DeterministicRng(3, channels);
        var bn = new BiasFreeBatchNorm("bn", channels, relu, s_reference);
        Random(bn.Gamma.Value, rng); // O(1) γ of both signs so gradients are not tiny
        for (int c = 0; c < channels; c++) bn.RunningSd.Value.Data[c] = 0.5f + c % 3;
        // A per-channel offset so the mean is not ~0 (exercises the (x − μ) term).
        var x = Random(Activation(3, channels, 4, 5, layout), rng);
        for (int i = 0; i < x.Length; i++) x.Data[i] += 0.7f;
        Tensor? dx = null;
        Check(() => bn.Forward(x, mode), dy => dx = bn.Backward(dy, mode, parameterGradients: true),
            [new("input", x, () => dx!), new("gamma", bn.Gamma.Value, () => bn.Gamma.Gradient)], 1e-3, Tolerance, 3);
    }

    [Fact]
    public void BatchNormTrainingMatchesItsDefinitionAndUpdatesRunningSd()
    {
        var bn = new BiasFreeBatchNorm("bn", 16, fusedRelu: false, s_reference);
        var rng = new DeterministicRng(4);
        Random(bn.Gamma.Value, rng);
        var plain = Random(new Tensor(2, 16, 3, 3), rng);
        var y = BlockedLayout.ToPlain(bn.Forward(BlockedLayout.ToLayout(plain, TensorLayout.Nchw16c), LayerMode.Training));
        for (int c = 0; c < 16; c++)
        {
            var values = new List<double>();
            for (int n = 0; n < 2; n++) for (int p = 0; p < 9; p++) values.Add(plain.Data[(n * 16 + c) * 9 + p]);
            double mean = values.Average(), sd = Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / values.Count + 1e-5);
            for (int n = 0; n < 2; n++)
                for (int p = 0; p < 9; p++)
                {
                    int i = (n * 16 + c) * 9 + p;
                    Assert.Equal(plain.Data[i] / sd * bn.Gamma.Value.Data[c], y.Data[i], 1e-5);
                }
            Assert.Equal(0.9 + 0.1 * sd, bn.RunningSd.Value.Data[c], 1e-6);
        }
        // Evaluation divides by the running sd.
        var e = BlockedLayout.ToPlain(bn.Forward(BlockedLayout.ToLayout(plain, TensorLayout.Nchw16c), LayerMode.Evaluation));
        Assert.Equal(plain.Data[5 * 9] / bn.RunningSd.Value.Data[5] * bn.Gamma.Value.Data[5], e.Data[5 * 9], 1e-6);
    }

    [Fact]
    public void GammaInitializationFollowsTheReferenceCode()
    {
        var bn = new BiasFreeBatchNorm("bn", 64, fusedRelu: true, s_reference);
        bn.InitializeGamma(new DeterministicRng(5));
        var rng = new DeterministicRng(5);
        for (int c = 0; c < 64; c++)
            Assert.Equal((float)Math.Clamp(rng.NextNormal() * 2.0 / 9.0 / 64.0, -0.025, 0.025), bn.Gamma.Value.Data[c]);
        Assert.All(bn.RunningSd.Value.Data, v => Assert.Equal(1f, v));
    }

    [Theory]
    [InlineData(TensorLayout.Nchw, 3)]
    [InlineData(TensorLayout.Nchw16c, 16)]
    public void ReluAndPoolAndConcatBackwardMatchFiniteDifferences(TensorLayout layout, int channels)
    {
        var rng = new DeterministicRng(6, channels);
        var relu = new Relu("relu", s_reference);
        var x = Random(Activation(2, channels, 4, 6, layout), rng);
        // Keep values away from the kink so ±ε never crosses it.
        for (int i = 0; i < x.Length; i++) x.Data[i] += MathF.Sign(x.Data[i]) * 0.1f;
        Tensor? dx = null;
        Check(() => relu.Forward(x, LayerMode.Training), dy => dx = relu.Backward(dy, LayerMode.Training), [new("relu input", x, () => dx!)], Epsilon, Tolerance, 6);

        var pool = new AvgPool2d("pool", s_reference);
        Check(() => pool.Forward(x), dy => dx = pool.Backward(dy), [new("pool input", x, () => dx!)], Epsilon, Tolerance, 7);

        var cat = new Concat("cat", s_reference);
        var b = Random(Activation(2, 2 * channels, 4, 6, layout), rng);
        Tensor? da = null, db = null;
        Check(() => cat.Forward(x, b), dy => (da, db) = cat.Backward(dy),
            [new("cat first", x, () => da!), new("cat second", b, () => db!)], Epsilon, Tolerance, 8);
    }

    [Theory]
    [InlineData(TensorLayout.Nchw, 3)]
    [InlineData(TensorLayout.Nchw16c, 16)]
    public void PoolAndConcatMatchNaiveLoops(TensorLayout layout, int channels)
    {
        var rng = new DeterministicRng(9);
        var a = Random(Activation(2, channels, 4, 6, layout), rng);
        var b = Random(Activation(2, 16, 4, 6, layout), rng);
        var pa = BlockedLayout.ToPlain(a);
        var pooled = BlockedLayout.ToPlain(new AvgPool2d("p", s_reference).Forward(a));
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < channels; c++)
                for (int h = 0; h < 2; h++)
                    for (int w = 0; w < 3; w++)
                    {
                        float At(int dh, int dw) => pa.Data[((n * channels + c) * 4 + 2 * h + dh) * 6 + 2 * w + dw];
                        Assert.Equal(0.25f * (At(0, 0) + At(0, 1) + At(1, 0) + At(1, 1)), pooled.Data[((n * channels + c) * 2 + h) * 3 + w], 1e-6);
                    }
        var cat = BlockedLayout.ToPlain(new Concat("c", s_reference).Forward(a, b));
        var pb = BlockedLayout.ToPlain(b);
        Assert.Equal([2, channels + 16, 4, 6], cat.Shape.ToArray());
        for (int n = 0; n < 2; n++)
        {
            Assert.True(pa.Item(n).SequenceEqual(cat.Item(n)[..pa.ItemLength]));
            Assert.True(pb.Item(n).SequenceEqual(cat.Item(n)[pa.ItemLength..]));
        }
    }

    [Fact]
    public void LinearizedReluUsesTheFrozenMaskBroadcastOverTheBatch()
    {
        var relu = new Relu("relu", s_reference);
        var y = Tensor.FromArray([1f, -2f, 3f, -4f], 1, 1, 2, 2);
        relu.Forward(y, LayerMode.Evaluation);
        relu.FreezeMask();
        var v = Tensor.FromArray([5f, 6f, -7f, 8f, -1f, -1f, -1f, -1f], 2, 1, 2, 2);
        Assert.Equal([5f, 0f, -7f, 0f, -1f, 0f, -1f, 0f], relu.Forward(v, LayerMode.Linearized).Data);
        Assert.Equal([5f, 0f, -7f, 0f, -1f, 0f, -1f, 0f], relu.Backward(v, LayerMode.Linearized).Data);
        Assert.Throws<InvalidOperationException>(() => new Relu("r", s_reference).Forward(v, LayerMode.Linearized));
    }
}
