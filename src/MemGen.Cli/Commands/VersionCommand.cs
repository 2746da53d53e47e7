using System.CommandLine;
using MemGen;

namespace MemGen.Cli.Commands;

/// <summary><c>memgen version</c>: prints the MemGen version and the runtime.</summary>
internal static class VersionCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var command = new Command("version", "Print the MemGen version and runtime information.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"memgen {MemGenInfo.Version} (.NET {Environment.Version}, {Environment.ProcessorCount} cores)");
            return 0;
        });
        return command;
    }
}
