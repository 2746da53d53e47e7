using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// One [conv 3×3, normalization, activation] layer of a UNet as <see cref="UnetBody{TStage}"/> wires it: the bias-free
/// <see cref="ConvStage"/> or the noise-conditioned <see cref="ConditionedConvStage"/>.
/// </summary>
internal interface IConvStage : IDisposable
{
    /// <summary>The convolution.</summary>
    Conv2d Conv { get; }

    /// <summary>Trainable tensors, in checkpoint order.</summary>
    IEnumerable<Parameter> Parameters { get; }

    /// <summary>Non-trainable state (running statistics), in checkpoint order.</summary>
    IEnumerable<NamedTensor> Buffers { get; }

    /// <summary>Draws the initial weights from <paramref name="rng"/>.</summary>
    void Initialize(DeterministicRng rng);

    /// <summary>The stage applied to <paramref name="x"/>.</summary>
    Tensor Forward(Tensor x, LayerMode mode);

    /// <summary>Back-propagates <paramref name="dy"/>; returns the input gradient (null when not asked for).</summary>
    Tensor? Backward(Tensor dy, LayerMode mode, bool parameterGradients, bool inputGradient = true);

    /// <summary>Freezes the activation masks at the current point (linearization).</summary>
    void FreezeMask();

    /// <summary>Frees the buffers kept between forward and backward.</summary>
    void ReleaseBuffers();
}
