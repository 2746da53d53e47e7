using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Nn;
using MemGen.Tensors;
using static MemGen.Tests.Nn.GradientCheck;

namespace MemGen.Tests.Nn;

/// <summary>
/// The layers of the noise-conditioned network (docs/science.md §9.3) against central finite differences, in both
/// activation layouts where they take images: bias, SiLU, linear, the noise embedding and the conditioned batch norm
/// (every input: activations, γ, β, the FiLM projection and the embedding it reads). Tolerances as
/// <see cref="LayerGradientTests"/>; these layers are smooth (no kinks), so every step size sees only rounding and O(ε²).
/// </summary>
public class ConditionedLayerTests
{
    private const double Epsilon = 1e-2;
    private const double Tolerance = 2e-3;
    private static readonly CpuBackend s_backend = new(new ReferenceConvolutionFactory());

    private static Tensor Activation(int n, int c, int h, int w, TensorLayout layout) =>
        layout == TensorLayout.Nchw ? new Tensor(n, c, h, w) : BlockedLayout.Allocate(n, c, h, w, TensorLayout.Nchw16c);

    [Theory]
    [InlineData(TensorLayout.Nchw, 3)]
    [InlineData(TensorLayout.Nchw16c, 16)]
    public void BiasAndSiluBackwardMatchFiniteDifferences(TensorLayout layout, int channels)
    {
        var rng = new DeterministicRng(31, channels);
        var bias = new ChannelBias("conv", channels, s_backend);
        Random(bias.Bias.Value, rng);
        var x = Random(Activation(2, channels, 3, 4, layout), rng);
        var scratch = x.ZerosLike();
        Tensor? dx = null;
        Check(() =>
        {
            x.Storage.CopyTo(scratch.Storage); // the bias is added in place
            return bias.Forward(scratch, LayerMode.Training);
        }, dy => dx = bias.Backward(dy, parameterGradients: true),
            [new("bias input", x, () => dx!), new("bias", bias.Bias.Value, () => bias.Bias.Gradient)], Epsilon, Tolerance, 31);
        Assert.Equal("conv.bias", bias.Bias.Name);

        var silu = new Silu("act", s_backend);
        Check(() => silu.Forward(x, LayerMode.Training), dy => dx = silu.Backward(dy, LayerMode.Training), [new("silu input", x, () => dx!)], Epsilon, Tolerance, 32);
        // Definition: y = x/(1 + e^−x).
        var y = BlockedLayout.ToPlain(silu.Forward(x, LayerMode.Training));
        var plain = BlockedLayout.ToPlain(x);
        for (int i = 0; i < y.Length; i++) Assert.Equal(plain.Data[i] / (1 + Math.Exp(-plain.Data[i])), y.Data[i], 1e-6);
    }

    [Fact]
    public void LinearizedSiluAndBiasAreTheDerivativeAtThePoint()
    {
        var silu = new Silu("act", s_backend);
        var point = Tensor.FromArray([-2f, 0f, 0.5f, 3f], 1, 1, 2, 2);
        silu.Forward(point, LayerMode.Evaluation);
        silu.FreezeMask();
        var v = Tensor.FromArray([1f, 1f, 1f, 1f, 2f, -1f, 0f, 4f], 2, 1, 2, 2);
        var jv = silu.Forward(v, LayerMode.Linearized).Clone();
        for (int i = 0; i < v.Length; i++)
        {
            double u = point.Data[i % 4], s = 1 / (1 + Math.Exp(-u));
            Assert.Equal(v.Data[i] * (s + u * s * (1 - s)), jv.Data[i], 1e-6);
        }
        var bias = new ChannelBias("b", 1, s_backend);
        bias.Bias.Value.Data[0] = 5f;
        Assert.Equal(v.Data, bias.Forward(v.Clone(), LayerMode.Linearized).Data); // constant in the input: no term in J·v
        Assert.Throws<InvalidOperationException>(() => new Silu("s", s_backend).Forward(v, LayerMode.Linearized));
    }

    [Fact]
    public void LinearBackwardMatchesFiniteDifferencesAndItsDefinition()
    {
        var rng = new DeterministicRng(33);
        var linear = new Linear("fc", 5, 3, s_backend);
        linear.InitializeFanIn(rng);
        Random(linear.Bias.Bias.Value, rng);
        var x = Random(new Tensor(4, 5), rng);
        Tensor? dx = null;
        Check(() => linear.Forward(x, LayerMode.Training), dy => dx = linear.Backward(dy, parameterGradients: true, inputGradient: true),
            [new("input", x, () => dx!), new("weight", linear.Weight.Value, () => linear.Weight.Gradient), new("bias", linear.Bias.Bias.Value, () => linear.Bias.Bias.Gradient)],
            Epsilon, Tolerance, 33);
        var y = linear.Forward(x, LayerMode.Training);
        for (int n = 0; n < 4; n++)
            for (int o = 0; o < 3; o++)
            {
                double expected = linear.Bias.Bias.Value.Data[o];
                for (int i = 0; i < 5; i++) expected += (double)linear.Weight.Value.Data[o * 5 + i] * x.Data[n * 5 + i];
                Assert.Equal(expected, y.Data[n * 3 + o], 1e-5);
            }
        Assert.Equal(["fc.weight", "fc.bias"], linear.Parameters.Select(p => p.Name));
        Assert.Equal([3, 5], linear.Weight.Value.Shape.ToArray());
    }

    [Fact]
    public void NoiseEmbeddingFeaturesFollowTheirFormulaAndItsMlpMatchesFiniteDifferences()
    {
        var embedding = new NoiseEmbedding("emb", 6, s_backend);
        var omega = NoiseEmbedding.Frequencies(3);
        Assert.Equal(2 * Math.PI / 8, omega[0], 12);
        Assert.Equal(2 * Math.PI * 16, omega[2], 9);
        Assert.Equal(2 * Math.PI * Math.Sqrt(2), omega[1], 9); // geometric mean of 1/8 and 16
        double[] labels = [0.25 * Math.Log(0.3), 0.25 * Math.Log(2.0)];
        var features = embedding.Features(labels);
        for (int n = 0; n < 2; n++)
            for (int k = 0; k < 3; k++)
            {
                Assert.Equal(Math.Cos(omega[k] * labels[n]), features[n * 6 + k], 6);
                Assert.Equal(Math.Sin(omega[k] * labels[n]), features[n * 6 + 3 + k], 6);
            }

        var rng = new DeterministicRng(34);
        embedding.Initialize(rng);
        foreach (var p in embedding.Parameters.Where(p => p.Name.EndsWith(".bias", StringComparison.Ordinal))) Random(p.Value, rng, 0.3f);
        var variables = embedding.Parameters.Select(p => new CheckedVariable(p.Name, p.Value, () => p.Gradient)).ToList();
        Check(() => embedding.Forward(labels), dy => embedding.Backward(dy), variables, Epsilon, Tolerance, 34);
        Assert.Equal(["emb.fc1.weight", "emb.fc1.bias", "emb.fc2.weight", "emb.fc2.bias"], embedding.Parameters.Select(p => p.Name));
    }

    public static TheoryData<TensorLayout, int, LayerMode> NormCases => new()
    {
        { TensorLayout.Nchw, 3, LayerMode.Training },
        { TensorLayout.Nchw16c, 16, LayerMode.Training },
        { TensorLayout.Nchw, 3, LayerMode.Evaluation },
        { TensorLayout.Nchw16c, 16, LayerMode.Evaluation },
    };

    [Theory]
    [MemberData(nameof(NormCases))]
    public void ConditionedBatchNormBackwardMatchesFiniteDifferences(TensorLayout layout, int channels, LayerMode mode)
    {
        var rng = new DeterministicRng(35, channels);
        const int embeddingWidth = 4;
        var norm = new ConditionedBatchNorm("bn", channels, embeddingWidth, s_backend);
        Random(norm.Gamma.Value, rng);
        Random(norm.Beta.Value, rng);
        Random(norm.Film.Weight.Value, rng, 0.3f);
        Random(norm.Film.Bias.Bias.Value, rng, 0.3f);
        Random(norm.RunningMean.Value, rng, 0.5f);
        for (int c = 0; c < channels; c++) norm.RunningSd.Value.Data[c] = 0.5f + c % 3;
        var embedding = Random(new Tensor(3, embeddingWidth), rng);
        var x = Random(Activation(3, channels, 3, 4, layout), rng);
        for (int i = 0; i < x.Length; i++) x.Data[i] += 0.7f;
        var (mean, sd) = (norm.RunningMean.Value.Clone(), norm.RunningSd.Value.Clone());
        Tensor? dx = null;
        Tensor Forward()
        {
            if (mode == LayerMode.Training)
            {
                // Training passes move the running statistics; keep them fixed so every pass is the same function.
                mean.Storage.CopyTo(norm.RunningMean.Value.Storage);
                sd.Storage.CopyTo(norm.RunningSd.Value.Storage);
            }
            norm.Condition(embedding);
            return norm.Forward(x, mode);
        }
        var variables = new List<CheckedVariable>
        {
            new("input", x, () => dx!),
            new("embedding", embedding, () => norm.EmbeddingGradient),
        };
        variables.AddRange(norm.Parameters.Select(p => new CheckedVariable(p.Name, p.Value, () => p.Gradient)));
        Check(Forward, dy => dx = norm.Backward(dy, mode, parameterGradients: true), variables, 1e-3, Tolerance, 35);
        Assert.Equal(["bn.gamma", "bn.beta", "bn.film.weight", "bn.film.bias"], norm.Parameters.Select(p => p.Name));
        Assert.Equal(["bn.running_mean", "bn.running_sd"], norm.Buffers.Select(b => b.Name));
    }

    [Fact]
    public void ConditionedBatchNormFollowsItsDefinitionAndItsLinearizationIsItsDerivative()
    {
        var rng = new DeterministicRng(36);
        var norm = new ConditionedBatchNorm("bn", 2, 2, s_backend);
        Random(norm.Gamma.Value, rng);
        Random(norm.Beta.Value, rng);
        Random(norm.Film.Weight.Value, rng, 0.5f);
        var embedding = Random(new Tensor(2, 2), rng);
        var x = Random(new Tensor(2, 2, 2, 3), rng);
        norm.Condition(embedding);
        var y = norm.Forward(x, LayerMode.Training).Clone();
        var film = norm.Film.Forward(embedding, LayerMode.Training).Clone();
        for (int c = 0; c < 2; c++)
        {
            var values = Enumerable.Range(0, 2).SelectMany(n => Enumerable.Range(0, 6).Select(p => (double)x.Data[(n * 2 + c) * 6 + p])).ToArray();
            double mu = values.Average(), sd = Math.Sqrt(values.Sum(v => (v - mu) * (v - mu)) / values.Length + 1e-5);
            for (int n = 0; n < 2; n++)
                for (int p = 0; p < 6; p++)
                {
                    int i = (n * 2 + c) * 6 + p;
                    double h = norm.Gamma.Value.Data[c] * (x.Data[i] - mu) / sd + norm.Beta.Value.Data[c];
                    double u = h * (1 + film.Data[n * 4 + c]) + film.Data[n * 4 + 2 + c];
                    Assert.Equal(u / (1 + Math.Exp(-u)), y.Data[i], 1e-5);
                }
            Assert.Equal(0.1 * mu, norm.RunningMean.Value.Data[c], 1e-6);
            Assert.Equal(0.9 + 0.1 * sd, norm.RunningSd.Value.Data[c], 1e-6);
        }

        // Linearized at one image: multiplying by the frozen derivative equals central differences of the evaluation pass.
        var point = Random(new Tensor(1, 2, 2, 3), rng);
        var one = Random(new Tensor(1, 2), rng);
        norm.Condition(one);
        norm.Forward(point, LayerMode.Evaluation);
        norm.FreezeMask();
        var v = Random(new Tensor(1, 2, 2, 3), rng);
        var jv = norm.Forward(v, LayerMode.Linearized).Clone();
        const float h2 = 1e-3f;
        var plus = point.Clone();
        var minus = point.Clone();
        for (int i = 0; i < v.Length; i++)
        {
            plus.Data[i] += h2 * v.Data[i];
            minus.Data[i] -= h2 * v.Data[i];
        }
        norm.Condition(one);
        var fPlus = norm.Forward(plus, LayerMode.Evaluation).Clone();
        var fMinus = norm.Forward(minus, LayerMode.Evaluation).Clone();
        for (int i = 0; i < v.Length; i++) Assert.Equal((fPlus.Data[i] - fMinus.Data[i]) / (2 * h2), jv.Data[i], 2e-3);
        Assert.Throws<InvalidOperationException>(() => new ConditionedBatchNorm("n", 2, 2, s_backend).Forward(x, LayerMode.Training)); // no Condition yet
    }
}
