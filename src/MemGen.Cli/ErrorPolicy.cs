using System.CommandLine;
using System.CommandLine.Parsing;
using MemGen.Cli.Commands;
using MemGen.Images;
using MemGen.Machine;
using MemGen.Nn;
using MemGen.Runs;
using MemGen.Training;

namespace MemGen.Cli;

/// <summary>
/// The one error policy of the <c>memgen</c> command: whatever reaches the root, a parse error or an exception,
/// becomes one line on stderr, "memgen COMMAND: what is wrong.", with exit code 2 for bad input (flags, specs,
/// files, folders, memory, a locked folder) and 1 for an internal fault, which adds a hint to rerun with
/// <c>--verbose</c> for the stack trace.
/// </summary>
internal static class ErrorPolicy
{
    /// <summary>Exit code of an internal fault (a bug, or a failed run such as a diverged training).</summary>
    public const int InternalFault = 1;

    /// <summary>Exit code of a run stopped by Ctrl+C or SIGTERM.</summary>
    public const int Stopped = 130;

    /// <summary>"memgen" and the subcommands the parse reached, e.g. "memgen experiment transition".</summary>
    public static string CommandName(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var names = new List<string>();
        for (SymbolResult? r = parse.CommandResult; r is not null; r = r.Parent)
            if (r is CommandResult c) names.Add(c.Command.Name);
        names.Reverse();
        return names.Count == 0 ? "memgen" : string.Join(' ', names);
    }

    /// <summary>The one line for the first parse error, naming the option it concerns.</summary>
    public static string ParseErrorLine(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var name = CommandName(parse);
        var error = parse.Errors.FirstOrDefault();
        var message = OneLine(error?.Message ?? "invalid command line");
        if (error?.SymbolResult is OptionResult o && !message.Contains(o.Option.Name, StringComparison.Ordinal))
            message = $"{o.Option.Name}: {message}";
        return $"{name}: {message} (see {name} --help).";
    }

    /// <summary>Writes the line for <paramref name="exception"/> (and with <paramref name="verbose"/> the trace) and returns the exit code.</summary>
    public static int Report(string command, Exception exception, TextWriter error, bool verbose)
    {
        ArgumentNullException.ThrowIfNull(exception);
        ArgumentNullException.ThrowIfNull(error);
        var e = Unwrap(exception);
        int code = ExitCode(e);
        string line = code switch
        {
            CommandError.ExitCode when e is InvalidSettingException s => $"{command}: {CommandError.FlagOf(s.Setting)}: {OneLine(s.Problem)}.",
            CommandError.ExitCode => $"{command}: {OneLine(e.Message)}.",
            Stopped => $"{command}: stopped.",
            _ when e is TrainingDivergedException or NonFiniteResultException => $"{command}: {OneLine(e.Message)}.",
            _ when verbose => $"{command}: internal error: {e.GetType().Name}: {OneLine(e.Message)}.",
            _ => $"{command}: internal error: {e.GetType().Name}: {OneLine(e.Message)} (rerun with --verbose for the stack trace).",
        };
        error.WriteLine(line);
        if (verbose && code == InternalFault) error.WriteLine(exception.ToString());
        return code;
    }

    /// <summary>2 for bad input (including missing memory and a folder another process holds), 130 when stopped, else 1.</summary>
    public static int ExitCode(Exception exception) => Unwrap(exception) switch
    {
        TrainingDivergedException or NonFiniteResultException => InternalFault,
        InvalidSettingException or DataFormatException or CheckpointException or MemoryLimitException or RunFolderLockedException or TrainingRunException
            or InvalidDataException or FormatException or IOException or UnauthorizedAccessException => CommandError.ExitCode,
        OperationCanceledException => Stopped,
        _ => InternalFault,
    };

    /// <summary>A message on one line: line breaks and tabs become single spaces, no trailing period.</summary>
    public static string OneLine(string message) =>
        string.Join(' ', (message ?? "").Split([' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries)).TrimEnd('.');

    private static Exception Unwrap(Exception e)
    {
        while (true)
        {
            if (e is AggregateException { InnerExceptions.Count: > 0 } a) e = a.Flatten().InnerExceptions[0];
            else if (e is System.Reflection.TargetInvocationException { InnerException: { } inner }) e = inner;
            else return e;
        }
    }
}
