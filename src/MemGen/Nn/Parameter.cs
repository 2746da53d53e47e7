using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>A trainable tensor and its gradient, named after the layer it belongs to (e.g. "enc0.conv1.weight").</summary>
public sealed class Parameter
{
    /// <summary>Wraps <paramref name="value"/> and allocates a zero gradient of the same shape.</summary>
    public Parameter(string name, Tensor value)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(value);
        Name = name;
        Value = value;
        Gradient = value.ZerosLike();
    }

    /// <summary>Name used in checkpoints and error messages.</summary>
    public string Name { get; }

    /// <summary>The current value (plain row-major layout).</summary>
    public Tensor Value { get; }

    /// <summary>Gradient of the loss with respect to <see cref="Value"/>, written by the network's Backward.</summary>
    public Tensor Gradient { get; }
}

/// <summary>A named non-trainable tensor that is part of a network's state (e.g. batch-norm running sd).</summary>
/// <param name="Name">Name used in checkpoints.</param>
/// <param name="Value">The tensor.</param>
public sealed record NamedTensor(string Name, Tensor Value);
