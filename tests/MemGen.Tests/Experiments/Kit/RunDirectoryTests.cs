using System.Text.Json.Nodes;
using MemGen.Experiments.Kit;
using MemGen.Tests.Data;

namespace MemGen.Tests.Experiments.Kit;

public class RunDirectoryTests
{
    private static JsonObject Identity(int seed, string preset = "quick") => new() { ["experiment"] = "demo", ["preset"] = preset, ["seed"] = seed, ["nested"] = new JsonObject { ["k"] = 1 } };

    [Fact]
    public void CreatesResumesAndRefusesAnythingElse()
    {
        using var tmp = new TempFolder();
        var path = Path.Combine(tmp.Path, "run");
        using var run = RunDirectory.Open(path, Identity(1));
        Assert.True(File.Exists(Path.Combine(path, RunDirectory.ExperimentFile)));
        Assert.Equal("demo", run.Experiment);
        run.WriteText("a/b.txt", "x");
        Assert.True(run.Has("a/b.txt"));

        // Same settings (another preset label is fine): resume.
        using var again = RunDirectory.Open(path, Identity(1, preset: "custom"));
        Assert.Equal("x", File.ReadAllText(again.File("a", "b.txt")));

        var different = Assert.Throws<InvalidSettingException>(() => RunDirectory.Open(path, Identity(2)));
        Assert.Equal("out", different.Setting);
        Assert.Contains("seed: 1 there, 2 requested", different.Problem, StringComparison.Ordinal);
        var nested = Identity(1);
        nested["nested"]!["k"] = 5;
        Assert.Contains("nested.k: 1 there, 5 requested", Assert.Throws<InvalidSettingException>(() => RunDirectory.CheckCompatible(path, nested)).Problem, StringComparison.Ordinal);
        var other = new JsonObject { ["experiment"] = "other" };
        Assert.Contains("holds a different experiment (demo, not other)", Assert.Throws<InvalidSettingException>(() => RunDirectory.Open(path, other)).Problem, StringComparison.Ordinal);

        var stranger = Path.Combine(tmp.Path, "stranger");
        Directory.CreateDirectory(stranger);
        File.WriteAllText(Path.Combine(stranger, "notes.txt"), "mine");
        Assert.Contains("holds no experiment.json", Assert.Throws<InvalidSettingException>(() => RunDirectory.Open(stranger, Identity(1))).Problem, StringComparison.Ordinal);
        Assert.Single(Directory.GetFiles(stranger));
        var file = Path.Combine(tmp.Path, "file");
        File.WriteAllText(file, "");
        Assert.Contains("is a file", Assert.Throws<InvalidSettingException>(() => RunDirectory.Open(file, Identity(1))).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void ReopeningRemovesTempFilesAKilledRunLeftBehind()
    {
        using var tmp = new TempFolder();
        var path = Path.Combine(tmp.Path, "run");
        using var run = RunDirectory.Open(path, Identity(1));
        var leftover = Path.Combine(run.Folder("n-1", "s1"), ".final.safetensors.123.abc.tmp");
        File.WriteAllText(leftover, "half");
        File.WriteAllText(Path.Combine(path, "kept.tmp"), "not ours");
        RunDirectory.Open(path, Identity(1)).Dispose();
        Assert.False(File.Exists(leftover));
        Assert.True(File.Exists(Path.Combine(path, "kept.tmp")));
    }

    [Fact]
    public void TheRecordKeepsEverySessionAndTheTotalTime()
    {
        using var tmp = new TempFolder();
        using var run = RunDirectory.Open(Path.Combine(tmp.Path, "run"), Identity(1));
        var first = RunRecord.Begin(run);
        first.Finish();
        var second = RunRecord.Begin(run);
        Assert.Equal(1, second.EarlierSessions);
        var elapsed = second.Elapsed; // read first: the clock runs on while Total is computed
        Assert.True(second.Total >= elapsed);
        second.Finish();
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(run.Path, RunRecord.FileName)))!;
        var sessions = json["sessions"]!.AsArray();
        Assert.Equal(2, sessions.Count);
        Assert.All(sessions, s => Assert.True((bool)s!["finished"]!));
        Assert.Contains("2 sessions", second.Describe()["duration"], StringComparison.Ordinal);
    }

    [Fact]
    public void ProgressMapsUnitsAndStagesOntoOneOverallFraction()
    {
        var seen = new List<ExperimentProgress>();
        var reporter = new ExperimentProgressReporter(new SynchronousProgress<ExperimentProgress>(seen.Add), units: 4);
        reporter.Setup("load");
        reporter.Unit(1, "N=10").Report("train", "", 0.5);
        reporter.Unit(3, "N=1000").Count("sample", 10, 0.5, 1.0).Report(10);
        reporter.Closing("report", finished: true);
        Assert.Equal(0, seen[0].Overall);
        Assert.Equal(0.02 + 0.96 * 1.5 / 4, seen[1].Overall, 12);
        Assert.Equal("N=1000", seen[2].Unit);
        Assert.Equal(1.0, seen[2].UnitFraction, 12);
        Assert.Equal(0.98, seen[2].Overall, 12);
        Assert.Equal(1, seen[3].Overall);
        Assert.True(seen.Select(s => s.Overall).SequenceEqual(seen.Select(s => s.Overall).Order()));
    }
}
