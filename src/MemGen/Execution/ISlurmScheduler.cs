namespace MemGen.Execution;

/// <summary>The three Slurm client operations the executor needs (implemented by <see cref="SlurmClient"/>).</summary>
public interface ISlurmScheduler
{
    /// <summary><c>sbatch --parsable OPTIONS SCRIPT</c>; returns the job id.</summary>
    string Submit(IReadOnlyList<string> options, string scriptPath);

    /// <summary>The caller's queued and running tasks, one per array task.</summary>
    IReadOnlyList<QueuedTask> Queue();

    /// <summary><c>scancel</c> of the given task ids (<c>ARRAY_INDEX</c> or job ids).</summary>
    void Cancel(IReadOnlyList<string> taskIds);
}
