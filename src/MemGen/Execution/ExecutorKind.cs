namespace MemGen.Execution;

/// <summary>Where an experiment's jobs run.</summary>
public enum ExecutorKind
{
    /// <summary>Here, one job after another, in the plan's order (the default).</summary>
    Local,

    /// <summary>On a Slurm cluster: one job array per stage, submitted with <c>sbatch</c>; the command returns at once.</summary>
    Slurm,
}
