using System.CommandLine;
using MemGen.Cli.Commands;

namespace MemGen.Cli;

/// <summary>Entry point of the <c>memgen</c> command.</summary>
public static class Program
{
    /// <summary>Builds the command tree. Each command group lives in its own file under Commands/.</summary>
    public static RootCommand BuildRoot()
    {
        var root = new RootCommand(
            "MemGen: when do diffusion models memorize their training images and when do they generalize?\n" +
            "Train blind bias-free denoisers on N images, sample from them, measure memorization and generalization.");
        root.Subcommands.Add(VersionCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(ReportCommand.Create());
        root.Subcommands.Add(SampleCommand.Create());
        return root;
    }

    /// <summary>Runs the command line and returns the process exit code.</summary>
    public static int Main(string[] args) => BuildRoot().Parse(args).Invoke();
}
