using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using MemGen.Images;
using MemGen.Runs;

namespace MemGen.Data;

/// <summary>
/// Remembers de-duplication results on disk, keyed by the SHA-256 of the image set (<see cref="SplitManifest.Hash"/>),
/// the threshold and the mode, so re-loading e.g. <c>fashion-mnist:train|dedup</c> costs a hash instead of the
/// all-pairs correlation. Each entry carries a checksum of its inputs and result; a missing, unreadable, damaged or
/// tampered entry is recomputed.
/// Folder: <c>$MEMGEN_CACHE_DIR</c> (set it to <c>none</c> to disable), else <c>$XDG_CACHE_HOME/memgen</c>, else <c>~/.cache/memgen</c>.
/// </summary>
public static class DeduplicationCache
{
    /// <summary>Environment variable naming the cache folder (<c>none</c> disables caching).</summary>
    public const string DirectoryVariable = "MEMGEN_CACHE_DIR";

    private const uint Magic = 0x4444474D; // "MGDD"
    private const int FormatVersion = 2;

    /// <summary>The cache folder in use, or null when caching is disabled.</summary>
    public static string? DefaultDirectory
    {
        get
        {
            var dir = Environment.GetEnvironmentVariable(DirectoryVariable);
            if (dir is not null) return dir is "" or "none" ? null : dir;
            var xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
            return !string.IsNullOrEmpty(xdg) ? Path.Combine(xdg, "memgen") : string.IsNullOrEmpty(home) ? null : Path.Combine(home, ".cache", "memgen");
        }
    }

    /// <summary>
    /// <see cref="Deduplication.Run(ImageSet, double, bool, IProgress{double}?)"/>, answered from the cache in
    /// <paramref name="directory"/> (default <see cref="DefaultDirectory"/>) when possible, and stored there otherwise.
    /// An entry is used only when its checksum over the inputs (the images' SHA-256, threshold, mode) and the kept
    /// indices matches; a damaged or tampered entry is recomputed and rewritten. A cache that cannot be written is
    /// reported once as a warning (<see cref="RunWarnings"/>), and the result is still returned.
    /// </summary>
    public static int[] Run(ImageSet images, double threshold = Deduplication.DefaultThreshold, bool compareWithKeptOnly = false,
        IProgress<double>? progress = null, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        directory ??= DefaultDirectory;
        if (directory is null) return Deduplication.Run(images, threshold, compareWithKeptOnly, progress);
        string inputs = string.Create(CultureInfo.InvariantCulture, $"{SplitManifest.Hash(images)}-{threshold:R}-{(compareWithKeptOnly ? "kept" : "any")}");
        string path = Path.Combine(directory, "dedup", $"{inputs}-v{FormatVersion}.bin");
        var cached = TryRead(path, inputs, images.Count, out bool damaged);
        if (cached is not null)
        {
            progress?.Report(1);
            return cached;
        }
        if (damaged) RunWarnings.Report($"de-duplication cache {path} does not match its checksum; recomputing it");
        var kept = Deduplication.Run(images, threshold, compareWithKeptOnly, progress);
        try
        {
            AtomicFile.WriteAllBytes(path, Encode(inputs, images.Count, kept));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            RunWarnings.Report($"cannot write the de-duplication cache in {directory} ({DataFile.OneLine(e.Message)}); it is recomputed on every use (set {DirectoryVariable}=none to skip it)",
                key: "dedup-cache-write");
        }
        return kept;
    }

    /// <summary>magic, version, count, kept count, kept indices, SHA-256 of (inputs, count, kept indices).</summary>
    internal static byte[] Encode(string inputs, int count, int[] kept)
    {
        var bytes = new byte[16 + 4 * kept.Length + 32];
        BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), FormatVersion);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), count);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12), kept.Length);
        for (int i = 0; i < kept.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(16 + 4 * i), kept[i]);
        Checksum(inputs, bytes.AsSpan(0, 16 + 4 * kept.Length)).CopyTo(bytes.AsSpan(16 + 4 * kept.Length));
        return bytes;
    }

    private static byte[] Checksum(string inputs, ReadOnlySpan<byte> body)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(Encoding.UTF8.GetBytes(inputs));
        sha.AppendData(body);
        return sha.GetHashAndReset();
    }

    /// <summary>The kept indices of a sound entry; null when there is none (<paramref name="damaged"/> when a file exists but does not check out).</summary>
    private static int[]? TryRead(string path, string inputs, int count, out bool damaged)
    {
        damaged = false;
        byte[] bytes;
        try
        {
            if (!File.Exists(path)) return null;
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        damaged = true;
        if (bytes.Length < 48 || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic || BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)) != FormatVersion) return null;
        if (BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8)) != count) return null;
        int k = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12));
        if (k < 0 || k > count || bytes.Length != 16 + 4L * k + 32) return null;
        if (!Checksum(inputs, bytes.AsSpan(0, 16 + 4 * k)).AsSpan().SequenceEqual(bytes.AsSpan(16 + 4 * k))) return null;
        var kept = new int[k];
        for (int i = 0; i < k; i++)
        {
            kept[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(16 + 4 * i));
            if (kept[i] < 0 || kept[i] >= count || (i > 0 && kept[i] <= kept[i - 1])) return null;
        }
        damaged = false;
        return kept;
    }
}
