using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// SiLU, y = x·sigmoid(x) (any shape and layout), the activation of the noise-conditioned networks. It keeps a reference
/// to its input for the backward pass; in <see cref="LayerMode.Linearized"/> it multiplies by the derivative frozen at the
/// linearization point (<see cref="FreezeMask"/>).
/// </summary>
public sealed class Silu(string name, ComputeBackend backend)
{
    private readonly Dictionary<(int Rank, int N, int C, int H, int W, TensorLayout Layout), Tensor> _outputs = [];
    private readonly FrozenMask _frozen = new(name, backend);
    private Tensor? _input;

    /// <summary>Layer name.</summary>
    public string Name { get; } = name;

    /// <summary>y = silu(x) (or x·derivative when linearized) into a layer-owned buffer.</summary>
    public Tensor Forward(Tensor x, LayerMode mode)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = Output(x);
        if (mode == LayerMode.Linearized)
        {
            backend.Mask(x, _frozen.For(x), y);
            return y;
        }
        backend.Silu(x, y);
        _input = x;
        return y;
    }

    /// <summary>dx = dy·silu'(x) of the last Forward (or dy·derivative when linearized), in place: overwrites and returns <paramref name="dy"/>.</summary>
    public Tensor Backward(Tensor dy, LayerMode mode)
    {
        ArgumentNullException.ThrowIfNull(dy);
        if (mode == LayerMode.Linearized)
        {
            backend.Mask(dy, _frozen.For(dy), dy);
            return dy;
        }
        if (_input is null || !_input.SameShape(dy) || _input.Layout != dy.Layout)
            throw new InvalidOperationException($"{Name}: Backward needs a Forward of the same shape first.");
        backend.SiluBackward(dy, _input, dy);
        return dy;
    }

    /// <summary>Freezes silu'(x) of the last Forward's input for <see cref="LayerMode.Linearized"/> passes.</summary>
    public void FreezeMask()
    {
        var input = _input ?? throw new InvalidOperationException($"{Name}: FreezeMask needs a Forward first.");
        _frozen.Freeze(input, d => backend.SiluDerivative(input, d));
    }

    /// <summary>Drops the cached buffers.</summary>
    public void ReleaseBuffers()
    {
        _outputs.Clear();
        _input = null;
    }

    private Tensor Output(Tensor x)
    {
        var key = (x.Rank, x.Shape[0], x.Shape[1], x.Rank == 4 ? x.H : 1, x.Rank == 4 ? x.W : 1, x.Layout);
        if (!_outputs.TryGetValue(key, out var y))
        {
            y = x.Rank == 4 ? backend.Zeros(x.N, x.C, x.H, x.W, x.Layout) : backend.Zeros(x.Shape.ToArray());
            _outputs.Add(key, y);
        }
        return y;
    }
}
