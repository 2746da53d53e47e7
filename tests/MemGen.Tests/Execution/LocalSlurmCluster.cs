using System.Diagnostics;
using MemGen.Execution;

namespace MemGen.Tests.Execution;

/// <summary>
/// A real one-node Slurm cluster (slurmctld, slurmd, munged) started by the project's scripts/start-slurm in a temp
/// folder and stopped by scripts/stop-slurm afterwards. If it cannot start, the constructor throws, so every test that
/// uses it fails (scripts/test installs slurm-wlm and munge first: a missing cluster is a broken setup, not a skip).
/// </summary>
public sealed class LocalSlurmCluster : IDisposable
{
    public LocalSlurmCluster()
    {
        Folder = Directory.CreateTempSubdirectory("memgen-slurm-cluster-").FullName;
        var clock = Stopwatch.StartNew();
        var (code, output) = Script("start-slurm", TimeSpan.FromSeconds(120));
        StartSeconds = clock.Elapsed.TotalSeconds;
        if (code != 0)
        {
            Script("stop-slurm", TimeSpan.FromSeconds(60));
            throw new InvalidOperationException($"scripts/start-slurm failed (exit code {code}); did scripts/install-deps run? Its output:\n{output}");
        }
        Environment = new Dictionary<string, string?> { ["SLURM_CONF"] = Path.Combine(Folder, "slurm.conf") };
        Client = new SlurmClient(environment: Environment);
    }

    /// <summary>The cluster's folder (slurm.conf, logs, state), and room for the tests' run directories.</summary>
    public string Folder { get; }

    /// <summary>SLURM_CONF for the client commands.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; }

    /// <summary>A client of this cluster.</summary>
    public SlurmClient Client { get; }

    /// <summary>Wall time of scripts/start-slurm.</summary>
    public double StartSeconds { get; }

    public void Dispose()
    {
        Script("stop-slurm", TimeSpan.FromSeconds(60));
        Directory.Delete(Folder, recursive: true);
    }

    private (int Code, string Output) Script(string name, TimeSpan timeout)
    {
        var info = new ProcessStartInfo(Path.Combine(RepositoryRoot(), "scripts", name))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(Folder);
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            return (-1, $"scripts/{name} did not finish in {timeout.TotalSeconds} s");
        }
        return (p.ExitCode, stdout.Result + stderr.Result);
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "MemGen.slnx"))) return dir.FullName;
        throw new InvalidOperationException($"No MemGen.slnx above {AppContext.BaseDirectory}.");
    }
}
