namespace MemGen.Execution;

/// <summary>
/// Runs a job inside this process through <paramref name="run"/> (e.g. the experiment's own code for that job id), for
/// a local run without child processes; <paramref name="run"/> returns the exit code the job's memgen command would.
/// </summary>
public sealed class InProcessJobRunner(Func<PlannedJob, CancellationToken, int> run) : IJobRunner
{
    /// <inheritdoc/>
    public int Run(PlannedJob job, string runDirectory, CancellationToken cancellation) => run(job, cancellation);

    /// <inheritdoc/>
    public string? LogPath(PlannedJob job, string runDirectory) => null;
}
