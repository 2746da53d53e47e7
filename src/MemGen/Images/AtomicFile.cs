using System.Globalization;

namespace MemGen.Images;

/// <summary>
/// Writes files atomically: content goes to a temporary file in the same folder, which is renamed over the
/// target only once complete, so a killed process never leaves a half-written result behind.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes through <paramref name="write"/> into a temp file, then renames it to <paramref name="path"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        var folder = Path.GetDirectoryName(full)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(full)}.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16))
            {
                write(stream);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: true);
        }
        catch (ArgumentOutOfRangeException e) when (e.ParamName == "value")
        {
            // .NET reports EFBIG (a file past the file system's or the process's size limit) this way: a disk problem.
            try { File.Delete(temp); } catch (IOException) { }
            throw new IOException($"cannot write {full}: the file system refuses a file this large ({e.Message})", e);
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { }
            throw;
        }
    }

    /// <summary>The process id in the name of one of this class's temp files (<c>.NAME.PID.GUID.tmp</c>), or null for other names.</summary>
    public static int? WriterOf(string tempPath)
    {
        var parts = Path.GetFileName(tempPath).Split('.');
        return parts.Length >= 5 && parts[^1] == "tmp" && int.TryParse(parts[^3], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var pid)
            ? pid : null;
    }

    /// <summary>Writes <paramref name="text"/> (UTF-8) atomically.</summary>
    public static void WriteAllText(string path, string text) =>
        Write(path, s => { using var w = new StreamWriter(s, new System.Text.UTF8Encoding(false), leaveOpen: true); w.Write(text); });

    /// <summary>Writes <paramref name="bytes"/> atomically.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>
    /// Deletes the <c>.*.tmp</c> files (this class's temp files, <c>.NAME.PID.GUID.tmp</c>) that writers killed mid-write
    /// left in <paramref name="folder"/> (and below it when <paramref name="recursive"/>): never those of a process still
    /// running on this machine, this one included, so a live writer is not disturbed. Returns the number of bytes freed.
    /// </summary>
    public static long RemoveStaleTemporaries(string folder, bool recursive = true)
    {
        if (!Directory.Exists(folder) || !Directory.Exists("/proc/self")) return 0; // without /proc no writer can be told alive
        List<string> files;
        try
        {
            files = [.. Directory.EnumerateFiles(folder, ".*.tmp", recursive ? SearchOption.AllDirectories : SearchOption.TopDirectoryOnly)];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        long freed = 0;
        foreach (var file in files)
        {
            if (WriterOf(file) is int pid && (pid == Environment.ProcessId || IsRunning(pid))) continue;
            try
            {
                long length = new FileInfo(file).Length;
                File.Delete(file);
                freed += length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Another process may be finishing it; it renames or deletes it itself.
            }
        }
        return freed;
    }

    /// <summary>True when a process with id <paramref name="pid"/> exists on this machine (Linux: /proc/PID).</summary>
    internal static bool IsRunning(int pid) => pid > 0 && Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}");
}
