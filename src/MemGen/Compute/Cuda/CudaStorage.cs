using System.Runtime.InteropServices;
using MemGen.Tensors;

namespace MemGen.Compute.Cuda;

/// <summary>
/// Tensor elements in a CUDA device's memory (one cudaMalloc each). Host copies go through cudaMemcpy, which waits
/// for the kernels queued before it. The memory is freed when the storage is no longer reachable (a SafeHandle;
/// the garbage collector is told how much device memory it holds so it collects in time).
/// </summary>
internal sealed class CudaStorage : TensorStorage
{
    private readonly DeviceMemory _memory;

    public CudaStorage(CudaBackend backend, int length) : base(length)
    {
        Backend = backend;
        _memory = DeviceMemory.Allocate(backend, (nuint)length * sizeof(float));
    }

    /// <summary>The backend whose device holds the elements.</summary>
    public CudaBackend Backend { get; }

    /// <summary>The device address of element 0 (valid while this storage is reachable).</summary>
    public IntPtr Pointer => _memory.DangerousGetHandle();

    /// <inheritdoc />
    public override float[]? HostArray => null;

    /// <inheritdoc />
    public override string Location => Backend.Name;

    /// <inheritdoc />
    public override unsafe void CopyFrom(ReadOnlySpan<float> source, int offset)
    {
        CheckRange(offset, source.Length);
        if (source.IsEmpty) return;
        Backend.MakeCurrent();
        fixed (float* p = source)
            CudaApi.Check(CudaApi.cudaMemcpy(Pointer + offset * sizeof(float), (IntPtr)p, (nuint)source.Length * sizeof(float), CudaApi.MemcpyHostToDevice), "cudaMemcpy(host to device)");
        GC.KeepAlive(this);
    }

    /// <inheritdoc />
    public override unsafe void CopyTo(int offset, Span<float> destination)
    {
        CheckRange(offset, destination.Length);
        if (destination.IsEmpty) return;
        Backend.MakeCurrent();
        fixed (float* p = destination)
            CudaApi.Check(CudaApi.cudaMemcpy((IntPtr)p, Pointer + offset * sizeof(float), (nuint)destination.Length * sizeof(float), CudaApi.MemcpyDeviceToHost), "cudaMemcpy(device to host)");
        GC.KeepAlive(this);
    }

    /// <inheritdoc />
    public override TensorStorage AllocateLike(int length) => new CudaStorage(Backend, length);

    /// <inheritdoc />
    protected override void CopyToDevice(TensorStorage destination)
    {
        if (destination is not CudaStorage target)
        {
            base.CopyToDevice(destination);
            return;
        }
        Backend.MakeCurrent();
        CudaApi.Check(CudaApi.cudaMemcpy(target.Pointer, Pointer, (nuint)Length * sizeof(float), CudaApi.MemcpyDeviceToDevice), "cudaMemcpy(device to device)");
        GC.KeepAlive(this);
        GC.KeepAlive(target);
    }

    /// <summary>One cudaMalloc'd block, freed by cudaFree when released.</summary>
    private sealed class DeviceMemory : SafeHandle
    {
        private readonly int _device;
        private readonly long _bytes;

        private DeviceMemory(IntPtr pointer, int device, long bytes) : base(IntPtr.Zero, ownsHandle: true)
        {
            SetHandle(pointer);
            _device = device;
            _bytes = bytes;
            if (bytes > 0) GC.AddMemoryPressure(bytes);
        }

        public override bool IsInvalid => handle == IntPtr.Zero;

        public static DeviceMemory Allocate(CudaBackend backend, nuint bytes)
        {
            backend.MakeCurrent();
            nuint size = Math.Max(bytes, 4);
            int status = CudaApi.cudaMalloc(out var pointer, size);
            if (status == CudaApi.ErrorMemoryAllocation)
            {
                // Unreachable tensors may still hold device memory until the collector finalizes them.
                CudaApi.cudaGetLastError();
                GC.Collect();
                GC.WaitForPendingFinalizers();
                status = CudaApi.cudaMalloc(out pointer, size);
            }
            CudaApi.Check(status, $"cudaMalloc({size} bytes)");
            var memory = new DeviceMemory(pointer, backend.Index, (long)size);
            CudaApi.Check(CudaApi.cudaMemset(pointer, 0, size), "cudaMemset");
            return memory;
        }

        protected override bool ReleaseHandle()
        {
            // Finalizer threads have no current device: select it, then free (status ignored: nothing to report to).
            CudaApi.cudaSetDevice(_device);
            bool freed = CudaApi.cudaFree(handle) == CudaApi.Success;
            if (_bytes > 0) GC.RemoveMemoryPressure(_bytes);
            return freed;
        }
    }
}
