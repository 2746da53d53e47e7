namespace MemGen.Execution;

/// <summary>One array task in the Slurm queue, as <c>squeue</c> lists it.</summary>
/// <param name="ArrayJobId">The array's job id (what <c>sbatch --parsable</c> printed).</param>
/// <param name="Index">The array index, or -1 for a job that is not an array.</param>
/// <param name="State">Slurm's state name (PENDING, RUNNING, COMPLETING, ...).</param>
/// <param name="Reason">Why it is pending (e.g. Dependency, DependencyNeverSatisfied, Resources), "None" otherwise.</param>
public sealed record QueuedTask(string ArrayJobId, int Index, string State, string Reason)
{
    /// <summary>Slurm's id of this task, <c>ARRAY_INDEX</c>, as scancel and --dependency take it.</summary>
    public string TaskId => Index >= 0 ? $"{ArrayJobId}_{Index}" : ArrayJobId;

    /// <summary>Waiting to start (including held and requeued tasks).</summary>
    public bool IsPending => State is "PENDING" or "REQUEUED" or "REQUEUE_HOLD" or "REQUEUE_FED" or "RESV_DEL_HOLD";

    /// <summary>Pending on a dependency that can no longer be met (a job it waits for failed or was cancelled).</summary>
    public bool WaitsForever => IsPending && Reason == "DependencyNeverSatisfied";
}
