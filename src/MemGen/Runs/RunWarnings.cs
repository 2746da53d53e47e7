namespace MemGen.Runs;

/// <summary>
/// Warnings the library gives while a command runs (a stale lock taken over, a cache that cannot be written):
/// they go to <see cref="Sink"/>, by default one line on stderr, and each distinct warning is given once per process.
/// </summary>
public static class RunWarnings
{
    private static readonly HashSet<string> s_given = new(StringComparer.Ordinal);

    /// <summary>Where warnings go (the CLI writes "memgen: warning: ..." on stderr).</summary>
    public static Action<string> Sink { get; set; } = message => Console.Error.WriteLine($"memgen: warning: {message}");

    /// <summary>Gives <paramref name="message"/> unless a warning with the same <paramref name="key"/> (default: the message) was given before.</summary>
    public static void Report(string message, string? key = null)
    {
        ArgumentNullException.ThrowIfNull(message);
        lock (s_given)
        {
            if (!s_given.Add(key ?? message)) return;
        }
        Sink(message.Replace('\n', ' ').TrimEnd('.'));
    }
}
