using System.Runtime.InteropServices;

namespace MemGen.Native;

/// <summary>
/// The raw oneDNN 2.6 C API (Debian <c>libdnnl2</c>, op-descriptor generation): the ~30 functions MemGen
/// uses and the constants it needs. Every value below was printed from the installed headers by
/// <c>bench/native/dnnl-constants.c</c>, not guessed. Only <see cref="OneDnn"/> and its primitives call these,
/// always on the <see cref="OneDnnThread"/>.
/// </summary>
internal static unsafe partial class OneDnnApi
{
    private const string Lib = "libdnnl.so.2";

    // dnnl_status_t
    public const int Success = 0;

    // dnnl_data_type_t, dnnl_engine_kind_t, dnnl_stream_flags_t
    public const int F32 = 3;
    public const int EngineCpu = 1;
    public const uint StreamDefaultFlags = 1;

    // dnnl_format_tag_t (nchw and oihw are both "abcd"; iohw is "bacd")
    public const int FormatAny = 1;
    public const int FormatNchw = 5;
    public const int FormatNChw16c = 69;
    public const int FormatOihw = 5;
    public const int FormatIohw = 24;

    // dnnl_prop_kind_t
    public const int ForwardTraining = 64;
    public const int BackwardData = 160;
    public const int BackwardWeights = 192;

    // dnnl_alg_kind_t
    public const int ConvolutionDirect = 1;
    public const int ConvolutionWinograd = 2;
    public const int DeconvolutionDirect = 10;

    // dnnl_query_t
    public const int QueryImplInfoStr = 8;
    public const int QuerySrcMd = 129;
    public const int QueryDiffSrcMd = 130;
    public const int QueryWeightsMd = 131;
    public const int QueryDiffWeightsMd = 132;
    public const int QueryDstMd = 133;
    public const int QueryDiffDstMd = 134;
    public const int QueryScratchpadMd = 136;

    // dnnl_scratchpad_mode_t
    public const int ScratchpadModeUser = 1;

    // DNNL_ARG_*
    public const int ArgSrc = 1;
    public const int ArgDst = 17;
    public const int ArgWeights = 33;
    public const int ArgScratchpad = 80;
    public const int ArgDiffSrc = 129;
    public const int ArgDiffDst = 145;
    public const int ArgDiffWeights = 161;
    public const int ArgFrom = 1;
    public const int ArgTo = 17;

    // dnnl_cpu_isa_t
    public const int IsaAvx512Core = 0x27;

    /// <summary>DNNL_MAX_NDIMS: dnnl_dims_t is int64[12].</summary>
    public const int MaxDims = 12;

    /// <summary>DNNL_MEMORY_ALLOCATE: ask the library to allocate the buffer.</summary>
    public static readonly IntPtr MemoryAllocate = new(-1);

    /// <summary>
    /// Bytes reserved for caller-allocated opaque structs. The header's sizes are 696 (dnnl_memory_desc_t)
    /// and 5976 (dnnl_convolution_desc_t = dnnl_deconvolution_desc_t); the guard absorbs a differently
    /// built library.
    /// </summary>
    public const int MemoryDescBytes = 1024;

    /// <inheritdoc cref="MemoryDescBytes"/>
    public const int OpDescBytes = 8192;

    /// <summary>dnnl_exec_arg_t: { int arg; dnnl_memory_t memory; } (16 bytes, memory at offset 8).</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct ExecArg
    {
        public int Arg;
        public IntPtr Memory;
    }

    /// <summary>dnnl_version_t: { int major, minor, patch; const char* hash; unsigned cpu_runtime, gpu_runtime; }.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct Version
    {
        public int Major;
        public int Minor;
        public int Patch;
        public IntPtr Hash;
        public uint CpuRuntime;
        public uint GpuRuntime;
    }

    [LibraryImport(Lib)] public static partial int dnnl_engine_create(out IntPtr engine, int kind, nuint index);
    [LibraryImport(Lib)] public static partial int dnnl_engine_destroy(IntPtr engine);
    [LibraryImport(Lib)] public static partial int dnnl_stream_create(out IntPtr stream, IntPtr engine, uint flags);
    [LibraryImport(Lib)] public static partial int dnnl_stream_wait(IntPtr stream);
    [LibraryImport(Lib)] public static partial int dnnl_stream_destroy(IntPtr stream);

    [LibraryImport(Lib)] public static partial int dnnl_memory_desc_init_by_tag(void* memoryDesc, int ndims, long* dims, int dataType, int tag);
    [LibraryImport(Lib)] public static partial int dnnl_memory_desc_equal(void* lhs, void* rhs);
    [LibraryImport(Lib)] public static partial nuint dnnl_memory_desc_get_size(void* memoryDesc);
    [LibraryImport(Lib)] public static partial int dnnl_memory_create(out IntPtr memory, void* memoryDesc, IntPtr engine, IntPtr handle);
    [LibraryImport(Lib)] public static partial int dnnl_memory_set_data_handle(IntPtr memory, IntPtr handle);
    [LibraryImport(Lib)] public static partial int dnnl_memory_get_data_handle(IntPtr memory, out IntPtr handle);
    [LibraryImport(Lib)] public static partial int dnnl_memory_destroy(IntPtr memory);

    [LibraryImport(Lib)]
    public static partial int dnnl_convolution_forward_desc_init(void* convDesc, int propKind, int algKind,
        void* srcDesc, void* weightsDesc, void* biasDesc, void* dstDesc, long* strides, long* paddingL, long* paddingR);

    [LibraryImport(Lib)]
    public static partial int dnnl_convolution_backward_data_desc_init(void* convDesc, int algKind,
        void* diffSrcDesc, void* weightsDesc, void* diffDstDesc, long* strides, long* paddingL, long* paddingR);

    [LibraryImport(Lib)]
    public static partial int dnnl_convolution_backward_weights_desc_init(void* convDesc, int algKind,
        void* srcDesc, void* diffWeightsDesc, void* diffBiasDesc, void* diffDstDesc, long* strides, long* paddingL, long* paddingR);

    [LibraryImport(Lib)]
    public static partial int dnnl_deconvolution_forward_desc_init(void* deconvDesc, int propKind, int algKind,
        void* srcDesc, void* weightsDesc, void* biasDesc, void* dstDesc, long* strides, long* paddingL, long* paddingR);

    [LibraryImport(Lib)]
    public static partial int dnnl_deconvolution_backward_data_desc_init(void* deconvDesc, int algKind,
        void* diffSrcDesc, void* weightsDesc, void* diffDstDesc, long* strides, long* paddingL, long* paddingR);

    [LibraryImport(Lib)]
    public static partial int dnnl_deconvolution_backward_weights_desc_init(void* deconvDesc, int algKind,
        void* srcDesc, void* diffWeightsDesc, void* diffBiasDesc, void* diffDstDesc, long* strides, long* paddingL, long* paddingR);

    [LibraryImport(Lib)] public static partial int dnnl_primitive_attr_create(out IntPtr attr);
    [LibraryImport(Lib)] public static partial int dnnl_primitive_attr_destroy(IntPtr attr);
    [LibraryImport(Lib)] public static partial int dnnl_primitive_attr_set_scratchpad_mode(IntPtr attr, int mode);

    [LibraryImport(Lib)]
    public static partial int dnnl_primitive_desc_create(out IntPtr primitiveDesc, void* opDesc, IntPtr attr, IntPtr engine, IntPtr hintForwardPrimitiveDesc);

    [LibraryImport(Lib)]
    public static partial int dnnl_reorder_primitive_desc_create(out IntPtr primitiveDesc, void* srcDesc, IntPtr srcEngine, void* dstDesc, IntPtr dstEngine, IntPtr attr);

    [LibraryImport(Lib)] public static partial int dnnl_primitive_desc_query(IntPtr primitiveDesc, int what, int index, void* result);
    [LibraryImport(Lib)] public static partial void* dnnl_primitive_desc_query_md(IntPtr primitiveDesc, int what, int index);
    [LibraryImport(Lib)] public static partial int dnnl_primitive_desc_destroy(IntPtr primitiveDesc);

    [LibraryImport(Lib)] public static partial int dnnl_primitive_create(out IntPtr primitive, IntPtr primitiveDesc);
    [LibraryImport(Lib)] public static partial int dnnl_primitive_execute(IntPtr primitive, IntPtr stream, int nargs, ExecArg* args);
    [LibraryImport(Lib)] public static partial int dnnl_primitive_destroy(IntPtr primitive);

    [LibraryImport(Lib)] public static partial Version* dnnl_version();
    [LibraryImport(Lib)] public static partial int dnnl_get_effective_cpu_isa();

    /// <summary>Name of a dnnl_status_t value (from the header's enum).</summary>
    public static string StatusName(int status) => status switch
    {
        0 => "success",
        1 => "out_of_memory",
        2 => "invalid_arguments",
        3 => "unimplemented",
        4 => "iterator_ends",
        5 => "runtime_error",
        6 => "not_required",
        _ => $"unknown status {status}",
    };
}

/// <summary>The C library and libgomp calls needed to set the OpenMP thread count before oneDNN loads.</summary>
internal static partial class ProcessEnvironment
{
    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);

    [LibraryImport("libc", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr getenv(string name);

    [LibraryImport("libgomp.so.1")]
    private static partial int omp_get_max_threads();

    /// <summary>The value of a variable in the native (libc) environment, or null.</summary>
    public static string? Get(string name)
    {
        var p = getenv(name);
        return p == IntPtr.Zero ? null : Marshal.PtrToStringUTF8(p);
    }

    /// <summary>Sets a variable in the native environment (visible to libraries loaded afterwards).</summary>
    public static void Set(string name, string value)
    {
        if (setenv(name, value, 1) != 0)
            throw new InvalidOperationException($"libc setenv({name}={value}) failed.");
    }

    /// <summary>The number of threads the OpenMP runtime will use for the calling thread's next parallel region.</summary>
    public static int OpenMpMaxThreads() => omp_get_max_threads();
}
