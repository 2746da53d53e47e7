using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Execution;
using MemGen.Tests.Cli;
using Xunit.Abstractions;

using MemGen.Tests.TestSupport;

namespace MemGen.Tests.Execution;

/// <summary>
/// The Slurm executor on a real Slurm (<see cref="LocalSlurmCluster"/>): the two-stage fake experiment submitted as two
/// job arrays gives the same files as a local run; a cancelled array task shows as failed, the tasks behind it as waiting
/// forever; running the submission again resubmits only that task (and replaces the stuck ones) and the plan completes.
/// </summary>
[Collection(nameof(SlurmClusterTests))]
public sealed class SlurmClusterTests(LocalSlurmCluster cluster, ITestOutputHelper output) : IClassFixture<LocalSlurmCluster>
{
    private static readonly ExecutionSettings s_settings = new()
    {
        Executor = ExecutorKind.Slurm,
        CpusPerTask = 1,   // so OMP_NUM_THREADS = 1 in every task, as in the local run
        MaxConcurrent = 1, // export tasks one at a time, so task 2 is still pending when it is cancelled
        Time = "10",
    };

    private PlanStatus WaitFor(string runDirectory, Func<PlanStatus, bool> condition, TimeSpan limit, string what) =>
        WaitFor(() => PlanStatus.Of(FakeExperiment.Plan(runDirectory), runDirectory, cluster.Client), condition, limit, what);

    private static PlanStatus WaitFor(Func<PlanStatus> read, Func<PlanStatus, bool> condition, TimeSpan limit, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var status = read();
            if (condition(status)) return status;
            if (clock.Elapsed > limit)
            {
                var states = string.Join(", ", status.Jobs.Select(j => $"{j.Job.Id}={j.State}{(j.Task is null ? "" : $"({j.Task.TaskId} {j.Task.Reason})")}"));
                Assert.Fail($"Slurm did not reach '{what}' within {limit.TotalSeconds} s: {states}");
            }
            Thread.Sleep(250);
        }
    }

    [Fact]
    public void PlanRunsOnSlurmLikeLocallyAndACancelledTaskIsAllThatIsResubmitted()
    {
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"start-slurm: {cluster.StartSeconds:F2} s"));
        var clock = Stopwatch.StartNew();
        var local = Path.Combine(cluster.Folder, "local");
        LocalExecutor.Run(FakeExperiment.Plan(local), local, new ChildProcessJobRunner(FakeExperiment.Memgen, "logs", FakeExperiment.Environment1Thread));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"local run: {clock.Elapsed.TotalSeconds:F1} s"));

        clock.Restart();
        var remote = Path.Combine(cluster.Folder, "slurm-run");
        var plan = FakeExperiment.Plan(remote);
        var first = SlurmExecutor.Submit(plan, remote, s_settings, FakeExperiment.Memgen, cluster.Client);
        Assert.Equal(["export", "train"], first.Submissions.Select(s => s.Stage.Name));
        string exportId = first.Submissions[0].JobId!, trainId = first.Submissions[1].JobId!;
        cluster.Client.Cancel([$"{exportId}_2"]);

        var stuck = WaitFor(remote, s => s.Jobs.Take(2).All(j => j.State == JobState.Done) && s.Jobs.Skip(3).All(j => j.Task?.WaitsForever == true),
            TimeSpan.FromSeconds(300), "export-0 and export-1 done, the train tasks waiting forever");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"first submission settled: {clock.Elapsed.TotalSeconds:F1} s"));
        var cancelled = stuck.Jobs[2];
        Assert.Equal(("export-2", JobState.Failed), (cancelled.Job.Id, cancelled.State));
        Assert.Equal(PlanFiles.SlurmLog(remote, "export", 2, exportId), cancelled.LogPath);
        Assert.False(File.Exists(cancelled.LogPath), "the cancelled task never started");
        Assert.Contains("memgen: export-0 done", File.ReadAllText(PlanFiles.SlurmLog(remote, "export", 0, exportId)));

        var (code, text, err) = MemgenProcess.Run(cluster.Environment, "experiment", "status", remote);
        Assert.True(code == 0, err);
        Assert.StartsWith($"plan fake in {remote}: 5 job(s): 2 done, 2 pending, 1 failed", text);
        Assert.Contains("DependencyNeverSatisfied", text);

        // Running again (through the CLI, as a user would): only export-2 is resubmitted; the stuck train tasks are replaced.
        (code, text, err) = MemgenProcess.Run(cluster.Environment, "experiment", "resume", remote,
            "--executor", "slurm", "--cpus-per-task", "1", "--max-concurrent", "1", "--time", "10");
        Assert.True(code == 0, err);
        var second = SlurmSubmission.LoadAll(remote).Skip(2).ToList();
        Assert.Equal([("export", "2", ""), ("train", "0,1", second[0].JobId)],
            second.Select(s => (s.Stage, string.Join(",", s.Indices), string.Join(",", s.Dependencies))));
        Assert.StartsWith($"submitted stage export: Slurm job {second[0].JobId}, task(s) 2 (1)\n" +
            $"submitted stage train: Slurm job {second[1].JobId}, task(s) 0-1 (2), after {second[0].JobId}\n" +
            "2 job(s) done earlier, 0 already queued or running (left alone)\n" +
            $"cancelled {trainId}_0, {trainId}_1 (they waited for a job that failed or was resubmitted) and submitted them again\n", text);

        var done = WaitFor(remote, s => s.IsComplete && s.Jobs.All(j => j.Task is null), TimeSpan.FromSeconds(300), "every job done");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"slurm run, cancel and resubmission: {clock.Elapsed.TotalSeconds:F1} s"));
        Assert.Equal(second[0].JobId, done.Jobs[2].Submission!.JobId);
        Assert.Contains("memgen: export-2 done", File.ReadAllText(done.Jobs[2].LogPath!));
        Assert.Contains("memgen: train-1 starts on", File.ReadAllText(done.Jobs[4].LogPath!));
        Assert.Contains("with 1 thread(s)", File.ReadAllText(done.Jobs[4].LogPath!));

        // The same results as the local run: the exported sets byte for byte, the trained weights bit for bit.
        for (int k = 0; k < 3; k++)
            Assert.Equal(File.ReadAllBytes(Path.Combine(local, FakeExperiment.DataMarker(k))), File.ReadAllBytes(Path.Combine(remote, FakeExperiment.DataMarker(k))));
        for (int k = 0; k < 2; k++)
            Assert.Equal(
                LocalExecutorTests.TensorBytes(File.ReadAllBytes(Path.Combine(local, FakeExperiment.TrainMarker(k)))),
                LocalExecutorTests.TensorBytes(File.ReadAllBytes(Path.Combine(remote, FakeExperiment.TrainMarker(k)))));

        (code, text, err) = MemgenProcess.Run(cluster.Environment, "experiment", "status", remote, "--json");
        Assert.True(code == 0, err);
        Assert.Equal(5, JsonNode.Parse(text)!["counts"]!["done"]!.GetValue<int>());

        // Nothing left to do: a third run submits nothing.
        var third = SlurmExecutor.Submit(plan, remote, s_settings, FakeExperiment.Memgen, cluster.Client);
        Assert.Empty(third.Submissions);
        Assert.True(third.Before.IsComplete);
    }

    /// <summary>summary.json without the wall-time fields, which differ from run to run.</summary>
    private static string SummaryWithoutTimes(string runDirectory)
    {
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(runDirectory, "summary.json")))!;
        void Strip(JsonNode? node)
        {
            if (node is JsonObject o)
            {
                o.Remove("training_s");
                o.Remove("search_pairs_per_s");
                foreach (var (_, child) in o.ToList()) Strip(child);
            }
            else if (node is JsonArray a)
            {
                foreach (var child in a) Strip(child);
            }
        }
        Strip(json);
        return json.ToJsonString();
    }

    [Fact]
    public void TinyTransitionOnSlurmEqualsTheLocalRunAndACancelledTrainingIsAllThatIsResubmitted()
    {
        var clock = Stopwatch.StartNew();
        var local = Path.Combine(cluster.Folder, "transition-local");
        var (code, _, err) = MemgenProcess.Run(FakeExperiment.Environment1Thread, [.. TransitionPlanTests.TinyTransition, "--out", local]);
        Assert.True(code == 0, err);
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"local tiny transition: {clock.Elapsed.TotalSeconds:F1} s"));

        clock.Restart();
        var remote = Path.Combine(cluster.Folder, "transition-slurm");
        string[] onSlurm = [.. TransitionPlanTests.TinyTransition, "--out", remote, "--executor", "slurm", "--cpus-per-task", "1", "--max-concurrent", "1"];
        (code, var text, err) = MemgenProcess.Run(cluster.Environment, onSlurm);
        Assert.True(code == 0, err);
        var first = SlurmSubmission.LoadAll(remote);
        Assert.Equal(["train", "measure", "report"], first.Select(s => s.Stage));
        string trainId = first[0].JobId, measureId = first[1].JobId, reportId = first[2].JobId;
        Assert.StartsWith($"submitted stage train: Slurm job {trainId}, task(s) 0-3 (4)\n", text);
        cluster.Client.Cancel([$"{trainId}_3"]); // train-n4-s2, held back by the throttle

        var plan = JobPlan.Load(remote);
        PlanStatus Status() => PlanStatus.Of(plan, remote, cluster.Client);
        var stuck = WaitFor(Status, s => s.Jobs.Take(3).All(j => j.State == JobState.Done) && s.Jobs.Skip(4).Take(2).All(j => j.Task?.WaitsForever == true),
            TimeSpan.FromSeconds(300), "train-n1-s1, train-n1-s2, train-n4-s1 done and the measure tasks waiting forever");
        Assert.Equal(("train-n4-s2", JobState.Failed), (stuck.Jobs[3].Job.Id, stuck.Jobs[3].State));

        // The same command again: only train-n4-s2 is trained again; measure and report are replaced, since they waited for it.
        (code, text, err) = MemgenProcess.Run(cluster.Environment, onSlurm);
        Assert.True(code == 0, err);
        var second = SlurmSubmission.LoadAll(remote).Skip(3).ToList();
        Assert.Equal([("train", "3"), ("measure", "0,1"), ("report", "0")], second.Select(s => (s.Stage, string.Join(",", s.Indices))));
        Assert.Contains($"cancelled {measureId}_0, {measureId}_1, {reportId}_0 ", text);

        var done = WaitFor(Status, s => s.IsComplete && s.Jobs.All(j => j.Task is null), TimeSpan.FromSeconds(300), "every job done");
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"tiny transition on slurm, cancel and resubmission: {clock.Elapsed.TotalSeconds:F1} s"));
        Assert.Equal(second[0].JobId, done.Jobs[3].Submission!.JobId);

        Assert.Equal(SummaryWithoutTimes(local), SummaryWithoutTimes(remote));
        foreach (var n in new[] { 1, 4 })
            foreach (var model in new[] { "s1", "s2", "optimal-s1" })
                Assert.Equal(File.ReadAllBytes(Path.Combine(local, $"n-{n}", $"samples-{model}.npy")), File.ReadAllBytes(Path.Combine(remote, $"n-{n}", $"samples-{model}.npy")));
        Assert.True(File.Exists(Path.Combine(remote, "report.html")));
    }
}

/// <summary>The cluster test runs alone, after the parallel tests: its jobs are child processes that other tests would starve.</summary>
[CollectionDefinition(nameof(SlurmClusterTests), DisableParallelization = true)]
public sealed class SlurmClusterCollection;
