using System.Globalization;
using System.Text.RegularExpressions;

namespace MemGen.Images;

/// <summary>
/// Writes files atomically: content goes to a temporary file in the same folder, which is renamed over the
/// target only once complete, so a killed process never leaves a half-written result behind.
/// </summary>
public static partial class AtomicFile
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
    /// Deletes the temp files (<c>.NAME.PID.GUID.tmp</c>) that writers killed mid-write left in <paramref name="folder"/>
    /// and its subfolders: only those whose writer process is no longer running, so a live writer is never disturbed.
    /// Returns the number of bytes freed.
    /// </summary>
    public static long RemoveStaleTemporaries(string folder)
    {
        if (!Directory.Exists(folder) || !Directory.Exists("/proc/self")) return 0; // without /proc no writer can be told alive
        long freed = 0;
        IEnumerable<string> files;
        try
        {
            files = Directory.EnumerateFiles(folder, ".*.tmp", SearchOption.AllDirectories).ToList();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
        foreach (var file in files)
        {
            var match = TemporaryName().Match(Path.GetFileName(file));
            if (!match.Success || !int.TryParse(match.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) continue;
            if (pid == Environment.ProcessId || IsRunning(pid)) continue;
            try
            {
                long length = new FileInfo(file).Length;
                File.Delete(file);
                freed += length;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return freed;
    }

    /// <summary>True when a process with id <paramref name="pid"/> exists on this machine (Linux: /proc/PID).</summary>
    internal static bool IsRunning(int pid) => pid > 0 && Directory.Exists($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}");

    [GeneratedRegex(@"^\..+\.(\d+)\.[0-9a-f]{32}\.tmp$")]
    private static partial Regex TemporaryName();
}
