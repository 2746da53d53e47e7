using System.Runtime.InteropServices;

namespace MemGen.Compute.Cuda;

/// <summary>
/// Narrow bindings to the CUDA runtime (<c>cuda_runtime_api.h</c>) and driver (<c>cuda.h</c>) APIs: device selection,
/// memory, copies, synchronization, and loading and launching the NVRTC-compiled kernels. Every call's status is
/// checked by <see cref="Check(int, string)"/> / <see cref="CheckDriver"/>.
/// </summary>
internal static unsafe class CudaApi
{
    // cuda_runtime_api.h / driver_types.h
    public const int Success = 0;                  // cudaSuccess
    public const int ErrorMemoryAllocation = 2;    // cudaErrorMemoryAllocation
    public const int MemcpyHostToDevice = 1;       // cudaMemcpyHostToDevice
    public const int MemcpyDeviceToHost = 2;       // cudaMemcpyDeviceToHost
    public const int MemcpyDeviceToDevice = 3;     // cudaMemcpyDeviceToDevice
    public const int AttributeMultiprocessorCount = 16;       // cudaDevAttrMultiProcessorCount
    public const int AttributeComputeCapabilityMajor = 75;    // cudaDevAttrComputeCapabilityMajor
    public const int AttributeComputeCapabilityMinor = 76;    // cudaDevAttrComputeCapabilityMinor

    [DllImport(CudaLibraries.Runtime)] public static extern int cudaGetDeviceCount(out int count);
    [DllImport(CudaLibraries.Runtime)] public static extern int cudaSetDevice(int device);
    [DllImport(CudaLibraries.Runtime)] public static extern int cudaFree(IntPtr devicePointer);
    [DllImport(CudaLibraries.Runtime)] public static extern int cudaMalloc(out IntPtr devicePointer, nuint size);
    [DllImport(CudaLibraries.Runtime)] public static extern int cudaMemcpy(IntPtr destination, IntPtr source, nuint count, int kind);
    [DllImport(CudaLibraries.Runtime)] public static extern int cudaMemset(IntPtr devicePointer, int value, nuint count);
    [DllImport(CudaLibraries.Runtime)] public static extern int cudaDeviceSynchronize();
    [DllImport(CudaLibraries.Runtime)] public static extern int cudaDeviceGetAttribute(out int value, int attribute, int device);
    [DllImport(CudaLibraries.Runtime)] public static extern int cudaRuntimeGetVersion(out int version);
    [DllImport(CudaLibraries.Runtime)] public static extern int cudaDriverGetVersion(out int version);
    [DllImport(CudaLibraries.Runtime)] public static extern int cudaGetLastError();
    [DllImport(CudaLibraries.Runtime)] private static extern IntPtr cudaGetErrorString(int error);

    // cuda.h (driver API): CUresult, CUdevice = int, CUcontext/CUmodule/CUfunction/CUstream = pointers.
    [DllImport(CudaLibraries.Driver)] public static extern int cuInit(uint flags);
    [DllImport(CudaLibraries.Driver)] public static extern int cuDeviceGet(out int device, int ordinal);
    [DllImport(CudaLibraries.Driver)] public static extern int cuDeviceGetName(byte* name, int length, int device);
    [DllImport(CudaLibraries.Driver)] public static extern int cuCtxGetCurrent(out IntPtr context);
    [DllImport(CudaLibraries.Driver)] public static extern int cuCtxSetCurrent(IntPtr context);
    [DllImport(CudaLibraries.Driver)] public static extern int cuModuleLoadData(out IntPtr module, byte* image);
    [DllImport(CudaLibraries.Driver)] public static extern int cuModuleUnload(IntPtr module);
    [DllImport(CudaLibraries.Driver)] public static extern int cuModuleGetFunction(out IntPtr function, IntPtr module, byte* name);
    [DllImport(CudaLibraries.Driver)]
    public static extern int cuLaunchKernel(IntPtr function, uint gridX, uint gridY, uint gridZ, uint blockX, uint blockY, uint blockZ,
        uint sharedMemoryBytes, IntPtr stream, void** kernelParameters, void** extra);
    [DllImport(CudaLibraries.Driver)] private static extern int cuGetErrorString(int error, out IntPtr text);

    /// <summary>Throws <see cref="CudaException"/> unless the runtime call <paramref name="call"/> returned cudaSuccess.</summary>
    public static void Check(int status, string call)
    {
        if (status != Success) throw new CudaException(call, status, Marshal.PtrToStringUTF8(cudaGetErrorString(status)) ?? "unknown error");
    }

    /// <summary>Throws <see cref="CudaException"/> unless the driver call <paramref name="call"/> returned CUDA_SUCCESS (0).</summary>
    public static void CheckDriver(int status, string call)
    {
        if (status == Success) return;
        string text = cuGetErrorString(status, out var p) == Success ? Marshal.PtrToStringUTF8(p) ?? "unknown error" : "unknown error";
        throw new CudaException(call, status, text);
    }

    /// <summary>The device's name, e.g. "NVIDIA H100 80GB HBM3".</summary>
    public static string DeviceName(int ordinal)
    {
        CheckDriver(cuDeviceGet(out int device, ordinal), "cuDeviceGet");
        byte* name = stackalloc byte[256];
        CheckDriver(cuDeviceGetName(name, 256, device), "cuDeviceGetName");
        return Marshal.PtrToStringUTF8((IntPtr)name) ?? $"cuda:{ordinal}";
    }
}

/// <summary>A CUDA, cuDNN, cuBLAS or NVRTC call failed; the message names the call and the library's own error text.</summary>
public sealed class CudaException : Exception
{
    /// <summary>Creates the exception for <paramref name="call"/> returning <paramref name="status"/>.</summary>
    public CudaException(string call, int status, string text) : base($"{call} failed: {text} (status {status}).")
    {
        Call = call;
        Status = status;
    }

    /// <summary>The failed function.</summary>
    public string Call { get; }

    /// <summary>Its status code.</summary>
    public int Status { get; }
}
