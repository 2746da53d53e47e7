namespace MemGen.Execution;

/// <summary>Where a planned job stands.</summary>
public enum JobState
{
    /// <summary>Its marker exists.</summary>
    Done,

    /// <summary>Running on the cluster (or finishing).</summary>
    Running,

    /// <summary>Queued on the cluster, waiting for resources or for the jobs it depends on.</summary>
    Pending,

    /// <summary>Submitted, not done and no longer queued: it failed, was cancelled or was preempted; its log says why.</summary>
    Failed,

    /// <summary>Not done and never submitted (not run yet, or a local run stopped before it).</summary>
    NotStarted,
}
