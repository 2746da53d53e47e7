namespace MemGen.Execution;

/// <summary>A Slurm client command (sbatch, squeue, scancel) is missing, failed, or printed something unexpected.</summary>
public sealed class SlurmCommandException : ExecutionException
{
    /// <summary>Creates the exception with a one-line message.</summary>
    public SlurmCommandException(string message, Exception? inner = null) : base(message, inner) { }
}
