namespace MemGen.Execution;

/// <summary>
/// A plan cannot be run, submitted or read as asked (a run directory holding another plan, a job that failed, a
/// Slurm command that is missing or refused). The message is one line, naming the file, flag or job concerned.
/// </summary>
public class ExecutionException : Exception
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public ExecutionException(string message, Exception? inner = null) : base(message, inner) { }
}
