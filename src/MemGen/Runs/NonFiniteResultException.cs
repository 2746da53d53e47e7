namespace MemGen.Runs;

/// <summary>
/// A computation produced NaN or ±∞ where a number was expected (samples, PSNR, a Jacobian), so there is no
/// result to report: the command fails (exit code 1) naming what was not finite and the likely cause, and writes nothing.
/// </summary>
public sealed class NonFiniteResultException : Exception
{
    /// <summary>Creates the exception with a one-line <paramref name="message"/>.</summary>
    public NonFiniteResultException(string message) : base(message) { }
}
