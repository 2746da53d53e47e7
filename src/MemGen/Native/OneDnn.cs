using System.Runtime.InteropServices;

namespace MemGen.Native;

/// <summary>
/// The process-wide oneDNN runtime: one CPU engine and one stream, created on the <see cref="OneDnnThread"/>
/// after OMP_NUM_THREADS has been put into the native environment (libgomp reads it once, when
/// <c>libdnnl.so.2</c> pulls it in, so it must be set before the first oneDNN call).
/// </summary>
internal static unsafe class OneDnn
{
    private static readonly Lazy<Runtime> s_runtime = new(() => OneDnnThread.Instance.Invoke(Runtime.Start));

    /// <summary>The oneDNN version, e.g. "2.6.3".</summary>
    public static string Version => s_runtime.Value.Version;

    /// <summary>Major, minor and patch version numbers.</summary>
    public static (int Major, int Minor, int Patch) VersionNumbers => s_runtime.Value.VersionNumbers;

    /// <summary>OpenMP threads oneDNN runs with (what libgomp reports on the oneDNN thread).</summary>
    public static int ThreadCount => s_runtime.Value.Threads;

    /// <summary>True when oneDNN dispatches AVX-512 kernels on this CPU (the fast blocked and Winograd paths).</summary>
    public static bool HasAvx512 => (s_runtime.Value.Isa & OneDnnApi.IsaAvx512Core) == OneDnnApi.IsaAvx512Core;

    /// <summary>The effective instruction set as dnnl_cpu_isa_t (bit mask; 0x27 = avx512_core).</summary>
    public static int EffectiveIsa => s_runtime.Value.Isa;

    /// <summary>The thread count the runtime sets when the user has not set OMP_NUM_THREADS: all cores.</summary>
    public static int DefaultThreadCount => Environment.ProcessorCount;

    internal static IntPtr Engine => s_runtime.Value.Engine;

    internal static IntPtr Stream => s_runtime.Value.Stream;

    /// <summary>Throws <see cref="OneDnnException"/> unless <paramref name="status"/> is dnnl_success.</summary>
    internal static void Check(int status, string primitive, string call)
    {
        if (status != OneDnnApi.Success) throw new OneDnnException(primitive, call, status);
    }

    /// <summary>Initializes a 4-D f32 memory descriptor with a format tag into <paramref name="block"/>.</summary>
    internal static void InitMemoryDesc(NativeBlock block, ReadOnlySpan<long> dims, int tag, string primitive)
    {
        long* d = stackalloc long[OneDnnApi.MaxDims];
        for (int i = 0; i < dims.Length; i++) d[i] = dims[i];
        Check(OneDnnApi.dnnl_memory_desc_init_by_tag(block.Pointer, dims.Length, d, OneDnnApi.F32, tag), primitive, "dnnl_memory_desc_init_by_tag");
    }

    /// <summary>Creates a memory object over <paramref name="desc"/>; <paramref name="data"/> = <see cref="OneDnnApi.MemoryAllocate"/> lets oneDNN allocate.</summary>
    internal static OneDnnHandle CreateMemory(void* desc, IntPtr data, string primitive)
    {
        int status = OneDnnApi.dnnl_memory_create(out var memory, desc, Engine, data);
        return OneDnnHandle.Take(OneDnnHandle.Kind.Memory, memory, status, primitive, "dnnl_memory_create");
    }

    /// <summary>Creates a primitive from its descriptor.</summary>
    internal static OneDnnHandle CreatePrimitive(OneDnnHandle primitiveDesc, string primitive)
    {
        int status = OneDnnApi.dnnl_primitive_create(out var p, primitiveDesc.Pointer);
        return OneDnnHandle.Take(OneDnnHandle.Kind.Primitive, p, status, primitive, "dnnl_primitive_create");
    }

    /// <summary>The implementation oneDNN chose for a primitive descriptor, e.g. "jit:avx512_core".</summary>
    internal static string ImplementationName(OneDnnHandle primitiveDesc, string primitive)
    {
        IntPtr name;
        Check(OneDnnApi.dnnl_primitive_desc_query(primitiveDesc.Pointer, OneDnnApi.QueryImplInfoStr, 0, &name), primitive, "dnnl_primitive_desc_query(impl_info_str)");
        return Marshal.PtrToStringUTF8(name) ?? "";
    }

    private sealed class Runtime
    {
        public required IntPtr Engine { get; init; }
        public required IntPtr Stream { get; init; }
        public required string Version { get; init; }
        public required (int, int, int) VersionNumbers { get; init; }
        public required int Threads { get; init; }
        public required int Isa { get; init; }

        /// <summary>Runs once, on the oneDNN thread. The engine and stream live as long as the process.</summary>
        public static Runtime Start()
        {
            if (string.IsNullOrEmpty(ProcessEnvironment.Get("OMP_NUM_THREADS")))
                ProcessEnvironment.Set("OMP_NUM_THREADS", DefaultThreadCount.ToString(System.Globalization.CultureInfo.InvariantCulture));
            // Idle OpenMP workers sleep instead of spinning (unless the user chose otherwise): between convolutions
            // the networks run their own SIMD loops on .NET threads, and spinning workers take the cores from them;
            // on a shared 2-core machine passive waiting measured 1.7-2.3x faster training steps (bench train).
            if (string.IsNullOrEmpty(ProcessEnvironment.Get("OMP_WAIT_POLICY")) && string.IsNullOrEmpty(ProcessEnvironment.Get("GOMP_SPINCOUNT")))
                ProcessEnvironment.Set("OMP_WAIT_POLICY", "passive");
            const string what = "runtime";
            Check(OneDnnApi.dnnl_engine_create(out var engine, OneDnnApi.EngineCpu, 0), what, "dnnl_engine_create");
            Check(OneDnnApi.dnnl_stream_create(out var stream, engine, OneDnnApi.StreamDefaultFlags), what, "dnnl_stream_create");
            var v = OneDnnApi.dnnl_version();
            return new Runtime
            {
                Engine = engine,
                Stream = stream,
                Version = $"{v->Major}.{v->Minor}.{v->Patch}",
                VersionNumbers = (v->Major, v->Minor, v->Patch),
                Threads = ProcessEnvironment.OpenMpMaxThreads(),
                Isa = OneDnnApi.dnnl_get_effective_cpu_isa(),
            };
        }
    }
}
