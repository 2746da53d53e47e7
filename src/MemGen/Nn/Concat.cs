using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// Channel concatenation cat([a, b], dim=1) of two activations of one layout. Per batch item both layouts
/// store channels (or 16-channel blocks) outermost, so each item is a's item followed by b's item
/// (the blocked layout needs a's channels divisible by 16).
/// </summary>
public sealed class Concat(string name)
{
    private readonly TensorCache _outputs = new();
    private readonly TensorCache _firstGradients = new();
    private readonly TensorCache _secondGradients = new();
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
        if (a.Layout == TensorLayout.Nchw16c && a.C % TensorLayouts.BlockSize != 0)
            throw new ArgumentException($"{Name}: blocked concatenation needs the first input's channels divisible by {TensorLayouts.BlockSize}.");
        var y = _outputs.Get(a.N, a.C + b.C, a.H, a.W, a.Layout);
        int ia = a.ItemLength, ib = b.ItemLength;
        for (int n = 0; n < a.N; n++)
        {
            a.Data.AsSpan(n * ia, ia).CopyTo(y.Data.AsSpan(n * (ia + ib), ia));
            b.Data.AsSpan(n * ib, ib).CopyTo(y.Data.AsSpan(n * (ia + ib) + ia, ib));
        }
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
        int ia = da.ItemLength, ib = db.ItemLength;
        for (int n = 0; n < dy.N; n++)
        {
            dy.Data.AsSpan(n * (ia + ib), ia).CopyTo(da.Data.AsSpan(n * ia, ia));
            dy.Data.AsSpan(n * (ia + ib) + ia, ib).CopyTo(db.Data.AsSpan(n * ib, ib));
        }
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
