using System.Runtime.InteropServices;

namespace MemGen.Native;

/// <summary>Owns one oneDNN object and destroys it with the matching <c>dnnl_*_destroy</c> function.</summary>
internal sealed class OneDnnHandle : SafeHandle
{
    /// <summary>Which kind of object, hence which destroy function.</summary>
    public enum Kind { PrimitiveDescriptor, Primitive, Memory, Attribute }

    private readonly Kind _kind;

    private OneDnnHandle(Kind kind, IntPtr handle) : base(IntPtr.Zero, ownsHandle: true)
    {
        _kind = kind;
        SetHandle(handle);
    }

    /// <summary>Takes ownership of <paramref name="handle"/> after the call that made it returned <paramref name="status"/>; throws on failure.</summary>
    public static OneDnnHandle Take(Kind kind, IntPtr handle, int status, string primitive, string call)
    {
        OneDnn.Check(status, primitive, call);
        if (handle == IntPtr.Zero) throw new OneDnnException(primitive, call + " (returned a null handle)", 5);
        return new OneDnnHandle(kind, handle);
    }

    /// <inheritdoc />
    public override bool IsInvalid => handle == IntPtr.Zero;

    /// <summary>The raw pointer (valid while this handle is alive).</summary>
    public IntPtr Pointer => handle;

    /// <inheritdoc />
    protected override bool ReleaseHandle() => _kind switch
    {
        Kind.PrimitiveDescriptor => OneDnnApi.dnnl_primitive_desc_destroy(handle),
        Kind.Primitive => OneDnnApi.dnnl_primitive_destroy(handle),
        Kind.Memory => OneDnnApi.dnnl_memory_destroy(handle),
        Kind.Attribute => OneDnnApi.dnnl_primitive_attr_destroy(handle),
        _ => -1,
    } == OneDnnApi.Success;
}

/// <summary>A zeroed block of unmanaged memory for the opaque structs the caller allocates (memory and op descriptors).</summary>
internal sealed unsafe class NativeBlock : IDisposable
{
    /// <summary>Allocates <paramref name="bytes"/> zeroed bytes.</summary>
    public NativeBlock(int bytes) => Pointer = NativeMemory.AllocZeroed((nuint)bytes);

    /// <summary>Start of the block.</summary>
    public void* Pointer { get; private set; }

    /// <inheritdoc />
    public void Dispose()
    {
        if (Pointer == null) return;
        NativeMemory.Free(Pointer);
        Pointer = null;
    }
}
