using MemGen.Execution;

namespace MemGen.Tests.Execution;

public sealed class LocalExecutorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memgen-local-executor-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ChildProcessJobRunner Runner() => new(FakeExperiment.Memgen, "logs", FakeExperiment.Environment1Thread);

    private static JobPlan OneStage(params PlannedJob[] jobs) => new("one", [new PlanStage { Name = "s", Jobs = jobs }]);

    [Fact]
    public void RunsEveryJobInPlanOrderAndRunningAgainOnlyRedoesWhatIsMissing()
    {
        var plan = FakeExperiment.Plan(_dir);
        var started = new List<string>();
        var first = LocalExecutor.Run(plan, _dir, Runner(), new SynchronousProgress<LocalJobProgress>(p => started.Add($"{p.Position}/{p.Count} {p.Stage.Name}:{p.Job.Id}")));
        Assert.Equal(["export-0", "export-1", "export-2", "train-0", "train-1"], first.Ran);
        Assert.Equal(["0/5 export:export-0", "1/5 export:export-1", "2/5 export:export-2", "3/5 train:train-0", "4/5 train:train-1"], started);
        Assert.All(plan.Jobs, j => Assert.True(j.IsDone(_dir), j.Id));
        Assert.True(File.Exists(Path.Combine(_dir, "logs", "train-1.log")));
        Assert.True(File.Exists(PlanFiles.Plan(_dir)));
        var weights = File.ReadAllBytes(Path.Combine(_dir, FakeExperiment.TrainMarker(1)));

        var second = LocalExecutor.Run(plan, _dir, Runner());
        Assert.Empty(second.Ran);
        Assert.Equal(plan.Jobs.Select(j => j.Id), second.DoneEarlier);

        // A lost result is made again, and only it; the training is deterministic, so the tensors come back the same.
        Directory.Delete(Path.Combine(_dir, "train", "m1"), recursive: true);
        var third = LocalExecutor.Run(plan, _dir, Runner());
        Assert.Equal(["train-1"], third.Ran);
        Assert.Equal(TensorBytes(weights), TensorBytes(File.ReadAllBytes(Path.Combine(_dir, FakeExperiment.TrainMarker(1)))));
    }

    [Fact]
    public void AFailingJobStopsTheRunNamingItsLogAndTheJobsAfterItDoNotRun()
    {
        var plan = OneStage(
            new PlannedJob("bad", ["data", "export", "gaussian:size=8,n=0", "--out", Path.Combine(_dir, "bad.npy")], "bad.npy"),
            new PlannedJob("after", ["data", "export", "gaussian:size=8,mean=0.5,std=0.1,n=4,seed=1", "--out", Path.Combine(_dir, "after.npy")], "after.npy"));
        var e = Assert.Throws<ExecutionException>(() => LocalExecutor.Run(plan, _dir, Runner()));
        var log = Path.Combine(_dir, "logs", "bad.log");
        Assert.Equal($"job bad failed (exit code 2); its output is in {log}", e.Message);
        Assert.StartsWith("memgen data export:", File.ReadAllText(log));
        Assert.False(File.Exists(Path.Combine(_dir, "after.npy")));
    }

    [Fact]
    public void AJobThatSucceedsWithoutWritingItsMarkerIsAnError()
    {
        var plan = OneStage(new PlannedJob("info", ["data", "info", "gaussian:size=8,mean=0.5,std=0.1,n=4,seed=1"], "never-written"));
        var e = Assert.Throws<ExecutionException>(() => LocalExecutor.Run(plan, _dir, Runner()));
        Assert.StartsWith("job info finished without writing never-written", e.Message);
    }

    [Fact]
    public void InProcessRunnerRunsTheSamePlanWithoutChildProcesses()
    {
        var ran = new List<string>();
        var plan = OneStage(new PlannedJob("a", ["x"], "a.done"), new PlannedJob("b", ["x"], "b.done"));
        File.WriteAllText(Path.Combine(_dir, "a.done"), "");
        var result = LocalExecutor.Run(plan, _dir, new InProcessJobRunner((job, _) =>
        {
            ran.Add(job.Id);
            File.WriteAllText(job.MarkerPath(_dir), "");
            return 0;
        }));
        Assert.Equal(["b"], ran);
        Assert.Equal(["a"], result.DoneEarlier);
        Assert.Throws<OperationCanceledException>(() => LocalExecutor.Run(OneStage(new PlannedJob("c", ["x"], "c.done")), Path.Combine(_dir, "other"),
            new InProcessJobRunner((_, _) => 0), cancellation: new CancellationToken(canceled: true)));
    }

    /// <summary>The tensor data of a safetensors file (its header holds the run time and the data path, which differ).</summary>
    internal static byte[] TensorBytes(byte[] file) => file[(8 + (int)BitConverter.ToUInt64(file, 0))..];
}
