using System.Reflection;
using System.Runtime.InteropServices;

namespace MemGen.Compute.Cuda;

/// <summary>
/// Finds and loads the NVIDIA libraries the CUDA backend binds: the driver (<c>libcuda.so.1</c>), the runtime
/// (<c>libcudart</c>), cuDNN 9, cuBLAS and NVRTC. Each is looked for, in order, in the folders of
/// <c>MEMGEN_CUDA_LIB_DIR</c> (colon-separated), through the system loader (LD_LIBRARY_PATH, ld.so.cache), in the
/// standard install folders (/usr/local/cuda, CUDA_HOME, the driver's folders), and in the <c>nvidia/*</c> folders of
/// Python's pip wheels (nvidia-cuda-runtime, nvidia-cudnn-cu13, ...), for CUDA 13 and 12. The P/Invoke declarations
/// use the logical names below, which a resolver maps to the loaded handles.
/// </summary>
internal static class CudaLibraries
{
    /// <summary>Logical library names of the [DllImport]s.</summary>
    public const string Driver = "memgen-cuda", Runtime = "memgen-cudart", Cudnn = "memgen-cudnn", Cublas = "memgen-cublas", Nvrtc = "memgen-nvrtc";

    /// <summary>The environment variable that names extra library folders.</summary>
    public const string DirectoryVariable = "MEMGEN_CUDA_LIB_DIR";

    private static readonly object s_gate = new();
    private static Dictionary<string, IntPtr>? s_handles;
    private static string? s_failure;

    /// <summary>What was loaded, for messages: logical name → file.</summary>
    public static IReadOnlyDictionary<string, string> Loaded { get; private set; } = new Dictionary<string, string>();

    /// <summary>
    /// Loads every library once (thread-safe). Throws <see cref="ComputeUnavailableException"/> with one line naming
    /// the first missing library and where it was looked for; the same answer is given on later calls.
    /// </summary>
    public static void Load()
    {
        lock (s_gate)
        {
            if (s_handles is not null) return;
            if (s_failure is not null) throw new ComputeUnavailableException(s_failure);
            try
            {
                var folders = SearchFolders();
                var handles = new Dictionary<string, IntPtr>(StringComparer.Ordinal);
                var loaded = new Dictionary<string, string>(StringComparer.Ordinal);
                void Need(string logical, string what, string hint, params string[] files)
                {
                    var (handle, path) = Find(files, folders)
                        ?? throw new ComputeUnavailableException($"cannot load {what} ({string.Join(" or ", files)}): not found {Where(folders)}{hint}");
                    handles[logical] = handle;
                    loaded[logical] = path;
                }
                Need(Driver, "the CUDA driver", "; it comes with the NVIDIA driver", "libcuda.so.1");
                // Companions first, from the folder their main library is found in: cuBLAS needs cuBLASLt, NVRTC
                // opens its builtins by name, cuDNN 9 opens its sub-libraries by name.
                Need(Runtime, "the CUDA runtime", $"; install the CUDA toolkit or pip's nvidia-cuda-runtime, or set {DirectoryVariable}", "libcudart.so.13", "libcudart.so.12");
                PreloadCompanions(folders, ["libcublasLt.so.13", "libcublasLt.so.12"]);
                Need(Cublas, "cuBLAS", $"; install the CUDA toolkit or pip's nvidia-cublas, or set {DirectoryVariable}", "libcublas.so.13", "libcublas.so.12");
                PreloadCompanions(folders, ["libnvrtc-builtins.so.13.2", "libnvrtc-builtins.so.13.1", "libnvrtc-builtins.so.13.0", "libnvrtc-builtins.so.12.9", "libnvrtc-builtins.so.12.8", "libnvrtc-builtins.so.12.6", "libnvrtc-builtins.so.12.4"]);
                Need(Nvrtc, "NVRTC", $"; install the CUDA toolkit or pip's nvidia-cuda-nvrtc, or set {DirectoryVariable}", "libnvrtc.so.13", "libnvrtc.so.12");
                PreloadCompanions(folders, ["libcudnn_graph.so.9"]);
                PreloadCompanions(folders, ["libcudnn_ops.so.9"]);
                PreloadCompanions(folders, ["libcudnn_cnn.so.9"]);
                PreloadCompanions(folders, ["libcudnn_engines_precompiled.so.9"]);
                PreloadCompanions(folders, ["libcudnn_engines_runtime_compiled.so.9"]);
                PreloadCompanions(folders, ["libcudnn_heuristic.so.9"]);
                Need(Cudnn, "cuDNN 9", $"; install cuDNN 9 or pip's nvidia-cudnn-cu13 / nvidia-cudnn-cu12, or set {DirectoryVariable}", "libcudnn.so.9");
                s_handles = handles;
                Loaded = loaded;
                NativeLibrary.SetDllImportResolver(typeof(CudaLibraries).Assembly, Resolve);
            }
            catch (ComputeUnavailableException e)
            {
                s_failure = e.Message;
                throw;
            }
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        var handles = s_handles;
        return handles is not null && handles.TryGetValue(name, out var handle) ? handle : IntPtr.Zero;
    }

    private static string Where(IReadOnlyList<string> folders) =>
        $"through the system loader or in {(folders.Count == 0 ? "the standard folders (none exist)" : string.Join(", ", folders.Take(6)) + (folders.Count > 6 ? $" and {folders.Count - 6} more" : ""))} " +
        $"({DirectoryVariable} {(string.IsNullOrEmpty(Environment.GetEnvironmentVariable(DirectoryVariable)) ? "is unset" : "was searched first")})";

    /// <summary>The first file of <paramref name="files"/> that loads: from <see cref="DirectoryVariable"/>'s folders, then the system loader, then the other folders.</summary>
    private static (IntPtr Handle, string Path)? Find(string[] files, IReadOnlyList<string> folders)
    {
        var first = UserFolders();
        foreach (var file in files)
            foreach (var folder in first)
                if (TryLoad(Path.Combine(folder, file)) is IntPtr h) return (h, Path.Combine(folder, file));
        foreach (var file in files)
            if (NativeLibrary.TryLoad(file, out var handle)) return (handle, file);
        foreach (var file in files)
            foreach (var folder in folders)
                if (TryLoad(Path.Combine(folder, file)) is IntPtr h) return (h, Path.Combine(folder, file));
        return null;
    }

    private static void PreloadCompanions(IReadOnlyList<string> folders, string[] files) => Find(files, folders);

    private static IntPtr? TryLoad(string path) => File.Exists(path) && NativeLibrary.TryLoad(path, out var handle) ? handle : null;

    private static string[] UserFolders() =>
        (Environment.GetEnvironmentVariable(DirectoryVariable) ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Every folder searched after the system loader (user folders first), existing ones only.</summary>
    internal static IReadOnlyList<string> SearchFolders()
    {
        var folders = new List<string>(UserFolders());
        foreach (var variable in new[] { "CUDA_HOME", "CUDA_PATH", "CUDA_ROOT" })
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } root)
            {
                folders.Add(Path.Combine(root, "lib64"));
                folders.Add(Path.Combine(root, "lib"));
            }
        folders.AddRange([
            "/usr/local/cuda/lib64", "/usr/local/cuda/targets/x86_64-linux/lib", "/usr/local/nvidia/lib64", "/usr/local/nvidia/lib",
            "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib/wsl/lib",
        ]);
        foreach (var sitePackages in PythonSitePackages())
            foreach (var sub in new[] { "cu13/lib", "cudnn/lib", "cuda_runtime/lib", "cublas/lib", "cuda_nvrtc/lib", "cu12/lib" })
                folders.Add(Path.Combine(sitePackages, "nvidia", sub));
        return folders.Where(Directory.Exists).Distinct(StringComparer.Ordinal).ToList();
    }

    /// <summary>Python site-packages folders of virtual environments, the system and the user (where pip puts the nvidia-* wheels).</summary>
    private static IEnumerable<string> PythonSitePackages()
    {
        var roots = new List<string>();
        foreach (var variable in new[] { "VIRTUAL_ENV", "CONDA_PREFIX" })
            if (Environment.GetEnvironmentVariable(variable) is { Length: > 0 } env) roots.Add(env);
        roots.AddRange(["/usr/local", "/usr", Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + "/.local"]);
        foreach (var opt in SafeDirectories("/opt"))
        {
            roots.Add(opt);
            roots.Add(Path.Combine(opt, ".venv"));
            roots.Add(Path.Combine(opt, "venv"));
        }
        foreach (var root in roots)
            foreach (var lib in SafeDirectories(Path.Combine(root, "lib")).Where(d => Path.GetFileName(d).StartsWith("python3", StringComparison.Ordinal)))
                foreach (var kind in new[] { "site-packages", "dist-packages" })
                    yield return Path.Combine(lib, kind);
        foreach (var entry in (Environment.GetEnvironmentVariable("PYTHONPATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
            yield return entry;
        yield return "/usr/lib/python3/dist-packages";
    }

    private static IEnumerable<string> SafeDirectories(string folder)
    {
        try
        {
            return Directory.Exists(folder) ? Directory.GetDirectories(folder) : [];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return [];
        }
    }
}
