using MemGen.Execution;

namespace MemGen.Tests.Execution;

/// <summary>The Slurm client wrapper against stand-in sbatch/squeue/scancel scripts (the real ones: SlurmClusterTests).</summary>
public sealed class SlurmClientTests : IDisposable
{
    private readonly string _bin = Directory.CreateTempSubdirectory("memgen-slurm-bin-").FullName;

    public void Dispose() => Directory.Delete(_bin, recursive: true);

    private void Command(string name, string body) => FakeCommand.Write(_bin, name, body);

    private string[] RecordedArguments(string name) => File.ReadAllText(Path.Combine(_bin, name + ".args")).Split('\0')[..^1];

    private string Record(string name) => $"printf '%s\\0' \"$@\" > {_bin}/{name}.args";

    [Fact]
    public void SubmitPassesTheOptionsAndReadsTheJobId()
    {
        Command("sbatch", Record("sbatch") + "\necho '4242;cluster1'");
        var id = new SlurmClient(_bin).Submit(["--array=0-2%1", "--dependency=afterok:7:8_1"], "/runs/a b/slurm/train.sbatch");
        Assert.Equal("4242", id);
        Assert.Equal(["--parsable", "--array=0-2%1", "--dependency=afterok:7:8_1", "/runs/a b/slurm/train.sbatch"], RecordedArguments("sbatch"));

        Command("sbatch", "echo 99");
        Assert.Equal("99", new SlurmClient(_bin).Submit([], "s.sbatch"));
        Command("sbatch", "echo 'Submitted batch job 5'");
        Assert.Equal("sbatch printed 'Submitted batch job 5' instead of a job id", Assert.Throws<SlurmCommandException>(() => new SlurmClient(_bin).Submit([], "s")).Message);
    }

    [Fact]
    public void QueueReadsOneTaskPerLineWithTheEnvironmentGiven()
    {
        Command("squeue", Record("squeue") + "\nprintf '12|0|RUNNING|None\\n12|3|PENDING|JobArrayTaskLimit\\n13|N/A|PENDING|%s\\n' \"$SLURM_CONF\"");
        var client = new SlurmClient(_bin, new Dictionary<string, string?> { ["SLURM_CONF"] = "/tmp/c/slurm.conf" });
        var tasks = client.Queue();
        Assert.Equal(
            [new QueuedTask("12", 0, "RUNNING", "None"), new QueuedTask("12", 3, "PENDING", "JobArrayTaskLimit"), new QueuedTask("13", -1, "PENDING", "/tmp/c/slurm.conf")],
            tasks);
        Assert.Equal([$"--user={Environment.UserName}", "--noheader", "--array", "--format=%F|%K|%T|%r"], RecordedArguments("squeue"));
        Assert.Equal("12_3", tasks[1].TaskId);
        Assert.True(tasks[1].IsPending);
        Assert.False(tasks[0].IsPending);

        Command("squeue", "echo 'JOBID PARTITION NAME'");
        Assert.StartsWith("squeue printed a line memgen cannot read", Assert.Throws<SlurmCommandException>(client.Queue).Message);
    }

    [Fact]
    public void CancelPassesTheTaskIdsAndSkipsAnEmptyList()
    {
        Command("scancel", Record("scancel"));
        var client = new SlurmClient(_bin);
        client.Cancel([]);
        Assert.False(File.Exists(Path.Combine(_bin, "scancel.args")));
        client.Cancel(["12_3", "14"]);
        Assert.Equal(["12_3", "14"], RecordedArguments("scancel"));
    }

    [Fact]
    public void AFailingCommandIsOneLineWithItsFirstErrorLine()
    {
        Command("sbatch", "echo 'sbatch: error: Batch job submission failed: Invalid partition name specified' >&2\necho 'second line' >&2\nexit 1");
        var e = Assert.Throws<SlurmCommandException>(() => new SlurmClient(_bin).Submit([], "s.sbatch"));
        Assert.Equal("sbatch failed (exit code 1): sbatch: error: Batch job submission failed: Invalid partition name specified", e.Message);
        Assert.IsAssignableFrom<ExecutionException>(e);
    }

    [Fact]
    public void AMissingCommandSaysWhatIsNeeded()
    {
        var e = Assert.Throws<SlurmCommandException>(() => new SlurmClient(_bin).Queue());
        Assert.StartsWith($"squeue not found in {_bin}: --executor slurm needs the Slurm client commands", e.Message);
        Assert.DoesNotContain("\n", e.Message);
    }

    [Fact]
    public void ACommandThatHangsIsStoppedAtTheTimeout()
    {
        Command("squeue", "sleep 30");
        var e = Assert.Throws<SlurmCommandException>(() => new SlurmClient(_bin, timeout: TimeSpan.FromSeconds(1)).Queue());
        Assert.Equal("squeue did not answer within 1 s (is the Slurm controller reachable?)", e.Message);
    }
}
