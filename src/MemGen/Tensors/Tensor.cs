using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace MemGen.Tensors;

/// <summary>
/// A dense float32 tensor in row-major (NCHW for images, OIHW for convolution weights) order. Its elements live in a
/// <see cref="TensorStorage"/>: a pinned host array (<c>new Tensor(shape)</c>, so native code can take its address
/// without copying) or a compute backend's device memory (<see cref="Compute.ComputeBackend.Zeros(int[])"/>). Element
/// access through <see cref="Data"/>, <see cref="Span"/> and <see cref="Item"/> needs host memory; device tensors are
/// read and written with <see cref="CopyTo(Span{float})"/> and <see cref="CopyFrom(ReadOnlySpan{float})"/>.
/// </summary>
public sealed class Tensor
{
    private readonly int[] _shape;
    private readonly float[]? _data;

    /// <summary>Creates a zero-filled host tensor of the given shape (rank 1 to 4).</summary>
    public Tensor(params int[] shape) : this(null, shape, TensorLayout.Nchw)
    {
    }

    /// <summary>
    /// A tensor over <paramref name="storage"/> (allocated here, in host memory, when null) with logical shape
    /// <paramref name="shape"/> stored in <paramref name="layout"/>. Backends create their tensors through this.
    /// </summary>
    internal Tensor(TensorStorage? storage, int[] shape, TensorLayout layout)
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
        if (layout != TensorLayout.Nchw && shape.Length != 4) throw new ArgumentException($"Layout {layout} needs a rank-4 shape.", nameof(layout));
        storage ??= new HostStorage((int)length);
        if (storage.Length != length)
            throw new ArgumentException($"Storage of {storage.Length} elements does not hold a tensor of shape [{string.Join(",", shape)}].", nameof(storage));
        _shape = (int[])shape.Clone();
        Storage = storage;
        _data = storage.HostArray;
        Layout = layout;
    }

    /// <summary>
    /// How the elements are physically ordered. <see cref="Shape"/> is always the logical (N,C,H,W) shape.
    /// </summary>
    public TensorLayout Layout { get; }

    /// <summary>Where the elements live.</summary>
    public TensorStorage Storage { get; }

    /// <summary>True when the elements are in host memory (<see cref="Data"/> and <see cref="Span"/> are usable).</summary>
    public bool IsHost => _data is not null;

    /// <summary>The elements, row-major (host tensors only).</summary>
    public float[] Data => _data ?? throw new InvalidOperationException(
        $"Tensor[{ShapeString}] lives in {Storage.Location} memory; copy it to the host (CopyTo, ToArray) to read its elements.");

    /// <summary>The dimensions.</summary>
    public ReadOnlySpan<int> Shape => _shape;

    /// <summary>Number of dimensions.</summary>
    public int Rank => _shape.Length;

    /// <summary>Total number of elements.</summary>
    public int Length => Storage.Length;

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

    /// <summary>The elements as a span (host tensors only).</summary>
    public Span<float> Span => Data;

    /// <summary>The address of the first element; valid for the tensor's lifetime because the array is pinned (host tensors only).</summary>
    public unsafe float* Pointer => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Data));

    /// <summary>The elements of batch item <paramref name="index"/> (host tensors only).</summary>
    public Span<float> Item(int index) => Data.AsSpan(index * ItemLength, ItemLength);

    /// <summary>A zero-filled tensor with the same shape and layout, in the same memory.</summary>
    public Tensor ZerosLike() => new(Storage.AllocateLike(Length), _shape, Layout);

    /// <summary>A deep copy in the same memory.</summary>
    public Tensor Clone()
    {
        var t = ZerosLike();
        Storage.CopyTo(t.Storage);
        return t;
    }

    /// <summary>Copies the elements from a span of the same length.</summary>
    public void CopyFrom(ReadOnlySpan<float> source)
    {
        if (source.Length != Length) throw new ArgumentException($"Length mismatch: tensor has {Length} elements, source {source.Length}.");
        Storage.CopyFrom(source, 0);
    }

    /// <summary>Writes <paramref name="source"/> into the elements starting at <paramref name="offset"/>.</summary>
    public void CopyFrom(ReadOnlySpan<float> source, int offset) => Storage.CopyFrom(source, offset);

    /// <summary>Copies all elements (physical order) into <paramref name="destination"/> of the same length.</summary>
    public void CopyTo(Span<float> destination)
    {
        if (destination.Length != Length) throw new ArgumentException($"Length mismatch: tensor has {Length} elements, destination {destination.Length}.");
        Storage.CopyTo(0, destination);
    }

    /// <summary>Copies the elements starting at <paramref name="offset"/> into <paramref name="destination"/>.</summary>
    public void CopyTo(int offset, Span<float> destination) => Storage.CopyTo(offset, destination);

    /// <summary>A host copy of the elements (physical order).</summary>
    public float[] ToArray()
    {
        var values = new float[Length];
        Storage.CopyTo(0, values);
        return values;
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
        return new Tensor(Storage, shape, TensorLayout.Nchw);
    }

    /// <summary>Creates a host tensor holding a copy of the given values.</summary>
    public static Tensor FromArray(ReadOnlySpan<float> values, params int[] shape)
    {
        var t = new Tensor(shape);
        t.CopyFrom(values);
        return t;
    }

    /// <summary>The shape as "a,b,c".</summary>
    public string ShapeString => string.Join(",", _shape);

    /// <inheritdoc />
    public override string ToString() => $"Tensor[{ShapeString}] {Layout} ({Storage.Location})";

    private int Dim(int axis, int rank)
    {
        if (_shape.Length != rank) throw new InvalidOperationException($"Tensor of shape [{ShapeString}] is not rank {rank}.");
        return _shape[axis];
    }
}
