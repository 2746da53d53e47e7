namespace MemGen.Execution;

/// <summary>
/// A set of independent jobs that may run in parallel (one Slurm job array; the array index of a job is its position
/// in <see cref="Jobs"/>), started only after every job of the stages named in <see cref="After"/> is done.
/// </summary>
public sealed record PlanStage
{
    /// <summary>Unique in its plan; lower-case letters, digits, '.', '_' and '-' (e.g. <c>train</c>).</summary>
    public required string Name { get; init; }

    /// <summary>The jobs, in array-index order.</summary>
    public required IReadOnlyList<PlannedJob> Jobs { get; init; }

    /// <summary>Names of earlier stages whose jobs must all be done before any job of this stage starts.</summary>
    public IReadOnlyList<string> After { get; init; } = [];
}
