using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>What follows a convolution in a <see cref="ConditionedConvStage"/>.</summary>
internal enum ConditionedActivation
{
    /// <summary>A bias only: the linear output layer.</summary>
    None,

    /// <summary>A bias and SiLU (the first layer).</summary>
    Silu,

    /// <summary>Conditioned batch norm (affine, FiLM, SiLU); no convolution bias, since the norm's mean subtraction would remove it.</summary>
    Norm,
}

/// <summary>
/// One layer of the noise-conditioned UNet: conv 3×3, then a bias and SiLU, a conditioned batch norm, or a bias alone,
/// named "<c>prefix.conv…</c>" (weight and bias) and "<c>prefix.bn…</c>".
/// </summary>
internal sealed class ConditionedConvStage : IConvStage
{
    public ConditionedConvStage(string prefix, int inChannels, int outChannels, TensorLayout inLayout, TensorLayout outLayout,
        ConditionedActivation activation, int embedding, ComputeBackend backend, string convName, string normName)
    {
        Conv = new Conv2d($"{prefix}.{convName}", inChannels, outChannels, inLayout, outLayout, backend);
        if (activation == ConditionedActivation.Norm) Norm = new ConditionedBatchNorm($"{prefix}.{normName}", outChannels, embedding, backend);
        else Bias = new ChannelBias(Conv.Name, outChannels, backend);
        if (activation == ConditionedActivation.Silu) Activation = new Silu($"{prefix}.act", backend);
    }

    public Conv2d Conv { get; }
    public ChannelBias? Bias { get; }
    public ConditionedBatchNorm? Norm { get; }
    public Silu? Activation { get; }

    public IEnumerable<Parameter> Parameters =>
        Norm is not null ? [Conv.Weight, .. Norm.Parameters] : [Conv.Weight, Bias!.Bias];

    public IEnumerable<NamedTensor> Buffers => Norm?.Buffers ?? [];

    public void Initialize(DeterministicRng rng) => Conv.InitializeKaiming(rng);

    public Tensor Forward(Tensor x, LayerMode mode)
    {
        var h = Conv.Forward(x);
        if (Norm is not null) return Norm.Forward(h, mode);
        h = Bias!.Forward(h, mode);
        return Activation is null ? h : Activation.Forward(h, mode);
    }

    public Tensor? Backward(Tensor dy, LayerMode mode, bool parameterGradients, bool inputGradient = true)
    {
        var g = dy;
        if (Norm is not null)
        {
            g = Norm.Backward(g, mode, parameterGradients);
        }
        else
        {
            if (Activation is not null) g = Activation.Backward(g, mode);
            g = Bias!.Backward(g, parameterGradients);
        }
        return Conv.Backward(g, parameterGradients, inputGradient);
    }

    public void FreezeMask()
    {
        Norm?.FreezeMask();
        Activation?.FreezeMask();
    }

    public void ReleaseBuffers()
    {
        Conv.ReleaseBuffers();
        Norm?.ReleaseBuffers();
        Activation?.ReleaseBuffers();
    }

    public void Dispose() => Conv.Dispose();
}
