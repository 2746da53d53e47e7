using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MemGen.Tensors;

/// <summary>
/// A dense float32 tensor in row-major (NCHW for images, OIHW for convolution weights) order.
/// The storage is a pinned array so native code can take its address without copying.
/// </summary>
public sealed class Tensor
{
    private readonly int[] _shape;

    /// <summary>Creates a zero-filled tensor of the given shape (rank 1 to 4).</summary>
    public Tensor(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Length is < 1 or > 4)
            throw new ArgumentException($"Tensor rank must be 1..4, got {shape.Length}.", nameof(shape));
        long length = 1;
        foreach (var s in shape)
        {
            if (s <= 0) throw new ArgumentException($"Tensor dimensions must be positive, got [{string.Join(",", shape)}].", nameof(shape));
            length *= s;
        }
        if (length > Array.MaxLength) throw new ArgumentException($"Tensor of shape [{string.Join(",", shape)}] is too large.", nameof(shape));
        _shape = (int[])shape.Clone();
        Data = GC.AllocateArray<float>((int)length, pinned: true);
    }

    /// <summary>Wraps an existing pinned array (used by loaders that allocate once).</summary>
    private Tensor(float[] pinnedData, int[] shape, TensorLayout layout)
    {
        _shape = shape;
        Data = pinnedData;
        Layout = layout;
    }

    /// <summary>
    /// Creates a zero-filled rank-4 tensor of logical shape (n,c,h,w) stored in oneDNN's blocked
    /// nChw16c layout (c must be a multiple of 16).
    /// </summary>
    public static Tensor Blocked(int n, int c, int h, int w)
    {
        if (c % TensorLayouts.BlockSize != 0)
            throw new ArgumentException($"Blocked layout needs channels divisible by {TensorLayouts.BlockSize}, got {c}.");
        var t = new Tensor(n, c, h, w);
        return new Tensor(t.Data, t._shape, TensorLayout.Nchw16c);
    }

    /// <summary>
    /// How the elements are physically ordered. <see cref="Shape"/> is always the logical (N,C,H,W) shape.
    /// </summary>
    public TensorLayout Layout { get; } = TensorLayout.Nchw;

    /// <summary>The elements, row-major.</summary>
    public float[] Data { get; }

    /// <summary>The dimensions.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Total number of elements.</summary>
    public int Length => Data.Length;

    /// <summary>Batch size (dimension 0 of a rank-4 tensor).</summary>
    public int N => Dim(0, 4);

    /// <summary>Channels (dimension 1 of a rank-4 tensor).</summary>
    public int C => Dim(1, 4);

    /// <summary>Height (dimension 2 of a rank-4 tensor).</summary>
    public int H => Dim(2, 4);

    /// <summary>Width (dimension 3 of a rank-4 tensor).</summary>
    public int W => Dim(3, 4);

    /// <summary>Elements per batch item (product of all dimensions but the first).</summary>
    public int ItemLength => Length / _shape[0];

    /// <summary>The elements as a span.</summary>
    public Span<float> Span => Data;

    /// <summary>The address of the first element; valid for the tensor's lifetime because the array is pinned.</summary>
    public unsafe float* Pointer => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Data));

    /// <summary>The elements of batch item <paramref name="index"/>.</summary>
    public Span<float> Item(int index) => Data.AsSpan(index * ItemLength, ItemLength);

    /// <summary>A zero-filled tensor with the same shape.</summary>
    public Tensor ZerosLike() => Layout == TensorLayout.Nchw ? new(_shape) : Blocked(N, C, H, W);

    /// <summary>A deep copy.</summary>
    public Tensor Clone()
    {
        var t = ZerosLike();
        Data.AsSpan().CopyTo(t.Data);
        return t;
    }

    /// <summary>Copies the elements from a span of the same length.</summary>
    public void CopyFrom(ReadOnlySpan<float> source)
    {
        if (source.Length != Length) throw new ArgumentException($"Length mismatch: tensor has {Length} elements, source {source.Length}.");
        source.CopyTo(Data);
    }

    /// <summary>True when the shapes are equal.</summary>
    public bool SameShape(Tensor other) => _shape.AsSpan().SequenceEqual(other._shape);

    /// <summary>Throws unless <paramref name="other"/> has the same shape and layout (names both in the message).</summary>
    public void RequireSameShape(Tensor other, string what)
    {
        if (!SameShape(other) || Layout != other.Layout)
            throw new ArgumentException($"{what}: shape/layout mismatch [{ShapeString}] {Layout} vs [{other.ShapeString}] {other.Layout}.");
    }

    /// <summary>A tensor that shares this one's storage under another shape with the same element count.</summary>
    public Tensor Reshape(params int[] shape)
    {
        long length = 1;
        foreach (var s in shape) length *= s;
        if (length != Length) throw new ArgumentException($"Cannot reshape [{ShapeString}] to [{string.Join(",", shape)}].");
        if (Layout != TensorLayout.Nchw) throw new InvalidOperationException("Only plain-layout tensors can be reshaped.");
        return new Tensor(Data, (int[])shape.Clone(), TensorLayout.Nchw);
    }

    /// <summary>Creates a tensor holding a copy of the given values.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape)
    {
        var t = new Tensor(shape);
        t.CopyFrom(values);
        return t;
    }

    /// <summary>The shape as "a,b,c".</summary>
    public string ShapeString => string.Join(",", _shape);

    /// <inheritdoc />
    public override string ToString() => $"Tensor[{ShapeString}] {Layout}";

    private int Dim(int axis, int rank)
    {
        if (_shape.Length != rank) throw new InvalidOperationException($"Tensor of shape [{ShapeString}] is not rank {rank}.");
        return _shape[axis];
    }
}
