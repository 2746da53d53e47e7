using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;

namespace MemGen.Execution;

/// <summary>
/// The Slurm client commands, run as processes: <c>sbatch --parsable</c>, <c>squeue</c>, <c>scancel</c>. Every
/// failure (command not installed, non-zero exit, output it cannot read, no answer within the timeout) is a
/// <see cref="SlurmCommandException"/> with one line naming the command and its first line of error output.
/// </summary>
public sealed class SlurmClient : ISlurmScheduler
{
    private readonly string? _binDirectory;
    private readonly IReadOnlyDictionary<string, string?> _environment;
    private readonly TimeSpan _timeout;

    /// <summary>Creates a client.</summary>
    /// <param name="binDirectory">Folder holding sbatch, squeue and scancel (default: found on PATH).</param>
    /// <param name="environment">Variables set (or, when null, removed) for the commands, e.g. SLURM_CONF; sbatch passes its environment on to the tasks.</param>
    /// <param name="timeout">How long one command may take (default 60 s; a busy controller answers slowly).</param>
    public SlurmClient(string? binDirectory = null, IReadOnlyDictionary<string, string?>? environment = null, TimeSpan? timeout = null)
    {
        _binDirectory = binDirectory;
        _environment = environment ?? new Dictionary<string, string?>();
        _timeout = timeout ?? TimeSpan.FromSeconds(60);
    }

    /// <inheritdoc/>
    public string Submit(IReadOnlyList<string> options, string scriptPath)
    {
        ArgumentNullException.ThrowIfNull(options);
        var output = Run("sbatch", ["--parsable", .. options, scriptPath]);
        // --parsable prints "JOBID" or "JOBID;CLUSTER".
        var line = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).LastOrDefault() ?? "";
        var id = line.Split(';')[0];
        if (id.Length == 0 || !id.All(char.IsAsciiDigit))
            throw new SlurmCommandException($"sbatch printed '{line}' instead of a job id");
        return id;
    }

    /// <inheritdoc/>
    public IReadOnlyList<QueuedTask> Queue()
    {
        // This user's jobs (--user rather than --me, which Slurm < 20.11 lacks); --array: one line per array task,
        // pending ones too; %F array job id, %K array index, %T state, %r reason.
        var output = Run("squeue", ["--user=" + Environment.UserName, "--noheader", "--array", "--format=%F|%K|%T|%r"]);
        var tasks = new List<QueuedTask>();
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var f = line.Split('|');
            if (f.Length != 4 || f[0].Length == 0 || !f[0].All(char.IsAsciiDigit))
                throw new SlurmCommandException($"squeue printed a line memgen cannot read: '{line}'");
            int index = f[1] == "N/A" ? -1
                : int.TryParse(f[1], NumberStyles.None, CultureInfo.InvariantCulture, out var k) ? k
                : throw new SlurmCommandException($"squeue printed a line memgen cannot read: '{line}'");
            tasks.Add(new QueuedTask(f[0], index, f[2], f[3]));
        }
        return tasks;
    }

    /// <inheritdoc/>
    public void Cancel(IReadOnlyList<string> taskIds)
    {
        ArgumentNullException.ThrowIfNull(taskIds);
        if (taskIds.Count > 0) Run("scancel", [.. taskIds]);
    }

    private string Run(string program, IReadOnlyList<string> arguments)
    {
        var info = new ProcessStartInfo(_binDirectory is null ? program : Path.Combine(_binDirectory, program))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in arguments) info.ArgumentList.Add(a);
        EnvironmentOverrides.ApplyTo(info, _environment);
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new SlurmCommandException($"{program} could not be started");
        }
        catch (Exception e) when (e is Win32Exception or FileNotFoundException)
        {
            throw new SlurmCommandException(
                $"{program} not found{(_binDirectory is null ? " on PATH" : $" in {_binDirectory}")}: --executor slurm needs the Slurm client commands " +
                "(run it on a login node of the cluster, or load the cluster's Slurm module)", e);
        }
        using (process)
        {
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(_timeout))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                throw new SlurmCommandException(string.Create(CultureInfo.InvariantCulture,
                    $"{program} did not answer within {_timeout.TotalSeconds:F0} s (is the Slurm controller reachable?)"));
            }
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                var error = FirstLine(stderr.Result) ?? FirstLine(stdout.Result) ?? "no error message";
                throw new SlurmCommandException(string.Create(CultureInfo.InvariantCulture, $"{program} failed (exit code {process.ExitCode}): {error}"));
            }
            return stdout.Result;
        }
    }

    private static string? FirstLine(string text) =>
        text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault();
}
