using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using MemGen.Cli.Commands;
using MemGen.Machine;

namespace MemGen.Cli;

/// <summary>Entry point of the <c>memgen</c> command.</summary>
internal static class Program
{
    /// <summary>Global option: print the stack trace of an internal fault.</summary>
    public static Option<bool> Verbose { get; } = new("--verbose")
    {
        Description = "On an internal error, print the stack trace as well.",
        Recursive = true,
    };

    /// <summary>Global option: the memory a command may plan to use, instead of MemAvailable.</summary>
    public static Option<string?> MaxMemory { get; } = new("--max-memory")
    {
        Description = "Memory a command may use, e.g. 8G or 512M (default: MemAvailable of /proc/meminfo); larger inputs are refused before they are read.",
        Recursive = true,
    };

    /// <summary>Builds the command tree. Each command group lives in its own file under Commands/.</summary>
    public static Command BuildRoot()
    {
        // A plain Command named "memgen" (RootCommand would take the assembly name) with the root's standard options.
        var root = new Command("memgen",
            "MemGen: when do diffusion models memorize their training images and when do they generalize?\n" +
            "Train blind bias-free denoisers on N images, sample from them, measure memorization and generalization.");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
        root.Options.Add(Verbose);
        root.Options.Add(MaxMemory);
        DeviceOptions.AddTo(root);
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(DataCommand.Create());
        root.Subcommands.Add(ExperimentCommand.Create());
        root.Subcommands.Add(SampleCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(EvalCommand.Create());
        root.Subcommands.Add(AnalyzeCommand.Create());
        return root;
    }

    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static int Main(string[] args) => Run(args);

    /// <summary>
    /// Parses and runs <paramref name="args"/> under the <see cref="ErrorPolicy"/>: a parse error, a bad environment
    /// or an exception that reaches here becomes one line on <paramref name="error"/> (default stderr) and exit code 2 or 1.
    /// </summary>
    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var parse = BuildRoot().Parse(args);
        var name = ErrorPolicy.CommandName(parse);
        if (parse.Action is ParseErrorAction)
        {
            error.WriteLine(ErrorPolicy.ParseErrorLine(parse));
            return CommandError.ExitCode;
        }
        if (ThreadEnvironment.Problem() is string threads)
        {
            error.WriteLine($"{name}: {threads}.");
            return CommandError.ExitCode;
        }
        if (parse.GetValue(MaxMemory) is string maxMemory)
        {
            if (MemoryBudget.ParseSize(maxMemory) is not long limit)
            {
                error.WriteLine($"{name}: --max-memory: '{maxMemory}' is not a size (e.g. 8G, 512M, 1073741824).");
                return CommandError.ExitCode;
            }
            MemoryBudget.Limit = limit;
        }
        bool verbose = parse.GetValue(Verbose);
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false, Output = output, Error = error });
        }
        catch (Exception e)
        {
            return ErrorPolicy.Report(name, e, error, verbose);
        }
        finally
        {
            MemoryBudget.Limit = null;
        }
    }
}
