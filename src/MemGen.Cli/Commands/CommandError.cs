namespace MemGen.Cli.Commands;

/// <summary>The one-line error every command prints for bad input, and the exit code that goes with it.</summary>
internal static class CommandError
{
    /// <summary>Exit code for bad input (flags, specs, files).</summary>
    public const int ExitCode = 2;

    /// <summary>Writes "memgen COMMAND: MESSAGE." to stderr and returns <see cref="ExitCode"/>.</summary>
    public static int Report(string command, string message)
    {
        Console.Error.WriteLine($"memgen {command}: {message.TrimEnd('.')}.");
        return ExitCode;
    }

    /// <summary>
    /// Reports an invalid setting under the flag that sets it: <paramref name="flags"/> maps the settings whose flag is
    /// not simply <c>--SETTING</c> (e.g. <c>learning-rate</c> → <c>--lr</c>).
    /// </summary>
    public static int Report(string command, InvalidSettingException error, IReadOnlyDictionary<string, string>? flags = null)
    {
        ArgumentNullException.ThrowIfNull(error);
        return Report(command, $"{FlagOf(error.Setting, flags)}: {error.Problem}");
    }

    /// <summary>The flag of <paramref name="setting"/>: its entry in <paramref name="flags"/>, else <c>--SETTING</c>.</summary>
    public static string FlagOf(string setting, IReadOnlyDictionary<string, string>? flags = null) =>
        flags is not null && flags.TryGetValue(setting, out var flag) ? flag : "--" + setting;
}
