namespace MemGen.Execution;

/// <summary>
/// One unit of an experiment's work: a complete <c>memgen</c> command line and the file whose existence marks it done.
/// The command must be resumable (safe to run again after an interruption) and deterministic, because a failed or
/// preempted job is simply run again, and the local and Slurm executors run exactly this command.
/// </summary>
/// <param name="Id">Unique in its plan; lower-case letters, digits, '.', '_' and '-' (e.g. <c>train-n10-s1</c>).</param>
/// <param name="Arguments">The arguments after <c>memgen</c> (e.g. <c>["train", "--out", "/abs/run/n-10/s1", ...]</c>);
/// paths in them should be absolute, since the job may run on another machine.</param>
/// <param name="Marker">Path relative to the run directory (with '/') of a file the job writes last (atomically):
/// the job is done exactly when it exists.</param>
public sealed record PlannedJob(string Id, IReadOnlyList<string> Arguments, string Marker)
{
    /// <summary>The marker as an absolute path inside <paramref name="runDirectory"/>.</summary>
    public string MarkerPath(string runDirectory) => Path.Combine(runDirectory, Marker.Replace('/', Path.DirectorySeparatorChar));

    /// <summary>Whether the job is done in <paramref name="runDirectory"/> (its marker exists).</summary>
    public bool IsDone(string runDirectory) => File.Exists(MarkerPath(runDirectory));
}
