using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>What follows a convolution in a <see cref="ConvStage"/>.</summary>
internal enum StageActivation
{
    /// <summary>Nothing: a linear output layer.</summary>
    None,

    /// <summary>ReLU only (the first layer of both networks).</summary>
    Relu,

    /// <summary>Bias-free batch norm fused with ReLU.</summary>
    BatchNormRelu,
}

/// <summary>One [conv 3×3, (BF-BN), (ReLU)] layer of a network, named "<c>prefix.conv</c>", "<c>prefix.bn</c>", "<c>prefix.relu</c>".</summary>
internal sealed class ConvStage : IConvStage
{
    public ConvStage(string prefix, int inChannels, int outChannels, TensorLayout inLayout, TensorLayout outLayout,
        StageActivation activation, ComputeBackend backend, string convName = "conv", string normName = "bn")
    {
        Conv = new Conv2d($"{prefix}.{convName}", inChannels, outChannels, inLayout, outLayout, backend);
        if (activation == StageActivation.BatchNormRelu) Norm = new BiasFreeBatchNorm($"{prefix}.{normName}", outChannels, fusedRelu: true, backend);
        if (activation == StageActivation.Relu) Relu = new Relu($"{prefix}.relu", backend);
    }

    public Conv2d Conv { get; }
    public BiasFreeBatchNorm? Norm { get; }
    public Relu? Relu { get; }

    public IEnumerable<Parameter> Parameters => Norm is null ? [Conv.Weight] : [Conv.Weight, Norm.Gamma];
    public IEnumerable<NamedTensor> Buffers => Norm is null ? [] : [Norm.RunningSd];

    public void Initialize(DeterministicRng rng)
    {
        Conv.InitializeKaiming(rng);
        Norm?.InitializeGamma(rng);
    }

    public Tensor Forward(Tensor x, LayerMode mode)
    {
        var h = Conv.Forward(x);
        if (Norm is not null) return Norm.Forward(h, mode);
        if (Relu is not null) return Relu.Forward(h, mode);
        return h;
    }

    public Tensor? Backward(Tensor dy, LayerMode mode, bool parameterGradients, bool inputGradient = true)
    {
        var g = dy;
        if (Norm is not null) g = Norm.Backward(g, mode, parameterGradients);
        else if (Relu is not null) g = Relu.Backward(g, mode);
        return Conv.Backward(g, parameterGradients, inputGradient);
    }

    /// <summary>Makes the convolution write its input gradient into <paramref name="cache"/>.</summary>
    public void ShareInputGradients(TensorCache cache) => Conv.InputGradients = cache;

    public void FreezeMask()
    {
        Norm?.FreezeMask();
        Relu?.FreezeMask();
    }

    public void ReleaseBuffers()
    {
        Conv.ReleaseBuffers();
        Norm?.ReleaseBuffers();
        Relu?.ReleaseBuffers();
    }

    public void Dispose() => Conv.Dispose();
}
