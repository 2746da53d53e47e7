using System.Reflection;

namespace MemGen.Execution;

/// <summary>
/// The command that starts <c>memgen</c> on the machine running a job: what the local executor starts as a child
/// process and what the sbatch scripts run, followed by a job's arguments.
/// </summary>
/// <param name="Command">The executable and its leading arguments, e.g. <c>["/usr/lib/dotnet/dotnet", "/abs/.artifacts/cli/MemGen.Cli.dll"]</c>.</param>
public sealed record MemgenProgram(IReadOnlyList<string> Command)
{
    /// <summary>
    /// The program this process is: the host executable plus the entry assembly when it runs as <c>dotnet X.dll</c>,
    /// else the executable alone. With absolute paths, so that the nodes of a cluster (sharing the filesystem) run the
    /// very build that planned the jobs; the <c>./memgen</c> launcher is not used there, since it could rebuild.
    /// </summary>
    public static MemgenProgram Current()
    {
        var host = Environment.ProcessPath ?? throw new InvalidOperationException("The path of this process is unknown.");
        var entry = Assembly.GetEntryAssembly()?.Location;
        bool viaDotnet = Path.GetFileNameWithoutExtension(host).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        return viaDotnet && !string.IsNullOrEmpty(entry) ? new MemgenProgram([host, entry]) : new MemgenProgram([host]);
    }

    /// <summary>The full command line of <paramref name="job"/>.</summary>
    public IReadOnlyList<string> CommandLine(PlannedJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return [.. Command, .. job.Arguments];
    }
}
