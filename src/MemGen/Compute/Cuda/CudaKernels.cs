using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace MemGen.Compute.Cuda;

/// <summary>
/// MemGen's CUDA C kernels (<c>Kernels/memgen_kernels.cu</c>, embedded in the assembly), compiled at first use by
/// NVRTC into a cubin for the device's architecture, cached on disk (<c>~/.cache/memgen/cuda/</c>, keyed by the
/// source, the architecture and the NVRTC version) and loaded as a driver-API module. <see cref="Launch"/> passes
/// the arguments by address, as cuLaunchKernel wants them.
/// </summary>
internal sealed unsafe class CudaKernels : IDisposable
{
    /// <summary>Threads per block of every launch (the kernels' THREADS).</summary>
    public const int Threads = 256;

    private const string SourceResource = "MemGen.Compute.Cuda.Kernels.memgen_kernels.cu";
    private readonly IntPtr _module;
    private readonly Dictionary<string, IntPtr> _functions = new(StringComparer.Ordinal);

    /// <summary>Compiles (or reads from the cache) and loads the kernels for a device of compute capability major.minor.</summary>
    public CudaKernels(int major, int minor)
    {
        var source = Source();
        var arch = string.Create(CultureInfo.InvariantCulture, $"sm_{major}{minor}");
        NvrtcApi.Check(NvrtcApi.nvrtcVersion(out int nvMajor, out int nvMinor), "nvrtcVersion");
        var key = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{source}\n{arch}\n{nvMajor}.{nvMinor}")))[..24];
        var cacheFile = Path.Combine(CacheFolder(), $"memgen-kernels-{arch}-{key}.cubin");
        byte[]? cubin = null;
        try
        {
            if (File.Exists(cacheFile)) cubin = File.ReadAllBytes(cacheFile);
        }
        catch (IOException)
        {
            cubin = null;
        }
        if (cubin is null || cubin.Length == 0)
        {
            cubin = Compile(source, arch);
            try
            {
                Directory.CreateDirectory(Path.GetDirectoryName(cacheFile)!);
                var temp = cacheFile + "." + Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + ".tmp";
                File.WriteAllBytes(temp, cubin);
                File.Move(temp, cacheFile, overwrite: true);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The cache is an optimization: a read-only home still runs (it compiles once per process).
            }
        }
        fixed (byte* image = cubin)
            CudaApi.CheckDriver(CudaApi.cuModuleLoadData(out _module, image), "cuModuleLoadData(memgen_kernels)");
        Architecture = arch;
    }

    /// <summary>The architecture the kernels were compiled for, e.g. "sm_90".</summary>
    public string Architecture { get; }

    /// <summary>The kernel source.</summary>
    public static string Source()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream(SourceResource)
            ?? throw new InvalidOperationException($"The CUDA kernel source {SourceResource} is not embedded in the assembly.");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return reader.ReadToEnd();
    }

    /// <summary>Launches <paramref name="name"/> on the default stream with a grid of (x, y) blocks of <see cref="Threads"/> threads.</summary>
    public void Launch(string name, uint gridX, uint gridY, void** arguments)
    {
        if (gridX == 0 || gridY == 0) return;
        CudaApi.CheckDriver(CudaApi.cuLaunchKernel(Function(name), gridX, gridY, 1, Threads, 1, 1, 0, IntPtr.Zero, arguments, null), $"cuLaunchKernel({name})");
    }

    /// <summary>Blocks for a grid-stride loop over <paramref name="total"/> elements: one per 256, at most 65,536 (the kernels loop over the rest).</summary>
    public static uint Blocks(long total) => (uint)Math.Clamp((total + Threads - 1) / Threads, 1, 1 << 16);

    private IntPtr Function(string name)
    {
        if (_functions.TryGetValue(name, out var f)) return f;
        var bytes = Encoding.ASCII.GetBytes(name + "\0");
        fixed (byte* p = bytes)
            CudaApi.CheckDriver(CudaApi.cuModuleGetFunction(out f, _module, p), $"cuModuleGetFunction({name})");
        _functions[name] = f;
        return f;
    }

    private static byte[] Compile(string source, string arch)
    {
        var sourceBytes = Encoding.UTF8.GetBytes(source + "\0");
        var nameBytes = Encoding.ASCII.GetBytes("memgen_kernels.cu\0");
        // -fmad=false: no contraction of a·b + c into one rounding, so the kernels round as the CPU backend's loops do.
        string[] options = [$"--gpu-architecture={arch}", "--std=c++17", "-fmad=false"];
        var optionBytes = options.Select(o => Encoding.ASCII.GetBytes(o + "\0")).ToArray();
        IntPtr program;
        fixed (byte* src = sourceBytes, name = nameBytes)
            NvrtcApi.Check(NvrtcApi.nvrtcCreateProgram(out program, src, name, 0, null, null), "nvrtcCreateProgram");
        try
        {
            var handles = optionBytes.Select(b => GCHandle.Alloc(b, GCHandleType.Pinned)).ToArray();
            int status;
            try
            {
                byte** pointers = stackalloc byte*[options.Length];
                for (int i = 0; i < options.Length; i++) pointers[i] = (byte*)handles[i].AddrOfPinnedObject();
                status = NvrtcApi.nvrtcCompileProgram(program, options.Length, pointers);
            }
            finally
            {
                foreach (var h in handles) h.Free();
            }
            if (status != NvrtcApi.Success)
                throw new CudaException("nvrtcCompileProgram(memgen_kernels.cu)", status, Log(program));
            NvrtcApi.Check(NvrtcApi.nvrtcGetCUBINSize(program, out nuint size), "nvrtcGetCUBINSize");
            var cubin = new byte[(int)size];
            fixed (byte* p = cubin) NvrtcApi.Check(NvrtcApi.nvrtcGetCUBIN(program, p), "nvrtcGetCUBIN");
            return cubin;
        }
        finally
        {
            NvrtcApi.nvrtcDestroyProgram(ref program);
        }
    }

    private static string Log(IntPtr program)
    {
        if (NvrtcApi.nvrtcGetProgramLogSize(program, out nuint size) != NvrtcApi.Success || size <= 1) return "no compiler log";
        var log = new byte[(int)size];
        fixed (byte* p = log)
            if (NvrtcApi.nvrtcGetProgramLog(program, p) != NvrtcApi.Success) return "no compiler log";
        return Encoding.UTF8.GetString(log, 0, log.Length - 1).Trim().ReplaceLineEndings(" | ");
    }

    private static string CacheFolder()
    {
        var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
        var root = string.IsNullOrEmpty(xdg) ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache") : xdg;
        return Path.Combine(root, "memgen", "cuda");
    }

    /// <inheritdoc />
    public void Dispose()
    {
        if (_module != IntPtr.Zero) CudaApi.cuModuleUnload(_module);
    }
}
