using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>ReLU, any layout. In <see cref="LayerMode.Linearized"/> it multiplies by the mask frozen with <see cref="FreezeMask"/>.</summary>
public sealed class Relu(string name, ComputeBackend backend)
{
    private readonly TensorCache _outputs = new(backend);
    private readonly FrozenMask _frozen = new(name, backend);
    private Tensor? _output;

    /// <summary>Layer name.</summary>
    public string Name { get; } = name;

    /// <summary>y = max(0, x) (or x·mask when linearized) into a layer-owned buffer.</summary>
    public Tensor Forward(Tensor x, LayerMode mode)
    {
        ArgumentNullException.ThrowIfNull(x);
        var y = _outputs.Get(x.N, x.C, x.H, x.W, x.Layout);
        if (mode == LayerMode.Linearized) backend.Mask(x, _frozen.For(x), y);
        else backend.Relu(x, y);
        _output = y;
        return y;
    }

    /// <summary>dx = dy·[y &gt; 0] from the last Forward (or dy·mask when linearized), in place: overwrites and returns <paramref name="dy"/>.</summary>
    public Tensor Backward(Tensor dy, LayerMode mode)
    {
        ArgumentNullException.ThrowIfNull(dy);
        var dx = dy;
        if (mode == LayerMode.Linearized)
        {
            backend.Mask(dy, _frozen.For(dy), dx);
        }
        else
        {
            if (_output is null || !_output.SameShape(dy) || _output.Layout != dy.Layout)
                throw new InvalidOperationException($"{Name}: Backward needs a Forward of the same shape first.");
            backend.ReluBackward(dy, _output, dx);
        }
        return dx;
    }

    /// <summary>Freezes the switch pattern [y &gt; 0] of the last Forward for <see cref="LayerMode.Linearized"/> passes.</summary>
    public void FreezeMask()
    {
        if (_output is null) throw new InvalidOperationException($"{Name}: FreezeMask needs a Forward first.");
        _frozen.Freeze(_output);
    }

    /// <summary>Drops the cached buffers.</summary>
    public void ReleaseBuffers()
    {
        _outputs.Clear();
        _output = null;
    }
}
