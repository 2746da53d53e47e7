using MemGen.Execution;

namespace MemGen.Tests.Execution;

public sealed class ExecutionSettingsTests
{
    private static readonly ExecutionSettings s_slurm = new() { Executor = ExecutorKind.Slurm };

    private static InvalidSettingException Problem(ExecutionSettings settings, string runDirectory = "/run") =>
        Assert.Throws<InvalidSettingException>(() => settings.Validate(runDirectory));

    [Fact]
    public void DefaultsAreLocalAndValid()
    {
        var settings = new ExecutionSettings();
        Assert.Equal(ExecutorKind.Local, settings.Executor);
        settings.Validate("relative/run");
        s_slurm.Validate("/shared/runs/a");
    }

    [Fact]
    public void SlurmNeedsAnAbsoluteRunDirectoryWithoutSpaces()
    {
        var relative = Problem(s_slurm, "runs/a");
        Assert.Equal("out", relative.Setting);
        Assert.StartsWith("'runs/a' is not an absolute path", relative.Problem);
        Assert.Contains("on a filesystem all nodes share", relative.Problem);
        var spaces = Problem(s_slurm, "/shared/my runs");
        Assert.Equal("out", spaces.Setting);
        Assert.StartsWith("'/shared/my runs' contains whitespace", spaces.Problem);
    }

    [Theory]
    [InlineData("partition", "partition")]
    [InlineData("time", "time")]
    [InlineData("cpus", "cpus-per-task")]
    [InlineData("gpus", "gpus-per-task")]
    [InlineData("account", "account")]
    [InlineData("max", "max-concurrent")]
    [InlineData("sbatch", "sbatch-arg")]
    public void SlurmOptionsAreRefusedWithTheLocalExecutor(string which, string setting)
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
        var e = Problem(settings);
        Assert.Equal((setting, "only applies with --executor slurm"), (e.Setting, e.Problem));
    }

    [Theory]
    [InlineData("90")]
    [InlineData("30:00")]
    [InlineData("4:00:00")]
    [InlineData("1-12")]
    [InlineData("1-12:30")]
    [InlineData("2-00:00:00")]
    [InlineData("UNLIMITED")]
    public void SlurmTimeFormatsAreAccepted(string time) => (s_slurm with { Time = time }).Validate("/run");

    [Theory]
    [InlineData("1h")]
    [InlineData("4:00:00:00")]
    [InlineData("-5")]
    [InlineData("")]
    public void OtherTimesAreRefused(string time) => Assert.Equal("time", Problem(s_slurm with { Time = time }).Setting);

    [Fact]
    public void CountsAndNamesAreChecked()
    {
        Assert.Equal(("cpus-per-task", "must be at least 1, not 0"), Pair(Problem(s_slurm with { CpusPerTask = 0 })));
        Assert.Equal("gpus-per-task", Problem(s_slurm with { GpusPerTask = 0 }).Setting);
        Assert.Equal(("max-concurrent", "must be at least 1, not -1"), Pair(Problem(s_slurm with { MaxConcurrent = -1 })));
        Assert.StartsWith("'gpu a100'", Problem(s_slurm with { Partition = "gpu a100" }).Problem);
        Assert.Equal("account", Problem(s_slurm with { Account = "lab;rm" }).Setting);
        (s_slurm with { Partition = "gpu,cpu", Account = "lab-1", CpusPerTask = 8, GpusPerTask = 1, MaxConcurrent = 4 }).Validate("/run");
    }

    private static (string, string) Pair(InvalidSettingException e) => (e.Setting, e.Problem);

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
        var settings = s_slurm with { SbatchArguments = [arg] };
        if (problem is null)
        {
            settings.Validate("/run");
            return;
        }
        var e = Problem(settings);
        Assert.Equal("sbatch-arg", e.Setting);
        Assert.Contains(problem, e.Problem);
    }
}
