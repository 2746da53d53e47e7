using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>Channel concatenation cat([a, b], dim=1) of two activations of one layout.</summary>
public sealed class Concat(string name, ComputeBackend backend)
{
    private readonly TensorCache _outputs = new(backend);
    private readonly TensorCache _firstGradients = new(backend);
    private readonly TensorCache _secondGradients = new(backend);
    private int _firstChannels = -1;

    /// <summary>Layer name.</summary>
    public string Name { get; } = name;

    /// <summary>cat([a, b]) into a layer-owned buffer.</summary>
    public Tensor Forward(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Rank != 4 || b.Rank != 4 || a.N != b.N || a.H != b.H || a.W != b.W || a.Layout != b.Layout)
            throw new ArgumentException($"{Name}: cannot concatenate [{a.ShapeString}] {a.Layout} and [{b.ShapeString}] {b.Layout}.");
        var y = _outputs.Get(a.N, a.C + b.C, a.H, a.W, a.Layout);
        backend.Concat(a, b, y);
        _firstChannels = a.C;
        return y;
    }

    /// <summary>Splits <paramref name="dy"/> into the gradients of a and b (layer-owned buffers).</summary>
    public (Tensor First, Tensor Second) Backward(Tensor dy)
    {
        ArgumentNullException.ThrowIfNull(dy);
        if (_firstChannels < 0 || _firstChannels >= dy.C) throw new InvalidOperationException($"{Name}: Backward needs a Forward first.");
        var da = _firstGradients.Get(dy.N, _firstChannels, dy.H, dy.W, dy.Layout);
        var db = _secondGradients.Get(dy.N, dy.C - _firstChannels, dy.H, dy.W, dy.Layout);
        backend.Split(dy, da, db);
        return (da, db);
    }

    /// <summary>Drops the cached buffers.</summary>
    public void ReleaseBuffers()
    {
        _outputs.Clear();
        _firstGradients.Clear();
        _secondGradients.Clear();
    }
}
