using System.Diagnostics;
using MemGen.Execution;

namespace MemGen.Tests.TestSupport;

/// <summary>
/// The memgen CLI of this build (MemGen.Cli.dll next to the tests) as a child process: for exit codes, stdout/stderr,
/// kills, and commands that must see another environment (SLURM_CONF, PATH, OMP_NUM_THREADS).
/// </summary>
internal static class MemgenProcess
{
    /// <summary>A start description for <c>memgen ARGS</c> in <paramref name="workingDirectory"/> with extra environment variables.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null) =>
        WithOverrides(args, workingDirectory, environment?.ToDictionary(p => p.Key, p => (string?)p.Value));

    /// <summary>Runs <c>memgen ARGS</c> to the end (at most two minutes) and returns its exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null) =>
        Run(StartInfo(args, workingDirectory, environment), args);

    /// <summary>Runs <c>memgen ARGS</c> with environment overrides (a null value removes the variable), as above.</summary>
    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string?> environment, params string[] args) =>
        Run(WithOverrides(args, null, environment), args);

    /// <summary>The non-empty lines of <paramref name="text"/>.</summary>
    public static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static ProcessStartInfo WithOverrides(IEnumerable<string> args, string? workingDirectory, IReadOnlyDictionary<string, string?>? environment)
    {
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MemGen.Cli.dll"));
        foreach (var a in args) info.ArgumentList.Add(a);
        // No dedup cache shared with the user's; callers may override.
        info.Environment["MEMGEN_CACHE_DIR"] = "none";
        EnvironmentOverrides.ApplyTo(info, environment);
        return info;
    }

    private static (int Code, string Out, string Err) Run(ProcessStartInfo info, IEnumerable<string> args)
    {
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"memgen {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
