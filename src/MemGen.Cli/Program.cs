using System.CommandLine;
using System.CommandLine.Help;
using MemGen.Cli.Commands;

namespace MemGen.Cli;

/// <summary>Entry point of the <c>memgen</c> command.</summary>
public static class Program
{
    /// <summary>Builds the command tree. Each command group lives in its own file under Commands/.</summary>
    public static Command BuildRoot()
    {
        // A plain Command named "memgen" (RootCommand would take the assembly name) with the root's standard options.
        var root = new Command("memgen",
            "MemGen: when do diffusion models memorize their training images and when do they generalize?\n" +
            "Train blind bias-free denoisers on N images, sample from them, measure memorization and generalization.");
        root.Options.Add(new HelpOption());
        root.Options.Add(new VersionOption());
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
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();
}
