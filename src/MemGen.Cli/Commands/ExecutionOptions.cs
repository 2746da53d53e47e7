using System.CommandLine;
using MemGen.Execution;

namespace MemGen.Cli.Commands;

/// <summary>
/// The flags of every experiment whose work is a job plan: <c>--executor local|slurm</c>, the Slurm resources of each
/// task, <c>--sbatch-arg</c> (repeatable) and <c>--dry-run</c>. <see cref="AddTo"/> puts them on a command,
/// <see cref="Parse"/> reads them into an <see cref="ExecutionSettings"/> (validate it with the run directory).
/// </summary>
internal sealed class ExecutionOptions
{
    private readonly Option<string> _executor = new("--executor")
    {
        Description = "local: run the jobs here, one after another (default). slurm: submit them to Slurm as one job array per stage " +
                      "and return; run the same command again to resubmit what failed, 'memgen experiment status RUN_DIR' to follow it. " +
                      "With slurm, --out must be an absolute path on a filesystem every node shares.",
        DefaultValueFactory = _ => "local",
    };

    private readonly Option<string?> _partition = new("--partition") { Description = "Slurm partition of every task (default: the cluster's default)." };
    private readonly Option<string?> _time = new("--time") { Description = "Slurm time limit of every task, e.g. 90 (minutes), 4:00:00, 1-12." };
    private readonly Option<int?> _cpus = new("--cpus-per-task") { Description = "Cores per Slurm task; memgen uses that many threads (default: Slurm's, 1 on most clusters)." };
    private readonly Option<int?> _gpus = new("--gpus-per-task") { Description = "GPUs per Slurm task." };
    private readonly Option<string?> _account = new("--account") { Description = "Slurm account charged for the tasks." };
    private readonly Option<int?> _maxConcurrent = new("--max-concurrent") { Description = "At most this many tasks of a stage run at once (Slurm array throttle %K)." };

    private readonly Option<string[]> _sbatchArgs = new("--sbatch-arg")
    {
        Description = "Another sbatch option for every task, with its value after '=' (repeatable), e.g. --sbatch-arg=--constraint=a100 --sbatch-arg=--qos=long.",
        AllowMultipleArgumentsPerToken = false,
    };

    private readonly Option<bool> _dryRun = new("--dry-run") { Description = "Print the job plan (and for slurm the sbatch scripts and commands) without running or submitting anything." };

    /// <summary>Creates the options.</summary>
    public ExecutionOptions() => _executor.AcceptOnlyFromAmong("local", "slurm");

    /// <summary>Adds the options to <paramref name="command"/>.</summary>
    public void AddTo(Command command)
    {
        ArgumentNullException.ThrowIfNull(command);
        foreach (var o in new Option[] { _executor, _partition, _time, _cpus, _gpus, _account, _maxConcurrent, _sbatchArgs, _dryRun })
            command.Options.Add(o);
    }

    /// <summary>The settings the flags give (not yet validated: call <see cref="ExecutionSettings.Validate"/> with the run directory).</summary>
    public ExecutionSettings Parse(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        return new ExecutionSettings
        {
            Executor = parse.GetValue(_executor) == "slurm" ? ExecutorKind.Slurm : ExecutorKind.Local,
            Partition = parse.GetValue(_partition),
            Time = parse.GetValue(_time),
            CpusPerTask = parse.GetValue(_cpus),
            GpusPerTask = parse.GetValue(_gpus),
            Account = parse.GetValue(_account),
            MaxConcurrent = parse.GetValue(_maxConcurrent),
            SbatchArguments = parse.GetValue(_sbatchArgs) ?? [],
            DryRun = parse.GetValue(_dryRun),
        };
    }
}
