using System.Runtime.InteropServices;

namespace MemGen.Compute.Cuda;

/// <summary>Narrow bindings to NVRTC (<c>nvrtc.h</c>): compile CUDA C to a cubin for the device at run time.</summary>
internal static unsafe class NvrtcApi
{
    public const int Success = 0;                  // NVRTC_SUCCESS

    [DllImport(CudaLibraries.Nvrtc)] public static extern int nvrtcVersion(out int major, out int minor);
    [DllImport(CudaLibraries.Nvrtc)]
    public static extern int nvrtcCreateProgram(out IntPtr program, byte* source, byte* name, int headers, byte** headerSources, byte** includeNames);
    [DllImport(CudaLibraries.Nvrtc)] public static extern int nvrtcCompileProgram(IntPtr program, int options, byte** optionValues);
    [DllImport(CudaLibraries.Nvrtc)] public static extern int nvrtcGetProgramLogSize(IntPtr program, out nuint size);
    [DllImport(CudaLibraries.Nvrtc)] public static extern int nvrtcGetProgramLog(IntPtr program, byte* log);
    [DllImport(CudaLibraries.Nvrtc)] public static extern int nvrtcGetCUBINSize(IntPtr program, out nuint size);
    [DllImport(CudaLibraries.Nvrtc)] public static extern int nvrtcGetCUBIN(IntPtr program, byte* cubin);
    [DllImport(CudaLibraries.Nvrtc)] public static extern int nvrtcDestroyProgram(ref IntPtr program);
    [DllImport(CudaLibraries.Nvrtc)] private static extern IntPtr nvrtcGetErrorString(int result);

    /// <summary>Throws <see cref="CudaException"/> unless <paramref name="status"/> is NVRTC_SUCCESS.</summary>
    public static void Check(int status, string call)
    {
        if (status != Success) throw new CudaException(call, status, Marshal.PtrToStringUTF8(nvrtcGetErrorString(status)) ?? "unknown NVRTC error");
    }
}
