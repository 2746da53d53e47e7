using MemGen.Execution;
using MemGen.Tests.Execution;

using MemGen.Tests.TestSupport;

namespace MemGen.Tests.Cli;

public sealed class ExperimentResumeCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memgen-cli-resume-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private string RunDir => Path.Combine(_dir, "run");

    private static readonly Dictionary<string, string?> s_noSlurm = new() { ["PATH"] = "/nonexistent", ["OMP_NUM_THREADS"] = "1" };

    /// <summary>Two stages of one quick export each, recorded in the run directory.</summary>
    private JobPlan RecordTwoExports()
    {
        PlanStage Stage(string name, int seed, params string[] after) => new()
        {
            Name = name,
            After = after,
            Jobs = [new PlannedJob($"{name}-0", ["data", "export", $"gaussian:size=4,mean=0.5,std=0.1,n=3,seed={seed}", "--out", Path.Combine(RunDir, $"{name}.npy")], $"{name}.npy")],
        };
        var plan = new JobPlan("two", [Stage("first", 1), Stage("second", 2, "first")]);
        plan.Record(RunDir);
        return plan;
    }

    [Fact]
    public void LocallyItRunsWhatIsMissingAndThenNothing()
    {
        RecordTwoExports();
        var (code, stdout, stderr) = MemgenProcess.Run(s_noSlurm, "experiment", "resume", RunDir);
        Assert.True(code == 0, stderr);
        // The jobs' own output (the children share the console), then the summary.
        Assert.StartsWith($"wrote {Path.Combine(RunDir, "first.npy")}: (3, 1, 4, 4)", stdout);
        Assert.StartsWith("ran 2 job(s) in ", stdout.TrimEnd().Split('\n')[^1]);
        Assert.True(File.Exists(Path.Combine(RunDir, "second.npy")));
        (code, stdout, _) = MemgenProcess.Run(s_noSlurm, "experiment", "resume", RunDir);
        Assert.Equal(0, code);
        Assert.Matches(@"^ran 0 job\(s\) in [0-9.]+ s \(2 done earlier\)\n$", stdout);
    }

    [Theory]
    [InlineData("relative", "memgen experiment: RUN_DIR: 'RELATIVE' is not an absolute path; with --executor slurm every node")]
    [InlineData("partition", "memgen experiment: --partition: only applies with --executor slurm.")]
    [InlineData("time", "memgen experiment: --time: '1h' is not a Slurm time limit")]
    [InlineData("missing", "memgen experiment: resume: ")]
    public void BadInputIsOneLineAndRunsNothing(string which, string expected)
    {
        RecordTwoExports();
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, RunDir); // the child runs in this process's directory
        expected = expected.Replace("RELATIVE", relative, StringComparison.Ordinal);
        string[] args = which switch
        {
            "relative" => ["experiment", "resume", relative, "--executor", "slurm"],
            "partition" => ["experiment", "resume", RunDir, "--partition", "gpu"],
            "time" => ["experiment", "resume", RunDir, "--executor", "slurm", "--time", "1h"],
            _ => ["experiment", "resume", Path.Combine(_dir, "none")],
        };
        var info = MemgenProcess.Run(new Dictionary<string, string?>(s_noSlurm), [.. args]);
        Assert.Equal(2, info.Code);
        Assert.StartsWith(expected, Assert.Single(info.Err.TrimEnd().Split('\n')));
        Assert.False(File.Exists(Path.Combine(RunDir, "first.npy")));
        Assert.False(Directory.Exists(Path.Combine(RunDir, PlanFiles.SlurmFolder)));
    }

    [Fact]
    public void SlurmDryRunPrintsThePlanScriptsAndCommandsAndTouchesNothing()
    {
        RecordTwoExports();
        var (code, stdout, stderr) = MemgenProcess.Run(s_noSlurm, "experiment", "resume", RunDir, "--executor", "slurm", "--dry-run",
            "--partition", "cpu", "--max-concurrent", "4", "--sbatch-arg=--qos=short");
        Assert.True(code == 0, stderr);
        Assert.StartsWith($"plan two in {RunDir}: 2 stage(s), 2 job(s), 0 done\nstage first (1 job(s)):\n    0 first-0   not started ", stdout);
        Assert.Contains($"----- {PlanFiles.Script(RunDir, "second")}\n#!/bin/bash\n", stdout);
        Assert.Contains("#SBATCH --partition=cpu\n", stdout);
        Assert.Contains("#SBATCH --qos=short\n", stdout);
        Assert.EndsWith(
            "----- dry run: nothing written or submitted; would run:\n" +
            $"sbatch --parsable --array=0%4 {PlanFiles.Script(RunDir, "first")}\n" +
            $"sbatch --parsable --array=0%4 '--dependency=afterok:<first>' {PlanFiles.Script(RunDir, "second")}\n", stdout);
        Assert.False(Directory.Exists(Path.Combine(RunDir, PlanFiles.SlurmFolder)));
    }

    [Fact]
    public void SlurmSubmissionPrintsTheJobIdsAndRecordsThem()
    {
        RecordTwoExports();
        var bin = Path.Combine(_dir, "bin");
        FakeCommand.Write(bin, "sbatch", $"echo \"$*\" >> {bin}/sbatch.log\necho $(( $(wc -l < {bin}/sbatch.log) + 40 ))");
        var (code, stdout, stderr) = MemgenProcess.Run(new Dictionary<string, string?> { ["PATH"] = bin + ":/usr/bin:/bin" }, "experiment", "resume", RunDir, "--executor", "slurm");
        Assert.True(code == 0, stderr);
        Assert.Equal(
            "submitted stage first: Slurm job 41, task(s) 0 (1)\n" +
            "submitted stage second: Slurm job 42, task(s) 0 (1), after 41\n" +
            $"scripts and logs in {Path.Combine(RunDir, "slurm")}; follow with: memgen experiment status {RunDir}\n", stdout);
        Assert.Equal(["41", "42"], SlurmSubmission.LoadAll(RunDir).Select(s => s.JobId));
        Assert.Equal($"--parsable --array=0 --dependency=afterok:41 {PlanFiles.Script(RunDir, "second")}", File.ReadAllLines(Path.Combine(bin, "sbatch.log"))[1]);
    }

    [Fact]
    public void ALocalRunIsRefusedWhileTasksOfAnEarlierSlurmSubmissionAreQueued()
    {
        RecordTwoExports();
        SlurmSubmission.Append(RunDir, new SlurmSubmission("first", "51", [0], [], DateTimeOffset.UnixEpoch));
        var bin = Path.Combine(_dir, "bin");
        FakeCommand.Write(bin, "squeue", "echo '51|0|RUNNING|None'");
        var (code, _, stderr) = MemgenProcess.Run(new Dictionary<string, string?> { ["PATH"] = bin }, "experiment", "resume", RunDir);
        Assert.Equal(2, code);
        Assert.Equal($"memgen experiment: --executor: 1 job(s) of {RunDir} are still queued on Slurm (51_0); wait for them or scancel them before running locally.", stderr.TrimEnd());
        Assert.False(File.Exists(Path.Combine(RunDir, "first.npy")));

        FakeCommand.Write(bin, "squeue", "true"); // the task has left the queue without finishing: run it here
        (code, _, stderr) = MemgenProcess.Run(new Dictionary<string, string?> { ["PATH"] = bin + ":/usr/bin:/bin" }, "experiment", "resume", RunDir);
        Assert.True(code == 0, stderr);
        Assert.True(File.Exists(Path.Combine(RunDir, "second.npy")));
    }
}
