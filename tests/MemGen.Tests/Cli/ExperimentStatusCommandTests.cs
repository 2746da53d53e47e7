using System.CommandLine;
using System.Text.Json.Nodes;
using MemGen.Cli.Commands;
using MemGen.Execution;
using MemGen.Tests.Execution;

using MemGen.Tests.TestSupport;

namespace MemGen.Tests.Cli;

public sealed class ExperimentStatusCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memgen-cli-status-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string RunDir => Path.Combine(_dir, "run");

    private static readonly Dictionary<string, string?> s_noSlurm = new() { ["PATH"] = "/nonexistent" };

    private void Touch(string relative)
    {
        var path = Path.Combine(RunDir, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, "");
    }

    [Fact]
    public void ALocalRunIsReadFromItsMarkersWithoutAnySlurmCommand()
    {
        FakeExperiment.Plan(RunDir).Record(RunDir);
        Touch(FakeExperiment.DataMarker(0));
        Touch(FakeExperiment.DataMarker(2));
        var (code, stdout, stderr) = MemgenProcess.Run(s_noSlurm, "experiment", "status", RunDir);
        Assert.True(code == 0, stderr);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.Equal($"plan fake in {RunDir}: 5 job(s): 2 done, 3 not started", lines[0]);
        Assert.Matches(@"^export\s+export-0\s+done$", lines[2]);
        Assert.Matches(@"^export\s+export-1\s+not started$", lines[3]);
        Assert.Matches(@"^train\s+train-1\s+not started$", lines[6]);

        (code, stdout, _) = MemgenProcess.Run(s_noSlurm, "experiment", "status", RunDir, "--json");
        Assert.Equal(0, code);
        var json = JsonNode.Parse(stdout)!;
        Assert.Equal(2, json["counts"]!["done"]!.GetValue<int>());
        Assert.Equal(3, json["counts"]!["not_started"]!.GetValue<int>());
        Assert.Equal("train-0", json["jobs"]![3]!["id"]!.GetValue<string>());
        Assert.Equal("not_started", json["jobs"]![3]!["state"]!.GetValue<string>());
    }

    [Fact]
    public void ATransitionRunWithoutAPlanIsReadFromItsSettingsAndFiles()
    {
        // A plain local run writes no plan.json; status rebuilds its jobs from experiment.json.
        var (code, _, stderr) = MemgenProcess.Run(s_noSlurm, [.. TransitionPlanTests.TinyTransition, "--out", RunDir, "--job", "train-n1-s1"]);
        Assert.True(code == 0, stderr);
        (code, var stdout, stderr) = MemgenProcess.Run(s_noSlurm, "experiment", "status", RunDir);
        Assert.True(code == 0, stderr);
        var lines = stdout.TrimEnd().Split('\n');
        Assert.Equal($"plan transition in {RunDir}: 7 job(s): 1 done, 6 not started", lines[0]);
        Assert.StartsWith("(a local run without plan.json", lines[1], StringComparison.Ordinal);
        Assert.Matches(@"^train\s+train-n1-s1\s+done$", lines[3]);
        Assert.Matches(@"^report\s+report\s+not started$", lines[^1]);

        (code, _, stderr) = MemgenProcess.Run(s_noSlurm, [.. TransitionPlanTests.TinyTransition, "--out", RunDir]);
        Assert.True(code == 0, stderr);
        (code, stdout, _) = MemgenProcess.Run(s_noSlurm, "experiment", "status", RunDir, "--json");
        Assert.Equal(0, code);
        Assert.Equal(7, JsonNode.Parse(stdout)!["counts"]!["done"]!.GetValue<int>());
        Assert.False(File.Exists(PlanFiles.Plan(RunDir)), "status must not write a plan");
    }

    [Fact]
    public void ASlurmRunShowsQueuedTasksAndTheLogOfFailedOnes()
    {
        FakeExperiment.Plan(RunDir).Record(RunDir);
        Touch(FakeExperiment.DataMarker(0));
        SlurmSubmission.Append(RunDir, new SlurmSubmission("export", "31", [0, 1, 2], [], DateTimeOffset.UnixEpoch));
        SlurmSubmission.Append(RunDir, new SlurmSubmission("train", "32", [0, 1], ["31"], DateTimeOffset.UnixEpoch));
        var log = PlanFiles.SlurmLog(RunDir, "export", 2, "31");
        Directory.CreateDirectory(Path.GetDirectoryName(log)!);
        File.WriteAllText(log, "memgen: export-2 starts\nmemgen data export: something broke\n\n");
        var bin = Path.Combine(_dir, "bin");
        FakeCommand.Write(bin, "squeue", "printf '31|1|RUNNING|None\\n32|0|PENDING|DependencyNeverSatisfied\\n32|1|PENDING|DependencyNeverSatisfied\\n'");

        var (code, stdout, stderr) = MemgenProcess.Run(new Dictionary<string, string?> { ["PATH"] = bin }, "experiment", "status", RunDir);
        Assert.True(code == 0, stderr);
        Assert.StartsWith($"plan fake in {RunDir}: 5 job(s): 1 done, 1 running, 2 pending, 1 failed", stdout);
        Assert.Matches(@"\nexport\s+export-1\s+running\s+31_1\n", stdout);
        Assert.Matches(@"\nexport\s+export-2\s+failed\s+31_2\n", stdout);
        Assert.Matches(@"\ntrain\s+train-0\s+pending\s+32_0 \(DependencyNeverSatisfied\)\n", stdout);
        Assert.Contains($"  export-2: log {log}: memgen data export: something broke\n", stdout);
        Assert.Contains("running the experiment command again cancels and resubmits them", stdout);

        // Without squeue a submitted run cannot be judged: one line, exit 2.
        (code, _, stderr) = MemgenProcess.Run(s_noSlurm, "experiment", "status", RunDir);
        Assert.Equal(2, code);
        Assert.StartsWith("memgen experiment: status: squeue not found on PATH: --executor slurm needs the Slurm client commands", stderr);
        Assert.Single(stderr.TrimEnd().Split('\n'));
    }

    [Theory]
    [InlineData("missing", "no such directory")]
    [InlineData("empty", "holds no plan.json")]
    public void NoRunDirectoryOrNoPlanIsAOneLineError(string which, string expected)
    {
        var dir = Path.Combine(_dir, which);
        if (which == "empty") Directory.CreateDirectory(dir);
        var (code, stdout, stderr) = MemgenProcess.Run(s_noSlurm, "experiment", "status", dir);
        Assert.Equal(2, code);
        Assert.Empty(stdout);
        var line = Assert.Single(stderr.TrimEnd().Split('\n'));
        Assert.StartsWith("memgen experiment: status: ", line);
        Assert.Contains(expected, line);
    }

    [Fact]
    public void ExecutionFlagsParseIntoTheSettings()
    {
        var options = new ExecutionOptions();
        var command = new Command("demo");
        options.AddTo(command);
        var parse = command.Parse(["--executor", "slurm", "--partition", "gpu", "--time", "4:00:00", "--cpus-per-task", "8", "--gpus-per-task", "1",
            "--account", "lab", "--max-concurrent", "3", "--sbatch-arg=--constraint=a100", "--sbatch-arg=--qos=long", "--dry-run"]);
        Assert.Empty(parse.Errors);
        var settings = options.Parse(parse);
        Assert.Equal(ExecutorKind.Slurm, settings.Executor);
        Assert.Equal(("gpu", "4:00:00", 8, 1, "lab", 3, true), (settings.Partition, settings.Time, settings.CpusPerTask, settings.GpusPerTask, settings.Account, settings.MaxConcurrent, settings.DryRun));
        Assert.Equal(["--constraint=a100", "--qos=long"], settings.SbatchArguments);

        var defaults = options.Parse(command.Parse([]));
        Assert.Equal(new ExecutionSettings().Executor, defaults.Executor);
        Assert.Empty(defaults.SbatchArguments);
        defaults.Validate("runs/relative-is-fine-locally");
        Assert.NotEmpty(command.Parse(["--executor", "pbs"]).Errors);
    }
}
