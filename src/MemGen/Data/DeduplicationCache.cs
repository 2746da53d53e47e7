using System.Buffers.Binary;
using System.Globalization;
using MemGen.Images;

namespace MemGen.Data;

/// <summary>
/// Remembers de-duplication results on disk, keyed by the SHA-256 of the image set (<see cref="SplitManifest.Hash"/>),
/// the threshold and the mode, so re-loading e.g. <c>fashion-mnist:train|dedup</c> costs a hash instead of the
/// all-pairs correlation. A missing, unreadable or inconsistent cache entry is simply recomputed.
/// Folder: <c>$MEMGEN_CACHE_DIR</c> (set it to <c>none</c> to disable), else <c>$XDG_CACHE_HOME/memgen</c>, else <c>~/.cache/memgen</c>.
/// </summary>
public static class DeduplicationCache
{
    /// <summary>Environment variable naming the cache folder (<c>none</c> disables caching).</summary>
    public const string DirectoryVariable = "MEMGEN_CACHE_DIR";

    private const uint Magic = 0x4444474D; // "MGDD"
    private const int FormatVersion = 1;

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
    /// </summary>
    public static int[] Run(ImageSet images, double threshold = Deduplication.DefaultThreshold, bool compareWithKeptOnly = false,
        IProgress<double>? progress = null, string? directory = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        directory ??= DefaultDirectory;
        if (directory is null) return Deduplication.Run(images, threshold, compareWithKeptOnly, progress);
        string path = Path.Combine(directory, "dedup", string.Create(CultureInfo.InvariantCulture,
            $"{SplitManifest.Hash(images)}-{threshold:R}-{(compareWithKeptOnly ? "kept" : "any")}-v{FormatVersion}.bin"));
        var cached = TryRead(path, images.Count);
        if (cached is not null)
        {
            progress?.Report(1);
            return cached;
        }
        var kept = Deduplication.Run(images, threshold, compareWithKeptOnly, progress);
        try
        {
            var bytes = new byte[12 + 4 * kept.Length];
            BinaryPrimitives.WriteUInt32LittleEndian(bytes, Magic);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(4), images.Count);
            BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), kept.Length);
            for (int i = 0; i < kept.Length; i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(12 + 4 * i), kept[i]);
            AtomicFile.WriteAllBytes(path, bytes);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // A cache that cannot be written only costs time later.
        }
        return kept;
    }

    private static int[]? TryRead(string path, int count)
    {
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
        if (bytes.Length < 12 || BinaryPrimitives.ReadUInt32LittleEndian(bytes) != Magic) return null;
        if (BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(4)) != count) return null;
        int k = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(8));
        if (k < 0 || k > count || bytes.Length != 12 + 4L * k) return null;
        var kept = new int[k];
        for (int i = 0; i < k; i++)
        {
            kept[i] = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(12 + 4 * i));
            if (kept[i] < 0 || kept[i] >= count || (i > 0 && kept[i] <= kept[i - 1])) return null;
        }
        return kept;
    }
}
