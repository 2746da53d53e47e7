using System.Diagnostics;

namespace MemGen.Execution;

/// <summary>
/// Runs a job as a child process: <see cref="MemgenProgram"/> plus the job's arguments, in the run directory (as
/// Slurm runs it), with this process's environment plus <paramref name="environment"/>. Its output goes to this
/// process's console, or to <c>LOGS/JOB.log</c> when a log folder is given. When cancelled, the child gets
/// <paramref name="grace"/> to stop by itself (a Ctrl+C in the terminal reaches it too; memgen's commands stop
/// cleanly at a checkpoint), then it is killed.
/// </summary>
/// <param name="memgen">The memgen command.</param>
/// <param name="logDirectory">Folder for one log file per job, or null for the console.</param>
/// <param name="environment">Variables set (null value: removed) for the child, e.g. OMP_NUM_THREADS.</param>
/// <param name="grace">Time a cancelled child has to exit before it is killed (default 30 s).</param>
public sealed class ChildProcessJobRunner(MemgenProgram memgen, string? logDirectory = null,
    IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? grace = null) : IJobRunner
{
    /// <inheritdoc/>
    public string? LogPath(PlannedJob job, string runDirectory)
    {
        ArgumentNullException.ThrowIfNull(job);
        return logDirectory is null ? null : Path.GetFullPath(Path.Combine(runDirectory, logDirectory, job.Id + ".log"));
    }

    /// <inheritdoc/>
    public int Run(PlannedJob job, string runDirectory, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(job);
        var commandLine = memgen.CommandLine(job);
        var info = new ProcessStartInfo(commandLine[0])
        {
            WorkingDirectory = runDirectory,
            UseShellExecute = false,
        };
        foreach (var a in commandLine.Skip(1)) info.ArgumentList.Add(a);
        EnvironmentOverrides.ApplyTo(info, environment);
        var log = LogPath(job, runDirectory);
        StreamWriter? writer = null;
        if (log is not null)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(log)!);
            writer = new StreamWriter(log, append: false) { AutoFlush = true };
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
        }
        Directory.CreateDirectory(runDirectory);
        using (writer)
        using (var process = Process.Start(info) ?? throw new ExecutionException($"job {job.Id}: {commandLine[0]} could not be started"))
        {
            if (writer is not null)
            {
                var gate = new object();
                void Copy(object _, DataReceivedEventArgs e)
                {
                    if (e.Data is null) return;
                    lock (gate) writer.WriteLine(e.Data);
                }
                process.OutputDataReceived += Copy;
                process.ErrorDataReceived += Copy;
                process.BeginOutputReadLine();
                process.BeginErrorReadLine();
            }
            try
            {
                process.WaitForExitAsync(cancellation).GetAwaiter().GetResult();
            }
            catch (OperationCanceledException)
            {
                if (!process.WaitForExit(grace ?? TimeSpan.FromSeconds(30)))
                {
                    try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                    process.WaitForExit();
                }
                throw;
            }
            process.WaitForExit(); // drains the redirected output
            return process.ExitCode;
        }
    }
}
