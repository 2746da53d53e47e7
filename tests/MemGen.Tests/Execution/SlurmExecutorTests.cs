using MemGen.Execution;

namespace MemGen.Tests.Execution;

public sealed class SlurmExecutorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memgen-slurm-executor-").FullName;
    private readonly FakeSlurm _slurm = new();

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly ExecutionSettings s_settings = new() { Executor = ExecutorKind.Slurm, CpusPerTask = 1 };

    private SlurmSubmitResult Submit(ExecutionSettings? settings = null) =>
        SlurmExecutor.Submit(FakeExperiment.Plan(_dir), _dir, settings ?? s_settings, FakeExperiment.Memgen, _slurm);

    private string Marker(string relative) => Path.Combine(_dir, relative);

    [Fact]
    public void FirstSubmissionIsOneArrayPerStageEachWaitingForTheStageBefore()
    {
        var result = Submit(s_settings with { MaxConcurrent = 2 });
        Assert.False(result.DryRun);
        Assert.Equal(2, _slurm.Submitted.Count);
        var (exportOptions, exportScript, exportId) = _slurm.Submitted[0];
        var (trainOptions, trainScript, trainId) = _slurm.Submitted[1];
        Assert.Equal(["--array=0-2%2"], exportOptions);
        Assert.Equal(PlanFiles.Script(_dir, "export"), exportScript);
        Assert.Equal(["--array=0-1%2", $"--dependency=afterok:{exportId}"], trainOptions);
        Assert.Equal(PlanFiles.Script(_dir, "train"), trainScript);
        Assert.Equal(0, _slurm.QueueCalls); // nothing submitted before: no need to ask the queue

        // Recorded: the plan, the scripts, the submissions with their job ids and indices, the log folder.
        Assert.Null(JobPlan.FirstDifference(JobPlan.Load(_dir), FakeExperiment.Plan(_dir)));
        Assert.Equal(result.Scripts[exportScript], File.ReadAllText(exportScript));
        Assert.Contains("#SBATCH --cpus-per-task=1", File.ReadAllText(trainScript));
        Assert.True(Directory.Exists(PlanFiles.SlurmLogs(_dir)));
        var recorded = SlurmSubmission.LoadAll(_dir);
        Assert.Equal([("export", exportId, "0,1,2", ""), ("train", trainId, "0,1", exportId)],
            recorded.Select(s => (s.Stage, s.JobId, string.Join(",", s.Indices), string.Join(",", s.Dependencies))));

        var status = PlanStatus.Of(FakeExperiment.Plan(_dir), _dir, _slurm);
        Assert.All(status.Jobs, j => Assert.Equal(JobState.Pending, j.State));
        Assert.Equal(PlanFiles.SlurmLog(_dir, "train", 1, trainId), status.Jobs.Single(j => j.Job.Id == "train-1").LogPath);
        Assert.Equal($"{trainId}_1", status.Jobs.Single(j => j.Job.Id == "train-1").Task!.TaskId);
    }

    [Fact]
    public void RunningAgainWhileEverythingIsQueuedOrDoneSubmitsNothing()
    {
        Submit();
        var exportId = _slurm.Submitted[0].JobId;
        _slurm.Finish(exportId, 0, Marker(FakeExperiment.DataMarker(0)));
        _slurm.Start(exportId, 1);
        var again = Submit();
        Assert.Empty(again.Submissions);
        Assert.Empty(again.Cancelled);
        Assert.Equal(2, _slurm.Submitted.Count);
        Assert.Equal(1, again.Before.Count(JobState.Done));
        Assert.Equal(1, again.Before.Count(JobState.Running));
        Assert.Equal(3, again.Before.Count(JobState.Pending));
    }

    [Fact]
    public void AfterAFailedTaskOnlyItIsResubmittedAndTheTasksStuckBehindItAreReplaced()
    {
        Submit();
        string exportId = _slurm.Submitted[0].JobId, trainId = _slurm.Submitted[1].JobId;
        _slurm.Finish(exportId, 0, Marker(FakeExperiment.DataMarker(0)));
        _slurm.Finish(exportId, 1, Marker(FakeExperiment.DataMarker(1)));
        _slurm.Finish(exportId, 2, marker: null); // cancelled or failed: no marker, not queued
        _slurm.WaitForever(trainId, 0);
        _slurm.WaitForever(trainId, 1);

        var status = PlanStatus.Of(FakeExperiment.Plan(_dir), _dir, _slurm);
        var failed = Assert.Single(status.Jobs, j => j.State == JobState.Failed);
        Assert.Equal("export-2", failed.Job.Id);
        Assert.Equal(PlanFiles.SlurmLog(_dir, "export", 2, exportId), failed.LogPath);

        var result = Submit();
        Assert.Equal([$"{trainId}_0", $"{trainId}_1"], result.Cancelled);
        Assert.Equal([$"{trainId}_0", $"{trainId}_1"], _slurm.Cancelled);
        Assert.Equal(4, _slurm.Submitted.Count);
        var newExport = _slurm.Submitted[2];
        var newTrain = _slurm.Submitted[3];
        Assert.Equal(["--array=2"], newExport.Options);
        Assert.Equal(["--array=0-1", $"--dependency=afterok:{newExport.JobId}"], newTrain.Options);
        Assert.Equal(["export", "train"], result.Submissions.Select(s => s.Stage.Name));

        // The status now follows the new attempts.
        var after = PlanStatus.Of(FakeExperiment.Plan(_dir), _dir, _slurm);
        Assert.Equal(newExport.JobId, after.Jobs.Single(j => j.Job.Id == "export-2").Task!.ArrayJobId);
        Assert.Equal(JobState.Done, after.Jobs.Single(j => j.Job.Id == "export-0").State);
        Assert.Equal(newTrain.JobId, after.Jobs.Single(j => j.Job.Id == "train-0").Submission!.JobId);
    }

    [Fact]
    public void ResubmittedStagesWaitForTheTasksStillRunningFromTheFirstSubmission()
    {
        Submit();
        string exportId = _slurm.Submitted[0].JobId, trainId = _slurm.Submitted[1].JobId;
        _slurm.Finish(exportId, 0, Marker(FakeExperiment.DataMarker(0)));
        _slurm.Start(exportId, 1);
        _slurm.Finish(exportId, 2, marker: null);
        var result = Submit();
        // export-1 keeps running; export-2 is resubmitted; the pending train tasks waited on the old array (which failed),
        // so they are replaced by tasks waiting for the new export array and for the running task.
        Assert.Equal([$"{trainId}_0", $"{trainId}_1"], result.Cancelled);
        var newExport = _slurm.Submitted[2];
        Assert.Equal(["--array=2"], newExport.Options);
        Assert.Equal(["--array=0-1", $"--dependency=afterok:{newExport.JobId}:{exportId}_1"], _slurm.Submitted[3].Options);
    }

    [Fact]
    public void ATrainTaskThatFailedIsResubmittedAloneWithoutWaitingForDoneStages()
    {
        Submit();
        string exportId = _slurm.Submitted[0].JobId, trainId = _slurm.Submitted[1].JobId;
        for (int k = 0; k < 3; k++) _slurm.Finish(exportId, k, Marker(FakeExperiment.DataMarker(k)));
        _slurm.Finish(trainId, 0, Marker(FakeExperiment.TrainMarker(0)));
        _slurm.Finish(trainId, 1, marker: null);
        var result = Submit();
        Assert.Empty(result.Cancelled);
        var only = Assert.Single(result.Submissions);
        Assert.Equal("train", only.Stage.Name);
        Assert.Equal([1], only.Indices);
        Assert.Equal(["--array=1"], _slurm.Submitted[2].Options);
    }

    [Fact]
    public void DryRunWritesAndSubmitsNothing()
    {
        var result = Submit(s_settings with { DryRun = true });
        Assert.True(result.DryRun);
        Assert.Empty(_slurm.Submitted);
        Assert.Empty(Directory.EnumerateFileSystemEntries(_dir));
        Assert.Equal(2, result.Scripts.Count);
        Assert.Equal(["--array=0-1", "--dependency=afterok:<export>"], result.Submissions[1].Options);
        Assert.Null(result.Submissions[1].JobId);
        Assert.Equal($"sbatch --parsable --array=0-1 '--dependency=afterok:<export>' {PlanFiles.Script(_dir, "train")}", result.Submissions[1].CommandLine);
    }

    [Fact]
    public void AFailedSbatchKeepsTheStagesSubmittedBeforeItAndRunningAgainContinues()
    {
        var plan = FakeExperiment.Plan(_dir);
        // The first sbatch succeeds, the second is refused.
        var failing = new FailingSecondSubmit(_slurm);
        var e = Assert.Throws<SlurmCommandException>(() => SlurmExecutor.Submit(plan, _dir, s_settings, FakeExperiment.Memgen, failing));
        Assert.Contains("Invalid partition", e.Message);
        Assert.Equal(["export"], SlurmSubmission.LoadAll(_dir).Select(s => s.Stage));

        var result = Submit();
        var exportId = _slurm.Submitted[0].JobId;
        var train = Assert.Single(result.Submissions);
        Assert.Equal("train", train.Stage.Name);
        // The export tasks are still queued from the first attempt: the train array waits for each of them.
        Assert.Equal([$"{exportId}_0", $"{exportId}_1", $"{exportId}_2"], train.Dependencies);
    }

    [Fact]
    public void BadSettingsAndAnotherPlanInTheRunDirectoryAreRefusedBeforeAnythingIsSubmitted()
    {
        var relative = Assert.Throws<InvalidSettingException>(() =>
            SlurmExecutor.Submit(FakeExperiment.Plan("runs/x"), "runs/x", s_settings, FakeExperiment.Memgen, _slurm));
        Assert.StartsWith("out: 'runs/x' is not an absolute path", relative.Message);

        new JobPlan("other", [new PlanStage { Name = "s", Jobs = [new PlannedJob("j", ["version"], "j.done")] }]).Record(_dir);
        var other = Assert.Throws<ExecutionException>(() => Submit());
        Assert.Contains("holds a different job plan (it is a plan of 'other', not 'fake')", other.Message);
        Assert.Empty(_slurm.Submitted);
    }

    private sealed class FailingSecondSubmit(FakeSlurm inner) : ISlurmScheduler
    {
        private int _calls;

        public string Submit(IReadOnlyList<string> options, string scriptPath) =>
            ++_calls == 2
                ? throw new SlurmCommandException("sbatch failed (exit code 1): sbatch: error: Batch job submission failed: Invalid partition name specified")
                : inner.Submit(options, scriptPath);

        public IReadOnlyList<QueuedTask> Queue() => inner.Queue();

        public void Cancel(IReadOnlyList<string> taskIds) => inner.Cancel(taskIds);
    }
}
