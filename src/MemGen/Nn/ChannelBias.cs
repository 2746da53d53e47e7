using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// The bias of a convolution or linear layer: y = x + b_c per channel, added in place to the layer's output
/// ("<c>name.bias</c>", zero at initialization). A bias is constant in the layer's input, so a linearized pass
/// (<see cref="LayerMode.Linearized"/>, a Jacobian product) leaves the activation unchanged.
/// </summary>
public sealed class ChannelBias
{
    private readonly ComputeBackend _backend;

    /// <summary>Creates a zero bias "<paramref name="name"/>.bias" of <paramref name="channels"/> channels on <paramref name="backend"/>.</summary>
    public ChannelBias(string name, int channels, ComputeBackend backend)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentNullException.ThrowIfNull(backend);
        _backend = backend;
        Bias = new Parameter(name + ".bias", backend.Zeros(channels));
    }

    /// <summary>The bias and its gradient.</summary>
    public Parameter Bias { get; }

    /// <summary>Adds the bias to <paramref name="x"/> in place (not in a linearized pass) and returns it.</summary>
    public Tensor Forward(Tensor x, LayerMode mode)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Shape[1] != Bias.Value.Length)
            throw new ArgumentException($"{Bias.Name}: input has {x.Shape[1]} channels, the bias {Bias.Value.Length}.");
        if (mode != LayerMode.Linearized) _backend.AddChannelBias(x, Bias.Value, x);
        return x;
    }

    /// <summary>Writes the bias gradient Σ dy over items and pixels (overwriting it) when <paramref name="parameterGradients"/>; dy passes through unchanged.</summary>
    public Tensor Backward(Tensor dy, bool parameterGradients)
    {
        ArgumentNullException.ThrowIfNull(dy);
        if (parameterGradients) _backend.ChannelSums(dy, Bias.Gradient);
        return dy;
    }
}
