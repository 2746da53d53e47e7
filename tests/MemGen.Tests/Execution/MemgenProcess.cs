using System.Diagnostics;
using MemGen.Execution;

namespace MemGen.Tests.Execution;

/// <summary>Runs the memgen CLI of this build as a child process with extra environment variables (e.g. SLURM_CONF, PATH).</summary>
internal static class MemgenProcess
{
    public static (int Code, string Out, string Err) Run(IReadOnlyDictionary<string, string?> environment, params string[] args)
    {
        var command = FakeExperiment.Memgen.Command;
        var info = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in command.Skip(1).Concat(args)) info.ArgumentList.Add(a);
        EnvironmentOverrides.ApplyTo(info, environment);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "memgen did not finish in 2 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
