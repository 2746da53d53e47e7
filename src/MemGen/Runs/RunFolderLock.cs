using System.Globalization;
using System.Text;
using MemGen.Images;

namespace MemGen.Runs;

/// <summary>
/// The exclusive right of one process to write a run folder, held for as long as the returned object lives.
/// It is an OS record lock (fcntl, through <see cref="FileStream.Lock"/>) on the folder's <see cref="FileName"/>,
/// so the kernel releases it when the process ends in any way, kill -9 included. The holder writes its pid, host,
/// command and start time into the file; a second writer is refused with a <see cref="RunFolderLockedException"/>
/// naming it. A lock file whose holder died is taken over with a warning (<see cref="RunWarnings"/>), and the
/// temp files the dead writer left (<see cref="AtomicFile.RemoveStaleTemporaries"/>) are removed.
/// Releasing deletes the lock file, and the folder too when this lock created it and nothing was written into it,
/// so a refused command leaves nothing behind.
/// </summary>
/// <remarks>
/// POSIX record locks belong to the process and are dropped when any descriptor of the file is closed, so the
/// file is never opened twice by one process: a folder the process already holds is re-entered (counted), not
/// opened again. Lock files are unlinked while still locked; an acquirer that locked a file unlinked under it
/// (checked through /proc/self/fd) retries on the new one.
/// </remarks>
public sealed class RunFolderLock : IDisposable
{
    /// <summary>Name of the lock file inside a run folder.</summary>
    public const string FileName = ".memgen.lock";

    private static readonly Dictionary<string, Held> s_held = new(StringComparer.Ordinal);
    private readonly Held _held;
    private bool _disposed;

    private RunFolderLock(Held held) => _held = held;

    /// <summary>The folder (full path).</summary>
    public string Folder => _held.Folder;

    /// <summary>
    /// Locks <paramref name="folder"/>, creating it (and missing parents) unless <paramref name="create"/> is false.
    /// </summary>
    /// <exception cref="RunFolderLockedException">Another live process holds the folder.</exception>
    /// <exception cref="IOException">The path is a file, the folder is missing (with <paramref name="create"/> false) or cannot be written.</exception>
    /// <exception cref="UnauthorizedAccessException">The folder (or its parent) is not writable.</exception>
    public static RunFolderLock Acquire(string folder, bool create = true)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(folder));
        lock (s_held)
        {
            if (s_held.TryGetValue(full, out var held))
            {
                held.Count++;
                return new RunFolderLock(held);
            }
            if (File.Exists(full)) throw new IOException($"{full} is a file, not a folder");
            var created = new List<string>();
            if (!Directory.Exists(full))
            {
                if (!create) throw new DirectoryNotFoundException($"{full}: no such folder");
                for (var d = full; d is not null && !Directory.Exists(d); d = Path.GetDirectoryName(d)) created.Add(d);
                Directory.CreateDirectory(full);
            }
            string previous;
            try
            {
                (var stream, previous) = Lock(Path.Combine(full, FileName), full);
                held = new Held(full, stream, created);
                s_held.Add(full, held);
            }
            catch
            {
                RemoveEmpty(created);
                throw;
            }
            if (previous.Length > 0)
                RunWarnings.Report($"{full}: taking over the lock of a memgen process that is no longer running ({previous})");
            long freed = AtomicFile.RemoveStaleTemporaries(full);
            if (freed > 0)
                RunWarnings.Report(string.Create(CultureInfo.InvariantCulture, $"{full}: removed {freed} bytes of temp files left by a killed writer"));
            return new RunFolderLock(held);
        }
    }

    /// <summary>True when <paramref name="folder"/> does not exist or holds nothing but a lock file.</summary>
    public static bool IsEmpty(string folder) =>
        !Directory.Exists(folder) || !Directory.EnumerateFileSystemEntries(folder).Any(e => Path.GetFileName(e) != FileName);

    /// <summary>Releases this hold; the last one deletes the lock file (and the folder if this lock created it and it is empty).</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        lock (s_held)
        {
            if (--_held.Count > 0) return;
            s_held.Remove(_held.Folder);
            try
            {
                File.Delete(Path.Combine(_held.Folder, FileName)); // unlinked while still locked: see the remarks
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
            _held.Stream.Dispose();
            RemoveEmpty(_held.Created);
        }
    }

    /// <summary>Opens and locks the lock file; returns it and what a dead previous holder had written (one line, may be empty).</summary>
    private static (FileStream Stream, string Previous) Lock(string path, string folder)
    {
        for (int attempt = 0; ; attempt++)
        {
            var stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
            try
            {
                try
                {
                    if (!OperatingSystem.IsMacOS()) stream.Lock(0, 1); // MemGen runs on Linux; .NET has no record locks on macOS
                }
                catch (IOException)
                {
                    throw new RunFolderLockedException(folder, ReadLine(stream));
                }
                if (IsUnlinked(stream) && attempt < 10) // the previous holder deleted it as we opened it: lock the new one
                {
                    stream.Dispose();
                    continue;
                }
                string previous = ReadLine(stream);
                stream.SetLength(0);
                var args = Environment.GetCommandLineArgs();
                var command = string.Join(' ', args.Length > 1 && args[0].EndsWith(".dll", StringComparison.Ordinal) ? ["memgen", .. args[1..]] : args);
                var text = string.Create(CultureInfo.InvariantCulture,
                    $"pid {Environment.ProcessId} on {Environment.MachineName}, started {DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}: {command}\n");
                stream.Write(Encoding.UTF8.GetBytes(text));
                stream.Flush(flushToDisk: true);
                return (stream, previous);
            }
            catch
            {
                stream.Dispose();
                throw;
            }
        }
    }

    /// <summary>The holder's description, on one line and at most 300 characters.</summary>
    private static string ReadLine(FileStream stream)
    {
        stream.Position = 0;
        var buffer = new byte[1024];
        int n = stream.Read(buffer);
        var text = Encoding.UTF8.GetString(buffer, 0, n).Replace('\r', ' ').Replace('\n', ' ').Trim();
        return text.Length > 300 ? text[..300] + "…" : text;
    }

    /// <summary>True when the file behind <paramref name="stream"/> no longer has a name (Linux /proc/self/fd; false elsewhere).</summary>
    private static bool IsUnlinked(FileStream stream)
    {
        var link = $"/proc/self/fd/{stream.SafeFileHandle.DangerousGetHandle().ToInt64().ToString(CultureInfo.InvariantCulture)}";
        try
        {
            return File.ResolveLinkTarget(link, returnFinalTarget: false)?.FullName.EndsWith(" (deleted)", StringComparison.Ordinal) == true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static void RemoveEmpty(List<string> created)
    {
        foreach (var dir in created) // deepest first
        {
            try
            {
                if (Directory.Exists(dir) && !Directory.EnumerateFileSystemEntries(dir).Any()) Directory.Delete(dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }
        }
    }

    private sealed class Held(string folder, FileStream stream, List<string> created)
    {
        public string Folder { get; } = folder;
        public FileStream Stream { get; } = stream;
        public List<string> Created { get; } = created;
        public int Count { get; set; } = 1;
    }
}
