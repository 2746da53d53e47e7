namespace MemGen.Execution;

/// <summary>What <see cref="PlanExecutor.Execute"/> did: exactly one of the three is set.</summary>
/// <param name="Submitted">With <c>--executor slurm</c>: the submission (or, in a dry run, the submission it would make).</param>
/// <param name="Ran">With the local executor: the jobs run.</param>
/// <param name="Listed">A local dry run: the plan and where each job stands.</param>
public sealed record PlanExecutionResult(SlurmSubmitResult? Submitted, LocalRunResult? Ran, PlanStatus? Listed);

/// <summary>
/// The one entry point an experiment command calls with its job plan: submits it to Slurm (<see cref="SlurmExecutor"/>),
/// runs it here (<see cref="LocalExecutor"/>), or, with <see cref="ExecutionSettings.DryRun"/>, only lists it. A local run
/// is refused while tasks of an earlier Slurm submission of the same run directory are still queued (both would run the
/// same jobs). Bad settings are an <see cref="InvalidSettingException"/>, other problems an <see cref="ExecutionException"/>
/// (one line each).
/// </summary>
public static class PlanExecutor
{
    /// <summary>Executes <paramref name="plan"/> in <paramref name="runDirectory"/> as <paramref name="settings"/> say.</summary>
    public static PlanExecutionResult Execute(JobPlan plan, string runDirectory, ExecutionSettings settings, IJobRunner localRunner,
        ISlurmScheduler slurm, MemgenProgram memgen, IProgress<LocalJobProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(localRunner);
        ArgumentNullException.ThrowIfNull(slurm);
        settings.Validate(runDirectory);
        if (settings.Executor == ExecutorKind.Slurm)
            return new PlanExecutionResult(SlurmExecutor.Submit(plan, runDirectory, settings, memgen, slurm), null, null);

        CheckNothingQueued(plan, runDirectory, slurm);
        if (settings.DryRun) return new PlanExecutionResult(null, null, PlanStatus.Of(plan, runDirectory, [], []));
        return new PlanExecutionResult(null, LocalExecutor.Run(plan, runDirectory, localRunner, progress, cancellation), null);
    }

    /// <summary>
    /// Refuses (<see cref="ExecutionException"/>, naming up to three tasks) while tasks of an earlier Slurm submission of
    /// <paramref name="plan"/> in <paramref name="runDirectory"/> are still queued or running: running the same jobs here as
    /// well would clash. Asks the queue only if the run directory records this plan and submissions.
    /// </summary>
    public static void CheckNothingQueued(JobPlan plan, string runDirectory, ISlurmScheduler slurm)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(slurm);
        if (!plan.CheckRecord(runDirectory) || SlurmSubmission.LoadAll(runDirectory).Count == 0) return;
        var queued = PlanStatus.Of(plan, runDirectory, slurm).Jobs.Where(j => j.State is JobState.Running or JobState.Pending).ToList();
        if (queued.Count > 0)
            throw new ExecutionException($"--executor: {queued.Count} job(s) of {runDirectory} are still queued on Slurm " +
                $"({string.Join(", ", queued.Take(3).Select(j => j.Task!.TaskId))}{(queued.Count > 3 ? ", ..." : "")}); wait for them or scancel them before running locally");
    }
}
