using MemGen.Execution;

namespace MemGen.Tests.Execution;

public sealed class ExecutionSettingsTests
{
    private static readonly ExecutionSettings s_slurm = new() { Executor = ExecutorKind.Slurm };

    [Fact]
    public void DefaultsAreLocalAndValid()
    {
        var settings = new ExecutionSettings();
        Assert.Equal(ExecutorKind.Local, settings.Executor);
        Assert.Null(settings.Validate("relative/run"));
        Assert.Null(s_slurm.Validate("/shared/runs/a"));
    }

    [Fact]
    public void SlurmNeedsAnAbsoluteRunDirectoryWithoutSpaces()
    {
        var problem = s_slurm.Validate("runs/a");
        Assert.StartsWith("out: 'runs/a' is not an absolute path", problem);
        Assert.Contains("on a filesystem all nodes share", problem);
        Assert.StartsWith("out: '/shared/my runs' contains whitespace", s_slurm.Validate("/shared/my runs"));
    }

    [Theory]
    [InlineData("partition", "partition: only applies with --executor slurm")]
    [InlineData("time", "time: only applies")]
    [InlineData("cpus", "cpus-per-task: only applies")]
    [InlineData("gpus", "gpus-per-task: only applies")]
    [InlineData("account", "account: only applies")]
    [InlineData("max", "max-concurrent: only applies")]
    [InlineData("sbatch", "sbatch-arg: only applies")]
    public void SlurmOptionsAreRefusedWithTheLocalExecutor(string which, string expected)
    {
        var settings = which switch
        {
            "partition" => new ExecutionSettings { Partition = "gpu" },
            "time" => new ExecutionSettings { Time = "10" },
            "cpus" => new ExecutionSettings { CpusPerTask = 2 },
            "gpus" => new ExecutionSettings { GpusPerTask = 1 },
            "account" => new ExecutionSettings { Account = "lab" },
            "max" => new ExecutionSettings { MaxConcurrent = 2 },
            _ => new ExecutionSettings { SbatchArguments = ["--qos=long"] },
        };
        Assert.Equal(expected, settings.Validate("/run")?[..expected.Length]);
    }

    [Theory]
    [InlineData("90")]
    [InlineData("30:00")]
    [InlineData("4:00:00")]
    [InlineData("1-12")]
    [InlineData("1-12:30")]
    [InlineData("2-00:00:00")]
    [InlineData("UNLIMITED")]
    public void SlurmTimeFormatsAreAccepted(string time) => Assert.Null((s_slurm with { Time = time }).Validate("/run"));

    [Theory]
    [InlineData("1h")]
    [InlineData("4:00:00:00")]
    [InlineData("-5")]
    [InlineData("")]
    public void OtherTimesAreRefused(string time) => Assert.StartsWith("time: ", (s_slurm with { Time = time }).Validate("/run"));

    [Fact]
    public void CountsAndNamesAreChecked()
    {
        Assert.StartsWith("cpus-per-task: must be at least 1", (s_slurm with { CpusPerTask = 0 }).Validate("/run"));
        Assert.StartsWith("gpus-per-task: must be at least 1", (s_slurm with { GpusPerTask = 0 }).Validate("/run"));
        Assert.StartsWith("max-concurrent: must be at least 1", (s_slurm with { MaxConcurrent = -1 }).Validate("/run"));
        Assert.StartsWith("partition: 'gpu a100'", (s_slurm with { Partition = "gpu a100" }).Validate("/run"));
        Assert.StartsWith("account: 'lab;rm'", (s_slurm with { Account = "lab;rm" }).Validate("/run"));
        Assert.Null((s_slurm with { Partition = "gpu,cpu", Account = "lab-1", CpusPerTask = 8, GpusPerTask = 1, MaxConcurrent = 4 }).Validate("/run"));
    }

    [Theory]
    [InlineData("--constraint=a100", null)]
    [InlineData("--exclusive", null)]
    [InlineData("--qos=long", null)]
    [InlineData("constraint=a100", "is not an sbatch option")]
    [InlineData("--comment=two words", "contains whitespace")]
    [InlineData("--array=0-3", "memgen sets it")]
    [InlineData("-a0-3", "memgen sets it")]
    [InlineData("--dependency=afterok:1", "memgen sets it from the plan")]
    [InlineData("--output=x.log", "RUN_DIR/slurm/logs")]
    [InlineData("-p", "use --partition")]
    [InlineData("--time=10", "use --time")]
    [InlineData("-c4", "use --cpus-per-task")]
    [InlineData("--account=x", "use --account")]
    public void PassThroughArgumentsAreOneOptionThatMemgenDoesNotSet(string arg, string? problem)
    {
        var result = (s_slurm with { SbatchArguments = [arg] }).Validate("/run");
        if (problem is null) Assert.Null(result);
        else
        {
            Assert.StartsWith("sbatch-arg: ", result);
            Assert.Contains(problem, result);
        }
    }
}
