using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>2×2 average pooling, stride 2 (H and W even), in the backend's activation layout.</summary>
public sealed class AvgPool2d(string name, ComputeBackend backend)
{
    private readonly TensorCache _outputs = new(backend);
    private readonly TensorCache _inputGradients = new(backend);

    /// <summary>Layer name.</summary>
    public string Name { get; } = name;

    /// <summary>y[h,w] = ¼·Σ x[2h+i, 2w+j] into a layer-owned buffer.</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4 || x.H % 2 != 0 || x.W % 2 != 0)
            throw new ArgumentException($"{Name}: input must be [N,C,H,W] with even H and W, got [{x.ShapeString}].");
        var y = _outputs.Get(x.N, x.C, x.H / 2, x.W / 2, x.Layout);
        backend.AveragePool(x, y);
        return y;
    }

    /// <summary>dx[2h+i, 2w+j] = ¼·dy[h,w] into a layer-owned buffer.</summary>
    public Tensor Backward(Tensor dy)
    {
        ArgumentNullException.ThrowIfNull(dy);
        var dx = _inputGradients.Get(dy.N, dy.C, dy.H * 2, dy.W * 2, dy.Layout);
        backend.AveragePoolBackward(dy, dx);
        return dx;
    }

    /// <summary>Drops the cached buffers.</summary>
    public void ReleaseBuffers()
    {
        _outputs.Clear();
        _inputGradients.Clear();
    }
}
