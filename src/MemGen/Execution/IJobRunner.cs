namespace MemGen.Execution;

/// <summary>Runs one planned job here and now (the local executor's way to run a job).</summary>
public interface IJobRunner
{
    /// <summary>Runs <paramref name="job"/> in <paramref name="runDirectory"/> to its end; returns its exit code (0: success).</summary>
    int Run(PlannedJob job, string runDirectory, CancellationToken cancellation);

    /// <summary>Where the output of <paramref name="job"/> went, if to a file (named in error messages); else null.</summary>
    string? LogPath(PlannedJob job, string runDirectory);
}
