using System.Diagnostics;

namespace MemGen.Tests.Hardening;

/// <summary>The memgen CLI as a child process (the built MemGen.Cli.dll next to the tests), for exit codes, stderr and kills.</summary>
internal static class MemgenProcess
{
    /// <summary>A start description for <c>memgen ARGS</c> in <paramref name="workingDirectory"/> with extra environment variables.</summary>
    public static ProcessStartInfo StartInfo(IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "MemGen.Cli.dll");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        info.ArgumentList.Add(cli);
        foreach (var a in args) info.ArgumentList.Add(a);
        // No live progress bars and the same thread count as the parent; callers may override.
        info.Environment["MEMGEN_CACHE_DIR"] = "none";
        foreach (var (k, v) in environment ?? new Dictionary<string, string>()) info.Environment[k] = v;
        return info;
    }

    /// <summary>Runs <c>memgen ARGS</c> to the end (at most two minutes) and returns its exit code, stdout and stderr.</summary>
    public static (int Code, string Out, string Err) Run(IEnumerable<string> args, string? workingDirectory = null, IReadOnlyDictionary<string, string>? environment = null)
    {
        using var p = Process.Start(StartInfo(args, workingDirectory, environment))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(120_000))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"memgen {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>The non-empty lines of <paramref name="text"/>.</summary>
    public static string[] Lines(string text) => text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
