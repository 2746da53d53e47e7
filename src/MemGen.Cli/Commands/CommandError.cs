namespace MemGen.Cli.Commands;

/// <summary>The one-line error every command prints for bad input, and the exit code that goes with it.</summary>
public static class CommandError
{
    /// <summary>Exit code for bad input (flags, specs, files).</summary>
    public const int ExitCode = 2;

    /// <summary>Writes "memgen COMMAND: MESSAGE." to stderr and returns <see cref="ExitCode"/>.</summary>
    public static int Report(string command, string message)
    {
        Console.Error.WriteLine($"memgen {command}: {message.TrimEnd('.')}.");
        return ExitCode;
    }
}
