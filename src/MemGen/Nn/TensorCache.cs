using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// Buffers of one role in a layer (its output, its input gradient), allocated once per logical shape and
/// layout in the backend's memory and reused on every later call with that shape (first touches of fresh
/// pages are slow, and device allocations synchronize).
/// </summary>
internal sealed class TensorCache(ComputeBackend backend)
{
    private readonly Dictionary<(int N, int C, int H, int W, TensorLayout Layout), Tensor> _tensors = [];

    /// <summary>The buffer for this shape, created zero-filled on first request. Contents are whatever the last user left.</summary>
    public Tensor Get(int n, int c, int h, int w, TensorLayout layout)
    {
        var key = (n, c, h, w, layout);
        if (!_tensors.TryGetValue(key, out var t))
        {
            t = backend.Zeros(n, c, h, w, layout);
            _tensors.Add(key, t);
        }
        return t;
    }

    /// <summary>Drops every buffer (they are reallocated on demand).</summary>
    public void Clear() => _tensors.Clear();
}
