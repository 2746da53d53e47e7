using System.Text.Json.Nodes;
using MemGen.Execution;

namespace MemGen.Tests.Execution;

public sealed class JobPlanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memgen-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static PlannedJob Job(string id, string marker) => new(id, ["data", "info", "x"], marker);

    private static JobPlan TwoStages(Func<PlanStage, PlanStage>? changeSecond = null)
    {
        var first = new PlanStage { Name = "a", Jobs = [Job("a-0", "a/0"), Job("a-1", "a/1")] };
        var second = new PlanStage { Name = "b", After = ["a"], Jobs = [Job("b-0", "b/0")] };
        return new JobPlan("demo", [first, changeSecond is null ? second : changeSecond(second)]);
    }

    [Fact]
    public void FakeExperimentPlanHasTheStagesJobsAndDependenciesItDescribes()
    {
        var plan = FakeExperiment.Plan(_dir);
        plan.Validate();
        Assert.Equal(["export", "train"], plan.Stages.Select(s => s.Name));
        Assert.Empty(plan.Stage("export").After);
        Assert.Equal(["export"], plan.Stage("train").After);
        Assert.Equal(["export-0", "export-1", "export-2", "train-0", "train-1"], plan.Jobs.Select(j => j.Id));
        // Array index = position in the stage: train-1 is task 1 of the train array and trains on set 1.
        var train1 = plan.Stage("train").Jobs[1];
        Assert.Equal("train-1", train1.Id);
        Assert.Contains($"npy:{Path.Combine(_dir, "data/set-1.npy")}", train1.Arguments);
        Assert.Equal(Path.Combine(_dir, "train", "m1", "checkpoints", "final.safetensors"), train1.MarkerPath(_dir));
    }

    [Theory]
    [InlineData("Bad Id", "a/0", "Job id 'Bad Id'")]
    [InlineData("a-1", "a/0", "Two jobs have the id 'a-1'")]
    [InlineData("b-0", "/abs/marker", "marker '/abs/marker'")]
    [InlineData("b-0", "../outside", "marker '../outside'")]
    [InlineData("b-0", "a/./x", "marker 'a/./x'")]
    [InlineData("b-0", "a/0", "Two jobs have the marker 'a/0'")]
    public void BadJobsAreRefusedNamingTheProblem(string id, string marker, string expected)
    {
        var plan = TwoStages(s => s with { Jobs = [Job(id, marker)] });
        var e = Assert.Throws<ArgumentException>(plan.Validate);
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void StagesMayOnlyDependOnEarlierStages()
    {
        var backwards = new JobPlan("demo",
        [
            new PlanStage { Name = "b", After = ["a"], Jobs = [Job("b-0", "b/0")] },
            new PlanStage { Name = "a", Jobs = [Job("a-0", "a/0")] },
        ]);
        Assert.Contains("'a', which is not an earlier stage", Assert.Throws<ArgumentException>(backwards.Validate).Message);
        Assert.Contains("no jobs", Assert.Throws<ArgumentException>(TwoStages(s => s with { Jobs = [] }).Validate).Message);
        Assert.Contains("line break", Assert.Throws<ArgumentException>(
            TwoStages(s => s with { Jobs = [new PlannedJob("b-0", ["data", "x\ny"], "b/0")] }).Validate).Message);
    }

    [Fact]
    public void JsonRoundTripKeepsEveryField()
    {
        var plan = FakeExperiment.Plan(_dir);
        var back = JobPlan.FromJson(JsonNode.Parse(plan.ToJson().ToJsonString()));
        Assert.Null(JobPlan.FirstDifference(plan, back));
        Assert.Equal(plan.ToJson().ToJsonString(), back.ToJson().ToJsonString());
        Assert.Throws<InvalidDataException>(() => JobPlan.FromJson(JsonNode.Parse("""{"format":"other"}""")));
        Assert.Throws<InvalidDataException>(() => JobPlan.FromJson(JsonNode.Parse("""{"format":"memgen-job-plan-v1","name":"x"}""")));
    }

    [Fact]
    public void RecordWritesThePlanOnceAndRefusesADifferentOne()
    {
        var plan = TwoStages();
        Assert.False(plan.CheckRecord(_dir));
        plan.Record(_dir);
        Assert.True(File.Exists(PlanFiles.Plan(_dir)));
        Assert.True(plan.CheckRecord(_dir));
        plan.Record(_dir); // same plan again: fine

        var extraJob = TwoStages(s => s with { Jobs = [Job("b-0", "b/0"), Job("b-1", "b/1")] });
        Assert.Contains("job b-1 is not in the recorded plan", Assert.Throws<ExecutionException>(() => extraJob.Record(_dir)).Message);
        var otherMarker = TwoStages(s => s with { Jobs = [Job("b-0", "b/zero")] });
        Assert.Contains("job b-0 marks its end with b/0 there, b/zero here", Assert.Throws<ExecutionException>(() => otherMarker.Record(_dir)).Message);
        var otherOrder = TwoStages(s => s with { After = [] });
        Assert.Contains("dependencies differ", Assert.Throws<ExecutionException>(() => otherOrder.Record(_dir)).Message);
        Assert.Equal(TwoStages().ToJson().ToJsonString(), JobPlan.Load(_dir).ToJson().ToJsonString());

        // The same jobs with another command line (e.g. a report option): the new commands replace the recorded ones.
        var otherCommand = TwoStages(s => s with { Jobs = [new PlannedJob("b-0", ["data", "info", "y"], "b/0")] });
        otherCommand.Record(_dir);
        Assert.Equal(otherCommand.ToJson().ToJsonString(), JobPlan.Load(_dir).ToJson().ToJsonString());

        File.WriteAllText(PlanFiles.Plan(_dir), "{ not json");
        Assert.Contains("plan.json is not a readable job plan", Assert.Throws<ExecutionException>(() => JobPlan.Load(_dir)).Message);
        Assert.Contains("holds no plan.json", Assert.Throws<ExecutionException>(() => JobPlan.Load(Path.Combine(_dir, "none"))).Message);
    }

    [Fact]
    public void ChainGroupsConsecutiveJobsIntoStagesEachAfterThePrevious()
    {
        var plan = JobPlan.Chain("t", [("train", Job("t-1", "t/1")), ("train", Job("t-2", "t/2")), ("measure", Job("m-1", "m/1")), ("report", Job("r", "r"))]);
        Assert.Equal(["train", "measure", "report"], plan.Stages.Select(s => s.Name));
        Assert.Equal(["t-1", "t-2"], plan.Stage("train").Jobs.Select(j => j.Id));
        Assert.Empty(plan.Stage("train").After);
        Assert.Equal(["train"], plan.Stage("measure").After);
        Assert.Equal(["measure"], plan.Stage("report").After);
        // A stage name coming back after another stage would be a second stage of that name: refused.
        Assert.Throws<ArgumentException>(() => JobPlan.Chain("t", [("a", Job("a-1", "a/1")), ("b", Job("b-1", "b/1")), ("a", Job("a-2", "a/2"))]));
    }
}
