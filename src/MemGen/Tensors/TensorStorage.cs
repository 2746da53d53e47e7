namespace MemGen.Tensors;

/// <summary>
/// Where a tensor's elements live: a pinned host array (<see cref="HostStorage"/>) or the memory of a compute device
/// (a backend's own storage). Host↔device copies go through <see cref="CopyFrom"/> and <see cref="CopyTo(int, Span{float})"/>,
/// which is what callers use at the edges (loading a batch, saving a checkpoint, writing samples).
/// </summary>
public abstract class TensorStorage
{
    /// <summary>Records the element count.</summary>
    protected TensorStorage(int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        Length = length;
    }

    /// <summary>Number of float elements.</summary>
    public int Length { get; }

    /// <summary>The pinned host array holding the elements, or null when they live in device memory.</summary>
    public abstract float[]? HostArray { get; }

    /// <summary>Where the elements live, e.g. "host" or "cuda:0" (for messages).</summary>
    public abstract string Location { get; }

    /// <summary>Writes <paramref name="source"/> into elements <paramref name="offset"/>.. of this storage.</summary>
    public abstract void CopyFrom(ReadOnlySpan<float> source, int offset);

    /// <summary>Reads elements <paramref name="offset"/>.. of this storage into <paramref name="destination"/>.</summary>
    public abstract void CopyTo(int offset, Span<float> destination);

    /// <summary>New zero-filled storage of <paramref name="length"/> elements in the same memory.</summary>
    public abstract TensorStorage AllocateLike(int length);

    /// <summary>Copies all elements into <paramref name="destination"/> (same length, any memory).</summary>
    public void CopyTo(TensorStorage destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        if (destination.Length != Length)
            throw new ArgumentException($"Storage length mismatch: {Length} vs {destination.Length}.", nameof(destination));
        if (destination.HostArray is float[] host) CopyTo(0, host);
        else if (HostArray is float[] source) destination.CopyFrom(source, 0);
        else CopyToDevice(destination);
    }

    /// <summary>Device-to-device copy (neither side is host memory); storages of other kinds refuse.</summary>
    protected virtual void CopyToDevice(TensorStorage destination) =>
        throw new NotSupportedException($"Cannot copy {Location} memory to {destination.Location} memory directly.");

    /// <summary>Throws unless [offset, offset + count) lies inside the storage.</summary>
    protected void CheckRange(int offset, int count)
    {
        if (offset < 0 || count < 0 || (long)offset + count > Length)
            throw new ArgumentOutOfRangeException(nameof(offset), $"Elements [{offset}, {(long)offset + count}) are outside a storage of {Length}.");
    }
}

/// <summary>Elements in a pinned managed array, so native code can take their address without copying.</summary>
public sealed class HostStorage : TensorStorage
{
    private readonly float[] _array;

    /// <summary>Allocates <paramref name="length"/> zero-filled, pinned elements.</summary>
    public HostStorage(int length) : base(length) => _array = GC.AllocateArray<float>(length, pinned: true);

    /// <inheritdoc />
    public override float[] HostArray => _array;

    /// <inheritdoc />
    public override string Location => "host";

    /// <inheritdoc />
    public override void CopyFrom(ReadOnlySpan<float> source, int offset)
    {
        CheckRange(offset, source.Length);
        source.CopyTo(_array.AsSpan(offset));
    }

    /// <inheritdoc />
    public override void CopyTo(int offset, Span<float> destination)
    {
        CheckRange(offset, destination.Length);
        _array.AsSpan(offset, destination.Length).CopyTo(destination);
    }

    /// <inheritdoc />
    public override TensorStorage AllocateLike(int length) => new HostStorage(length);
}
