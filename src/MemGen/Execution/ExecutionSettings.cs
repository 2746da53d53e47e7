using System.Globalization;
using System.Text.RegularExpressions;

namespace MemGen.Execution;

/// <summary>
/// How an experiment's job plan is executed: <c>--executor local|slurm</c> and the Slurm resources of every task.
/// <see cref="Validate"/> names the setting at fault (its flag without "--"; <c>out</c> is the run directory).
/// </summary>
public sealed partial record ExecutionSettings
{
    /// <summary>Local (default) or Slurm.</summary>
    public ExecutorKind Executor { get; init; } = ExecutorKind.Local;

    /// <summary><c>--partition</c> of every task (Slurm's default partition if null).</summary>
    public string? Partition { get; init; }

    /// <summary><c>--time</c> limit of every task, in a Slurm time format (e.g. <c>90</c>, <c>4:00:00</c>, <c>1-12</c>).</summary>
    public string? Time { get; init; }

    /// <summary><c>--cpus-per-task</c>; the engine then uses that many threads (OMP_NUM_THREADS).</summary>
    public int? CpusPerTask { get; init; }

    /// <summary><c>--gpus-per-task</c>.</summary>
    public int? GpusPerTask { get; init; }

    /// <summary><c>--account</c> charged for the tasks.</summary>
    public string? Account { get; init; }

    /// <summary>At most this many tasks of one array run at once (the array throttle <c>%K</c>).</summary>
    public int? MaxConcurrent { get; init; }

    /// <summary>Further sbatch options, one per entry in <c>--option=value</c> form (written as <c>#SBATCH</c> lines).</summary>
    public IReadOnlyList<string> SbatchArguments { get; init; } = [];

    /// <summary>Print the plan (and, for Slurm, the scripts and sbatch commands) instead of running or submitting it.</summary>
    public bool DryRun { get; init; }

    /// <summary>Options memgen sets itself (or through the settings above); as pass-through they would contradict it.</summary>
    private static readonly (string Long, string? Short, string Use)[] s_reserved =
    [
        ("--array", "-a", "memgen sets it (use --max-concurrent for the throttle)"),
        ("--dependency", "-d", "memgen sets it from the plan"),
        ("--output", "-o", "memgen writes the logs to RUN_DIR/slurm/logs"),
        ("--error", "-e", "memgen writes the logs to RUN_DIR/slurm/logs"),
        ("--job-name", "-J", "memgen names the jobs"),
        ("--chdir", "-D", "the tasks run in the run directory"),
        ("--parsable", null, "memgen sets it"),
        ("--wrap", null, "the tasks run memgen's scripts"),
        ("--partition", "-p", "use --partition"),
        ("--time", "-t", "use --time"),
        ("--cpus-per-task", "-c", "use --cpus-per-task"),
        ("--gpus-per-task", null, "use --gpus-per-task"),
        ("--account", "-A", "use --account"),
    ];

    /// <summary>
    /// Throws <see cref="InvalidSettingException"/> naming the first problem with these settings for a run in
    /// <paramref name="runDirectory"/> (setting <c>out</c>). Slurm needs an absolute run directory (every node reads and
    /// writes it, so it must be on a filesystem they share); the Slurm options are refused with the local executor,
    /// where they would be ignored.
    /// </summary>
    public void Validate(string runDirectory)
    {
        ArgumentNullException.ThrowIfNull(runDirectory);
        if (Executor == ExecutorKind.Local)
        {
            var slurmOnly = new (string Flag, bool Given)[]
            {
                ("partition", Partition is not null), ("time", Time is not null), ("cpus-per-task", CpusPerTask is not null),
                ("gpus-per-task", GpusPerTask is not null), ("account", Account is not null), ("max-concurrent", MaxConcurrent is not null),
                ("sbatch-arg", SbatchArguments.Count > 0),
            };
            if (slurmOnly.FirstOrDefault(s => s.Given) is { Flag: not null } given)
                throw new InvalidSettingException(given.Flag, "only applies with --executor slurm");
            return;
        }
        if (!Path.IsPathFullyQualified(runDirectory))
            throw new InvalidSettingException("out", $"'{runDirectory}' is not an absolute path; with --executor slurm every node reads and writes the run directory, " +
                   "so give its absolute path on a filesystem all nodes share");
        if (runDirectory.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
            throw new InvalidSettingException("out", $"'{runDirectory.ReplaceLineEndings(" ")}' contains whitespace, which #SBATCH lines cannot hold; choose a path without spaces");
        if (Partition is not null && !SlurmNamePattern().IsMatch(Partition))
            throw new InvalidSettingException("partition", $"'{Partition}' is not a partition name (letters, digits and _ . , + : -)");
        if (Account is not null && !SlurmNamePattern().IsMatch(Account))
            throw new InvalidSettingException("account", $"'{Account}' is not an account name (letters, digits and _ . , + : -)");
        if (Time is not null && !TimePattern().IsMatch(Time))
            throw new InvalidSettingException("time", $"'{Time}' is not a Slurm time limit (minutes, M:S, H:M:S, D-H, D-H:M, D-H:M:S or UNLIMITED)");
        if (CpusPerTask is < 1)
            throw new InvalidSettingException("cpus-per-task", string.Create(CultureInfo.InvariantCulture, $"must be at least 1, not {CpusPerTask}"));
        if (GpusPerTask is < 1)
            throw new InvalidSettingException("gpus-per-task", string.Create(CultureInfo.InvariantCulture, $"must be at least 1, not {GpusPerTask} (leave it out for no GPU)"));
        if (MaxConcurrent is < 1)
            throw new InvalidSettingException("max-concurrent", string.Create(CultureInfo.InvariantCulture, $"must be at least 1, not {MaxConcurrent}"));
        foreach (var arg in SbatchArguments)
        {
            if (!arg.StartsWith('-') || arg == "-" || arg == "--")
                throw new InvalidSettingException("sbatch-arg", $"'{arg}' is not an sbatch option; give one option per --sbatch-arg, its value after '=' (e.g. --sbatch-arg=--constraint=a100)");
            if (arg.Any(c => char.IsWhiteSpace(c) || char.IsControl(c)))
                throw new InvalidSettingException("sbatch-arg", $"'{arg.ReplaceLineEndings(" ")}' contains whitespace; give one option per --sbatch-arg, its value after '=' without spaces");
            foreach (var (longName, shortName, use) in s_reserved)
            {
                bool isLong = arg == longName || arg.StartsWith(longName + "=", StringComparison.Ordinal);
                bool isShort = shortName is not null && !arg.StartsWith("--", StringComparison.Ordinal) && arg.StartsWith(shortName, StringComparison.Ordinal);
                if (isLong || isShort) throw new InvalidSettingException("sbatch-arg", $"'{arg}' cannot be passed through: {use}");
            }
        }
    }

    [GeneratedRegex(@"^[A-Za-z0-9_.,+:-]+$")]
    private static partial Regex SlurmNamePattern();

    [GeneratedRegex(@"^(\d+|\d+:\d+|\d+:\d+:\d+|\d+-\d+|\d+-\d+:\d+|\d+-\d+:\d+:\d+|UNLIMITED|INFINITE|unlimited|infinite)$")]
    private static partial Regex TimePattern();
}
