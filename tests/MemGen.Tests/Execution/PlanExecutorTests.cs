using MemGen.Execution;

namespace MemGen.Tests.Execution;

public sealed class PlanExecutorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memgen-plan-executor-").FullName;
    private readonly FakeSlurm _slurm = new();
    private readonly List<string> _ran = [];

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private PlanExecutionResult Execute(ExecutionSettings settings) =>
        PlanExecutor.Execute(FakeExperiment.Plan(_dir), _dir, settings, new InProcessJobRunner((job, _) =>
        {
            _ran.Add(job.Id);
            Directory.CreateDirectory(Path.GetDirectoryName(job.MarkerPath(_dir))!);
            File.WriteAllText(job.MarkerPath(_dir), "");
            return 0;
        }), _slurm, FakeExperiment.Memgen);

    [Fact]
    public void EachSettingGoesToItsExecutor()
    {
        var listed = Execute(new ExecutionSettings { DryRun = true });
        Assert.NotNull(listed.Listed);
        Assert.Null(listed.Ran);
        Assert.Empty(_ran);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
        Assert.All(listed.Listed.Jobs, j => Assert.Equal(JobState.NotStarted, j.State));

        var submitted = Execute(new ExecutionSettings { Executor = ExecutorKind.Slurm });
        Assert.NotNull(submitted.Submitted);
        Assert.Equal(2, _slurm.Submitted.Count);
        Assert.Empty(_ran);

        // While the Slurm tasks are queued, a local run would run the same jobs: refused.
        var e = Assert.Throws<ExecutionException>(() => Execute(new ExecutionSettings()));
        Assert.StartsWith($"--executor: 5 job(s) of {_dir} are still queued on Slurm (100_0, 100_1, 100_2, ...)", e.Message);
        Assert.Empty(_ran);

        // Once they left the queue (here: without finishing), the local executor runs them, in plan order.
        _slurm.Tasks.Clear();
        var ran = Execute(new ExecutionSettings());
        Assert.Equal(["export-0", "export-1", "export-2", "train-0", "train-1"], _ran);
        Assert.Equal(_ran, ran.Ran!.Ran);
    }

    [Fact]
    public void BadSettingsNameTheSetting()
    {
        var e = Assert.Throws<InvalidSettingException>(() => Execute(new ExecutionSettings { Executor = ExecutorKind.Slurm, MaxConcurrent = 0 }));
        Assert.Equal("max-concurrent: must be at least 1, not 0", e.Message);
        Assert.Empty(_slurm.Submitted);
    }
}
