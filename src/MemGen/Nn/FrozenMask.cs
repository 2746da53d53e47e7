using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// The diagonal Jacobian of an elementwise layer frozen at a linearization point (one item or a batch), in the backend's
/// memory: the 0/1 switch pattern of a ReLU, or the derivative of a smooth activation (SiLU, conditioned batch norm).
/// </summary>
internal sealed class FrozenMask(string layer, ComputeBackend backend)
{
    private Tensor? _mask;

    /// <summary>Records [output &gt; 0] of the layer's last pass.</summary>
    public void Freeze(Tensor output)
    {
        if (_mask is null || !_mask.SameShape(output) || _mask.Layout != output.Layout) _mask = output.ZerosLike();
        backend.PositiveMask(output, _mask);
    }

    /// <summary>Records the derivative of a smooth layer at its last pass: <paramref name="write"/> fills a tensor shaped like <paramref name="like"/>.</summary>
    public void Freeze(Tensor like, Action<Tensor> write)
    {
        if (_mask is null || !_mask.SameShape(like) || _mask.Layout != like.Layout) _mask = like.ZerosLike();
        write(_mask);
    }

    /// <summary>The mask, checked against an activation it will multiply (same C,H,W and layout; batch equal or mask batch 1).</summary>
    public Tensor For(Tensor x)
    {
        if (_mask is null) throw new InvalidOperationException($"{layer}: no frozen ReLU mask; linearize the network first.");
        bool ok = x.Rank == 4 && x.C == _mask.C && x.H == _mask.H && x.W == _mask.W && x.Layout == _mask.Layout
            && (_mask.N == 1 || _mask.N == x.N);
        if (!ok)
            throw new ArgumentException($"{layer}: activation [{x.ShapeString}] {x.Layout} does not fit the mask frozen at [{_mask.ShapeString}] {_mask.Layout}.");
        return _mask;
    }
}
