using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json.Nodes;
using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Tests.Reporting;

using MemGen.Tests.TestSupport;

namespace MemGen.Tests.Hardening;

/// <summary>
/// The working folder of the hostile-input table: every bad file a row names, made once. Rows run with this folder as
/// their current directory and name the files relatively:
/// <list type="bullet">
/// <item><c>small.safetensors</c> a sound bfcnn:layers=3,width=4 checkpoint (1 channel, 8×8); <c>nan</c>, <c>wide</c>
/// (metadata says width 4000), <c>tall</c> (height 20000) and <c>overflow</c> (weights ×1e20, finite) variants, re-signed;</item>
/// <item><c>nan.npy</c> (a NaN pixel), <c>huge.npy</c> (header claims 10⁵×10⁶ floats), <c>huge.idx.gz</c> (header claims 60000×256×256), <c>big.idx.gz</c> (claims 1000×256×256);</item>
/// <item><c>pngs/</c> a png: source folder, <c>file.txt</c> an existing file, <c>ro/</c> a folder nobody may write
/// (a read-only tmpfs when running as root, else mode 555), <c>injected/</c> a report whose report.json carries script;</item>
/// <item><c>noadam/</c> a training run (made with the CLI) whose optimizer states and final checkpoint were lost.</item>
/// </list>
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class HostileInputFiles : IDisposable
{
    private readonly bool _mountedReadOnly;

    /// <summary>Creates the folder and its files.</summary>
    public HostileInputFiles()
    {
        Folder = Directory.CreateTempSubdirectory("memgen-hostile-").FullName;
        Checkpoints();
        NpyWriter.Write(PathOf("nan.npy"), [.. Enumerable.Range(0, 32).Select(i => i == 5 ? float.NaN : 0.5f)], [2, 1, 4, 4]);
        Gzip(PathOf("huge.idx.gz"), IdxHeader(60000, 256, 256));
        Gzip(PathOf("big.idx.gz"), IdxHeader(1000, 256, 256));
        File.WriteAllBytes(PathOf("huge.npy"), NpyHeader("(100000, 1, 1000, 1000)"));
        Directory.CreateDirectory(PathOf("pngs"));
        for (int i = 0; i < 2; i++) PngWriter.WriteImage(PathOf($"pngs/{i}.png"), new float[16], 1, 4, 4);
        File.WriteAllText(PathOf("file.txt"), "an existing file");
        Directory.CreateDirectory(PathOf("injected"));
        var report = JsonNode.Parse(ReportTestData.Build().Document.ToJson())!;
        report["blocks"]!.AsArray().OfType<JsonObject>().First(b => b["kind"]!.GetValue<string>() == "image")["png_base64"] =
            "AAAA\"><script>alert(document.domain)</script>";
        File.WriteAllText(PathOf("injected/report.json"), report.ToJsonString());
        TrainingRunWithoutOptimizerStates();
        _mountedReadOnly = ReadOnlyFolder(PathOf("ro"));
    }

    /// <summary>The folder (the rows' current directory).</summary>
    public string Folder { get; }

    /// <summary>Every file (with its size and write time) and folder under <see cref="Folder"/>, to see what a row left.</summary>
    public SortedDictionary<string, (long Size, DateTime Written)> Snapshot() => new(
        Directory.EnumerateFileSystemEntries(Folder, "*", SearchOption.AllDirectories)
            .ToDictionary(p => Path.GetRelativePath(Folder, p), p => File.Exists(p) ? (new FileInfo(p).Length, File.GetLastWriteTimeUtc(p)) : (-1, default)),
        StringComparer.Ordinal);

    /// <inheritdoc />
    public void Dispose()
    {
        if (_mountedReadOnly) Run("umount", PathOf("ro"));
        else if (Directory.Exists(PathOf("ro"))) File.SetUnixFileMode(PathOf("ro"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        Directory.Delete(Folder, recursive: true);
    }

    private string PathOf(string name) => Path.Combine(Folder, name);

    private void Checkpoints()
    {
        using var convolutions = new CpuBackend(new ReferenceConvolutionFactory());
        using var net = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=3,width=4"), 1, convolutions, seed: 1);
        Checkpoint.Save(PathOf("small.safetensors"), net, 8, 8, 10);
        var metadata = SafeTensors.ReadMetadata(PathOf("small.safetensors"));
        var tensors = Checkpoint.NetworkTensors(net);
        void Variant(string name, Action<Dictionary<string, string>> meta, Func<string, float[], float[]>? values = null)
        {
            var m = new Dictionary<string, string>(metadata);
            meta(m);
            SafeTensors.Save(PathOf(name), [.. tensors.Select(t =>
            {
                var plain = t.Value.Layout == TensorLayout.Nchw ? t.Value : BlockedLayout.ToPlain(t.Value);
                return (t.Name, values is null ? plain : Tensor.FromArray(values(t.Name, plain.Data.ToArray()), plain.Shape.ToArray()));
            })], m);
        }
        Variant("nan.safetensors", _ => { }, (name, v) =>
        {
            if (name == "layer1.conv.weight") v[3] = float.NaN;
            return v;
        });
        Variant("wide.safetensors", m => m["architecture"] = "bfcnn:layers=3,width=4000");
        Variant("tall.safetensors", m => m["height"] = "20000");
        Variant("overflow.safetensors", _ => { }, (name, v) => name.EndsWith(".weight", StringComparison.Ordinal) ? [.. v.Select(x => x * 1e20f)] : v);
    }

    private static byte[] IdxHeader(params int[] shape)
    {
        var header = new byte[4 + 4 * shape.Length + 16];
        header[2] = 0x08;
        header[3] = (byte)shape.Length;
        for (int i = 0; i < shape.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4 + 4 * i), shape[i]);
        return header; // and 16 bytes of data: far fewer than the header claims
    }

    /// <summary>A .npy header claiming <paramref name="shape"/> float32 values, and no data.</summary>
    private static byte[] NpyHeader(string shape)
    {
        var dict = $"{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}".PadRight(117) + "\n";
        return [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)dict.Length, 0, .. System.Text.Encoding.ASCII.GetBytes(dict)];
    }

    private static void Gzip(string path, byte[] content)
    {
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        gz.Write(content);
    }

    private void TrainingRunWithoutOptimizerStates()
    {
        var dir = PathOf("noadam");
        var (code, _, err) = MemgenProcess.Run(
        [
            "train", "--data", "gaussian:size=8,mean=0.5,std=0.1,n=60,seed=1", "--n", "20", "--test", "10", "--model", "bfcnn:layers=3,width=4",
            "--batch", "8", "--budget", "32", "--checkpoint-every", "1", "--out", dir,
        ]);
        if (code != 0) throw new InvalidOperationException($"making the noadam run failed: {err}");
        foreach (var f in Directory.EnumerateFiles(Path.Combine(dir, "checkpoints"), "*.adam.safetensors").Append(Path.Combine(dir, "checkpoints", "final.safetensors")))
            File.Delete(f);
    }

    /// <summary>Makes <paramref name="dir"/> unwritable: a read-only tmpfs for root (whom modes do not stop), else mode 555.</summary>
    private static bool ReadOnlyFolder(string dir)
    {
        Directory.CreateDirectory(dir);
        if (Environment.UserName == "root")
        {
            if (Run("mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", dir) != 0)
                throw new InvalidOperationException($"running as root, but a read-only tmpfs cannot be mounted on {dir} (needs CAP_SYS_ADMIN)");
            return true;
        }
        File.SetUnixFileMode(dir, UnixFileMode.UserRead | UnixFileMode.UserExecute | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        return false;
    }

    private static int Run(string program, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(program, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        p.WaitForExit();
        return p.ExitCode;
    }
}
