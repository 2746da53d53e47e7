using MemGen.Compute;
using MemGen.Training;

namespace MemGen.Tests.Training;

/// <summary><see cref="TrainingJob"/>, the library entry point of <c>memgen train</c> (its process-level behaviour: TrainCommandTests).</summary>
public sealed class TrainingJobTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memgen-training-job-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private TrainingJobSettings Tiny(string name) => new()
    {
        Data = "gaussian:size=8,mean=0.5,std=0.2,n=40,seed=3",
        N = 10,
        TestCount = 5,
        Model = "bfcnn:layers=3,width=4",
        Out = Path.Combine(_dir, name),
        Options = new TrainingOptions { Budget = 64, BatchSize = 16, EvalImages = 4 },
    };

    [Theory]
    [InlineData("data", "is required")]
    [InlineData("n", "must be at least 1, got 0")]
    [InlineData("subset", "must be s1 or s2, got 's3'")]
    [InlineData("test-count", "must not be negative, got -1")]
    [InlineData("model", "")]
    [InlineData("batch-size", "must be between 1 and 2^20")]
    [InlineData("sigma-log-std", "must be positive")]
    [InlineData("loss-weighting", "edm needs a noise-conditioned network")]
    public void EachBadSettingIsNamedAndNothingIsWritten(string setting, string problem)
    {
        var s = Tiny("bad");
        s = setting switch
        {
            "data" => s with { Data = " " },
            "n" => s with { N = 0 },
            "subset" => s with { Subset = "s3" },
            "test-count" => s with { TestCount = -1 },
            "model" => s with { Model = "bfcnn:layers=3,depth=4" },
            "batch-size" => s with { Options = s.Options with { BatchSize = 0 } },
            "sigma-log-std" => s with { Options = s.Options with { SigmaLogStd = 0 } },
            _ => s with { Options = s.Options with { LossWeighting = LossWeighting.Edm } },
        };
        var e = Assert.Throws<InvalidSettingException>(() => TrainingJob.Start(s, TrainingRun.Networks(ComputeBackend.Host)));
        Assert.Equal(setting, e.Setting);
        Assert.Contains(problem, e.Problem, StringComparison.Ordinal);
        Assert.Equal(setting, Assert.Throws<InvalidSettingException>(() => TrainingJob.Validate(s)).Setting);
        Assert.False(Directory.Exists(s.Out));
    }

    [Fact]
    public void StartsIntoAnEmptyFolderRefusesAFullOneAndResumesAFinishedRun()
    {
        var s = Tiny("run");
        TrainingJob.Start(s, TrainingRun.Networks(ComputeBackend.Host)).Network.Dispose();
        Assert.True(File.Exists(Path.Combine(s.Out!, TrainingJob.SplitFile)));
        Assert.Equal(s.Options.Budget / s.Options.BatchSize, TrainingRun.LatestCheckpointStep(s.Out!));
        var again = Assert.Throws<InvalidSettingException>(() => TrainingJob.Start(s, TrainingRun.Networks(ComputeBackend.Host)));
        Assert.Equal("out", again.Setting);
        Assert.Contains("--force", again.Problem, StringComparison.Ordinal);
        // A finished run resumes to its final network at once, reloading its data through split.json.
        var notes = new List<string>();
        var resumed = TrainingJob.Resume(s.Out!, TrainingRun.Networks(ComputeBackend.Host), log: notes.Add);
        using (resumed.Network) Assert.Equal(4, resumed.Steps);
        Assert.Contains(notes, n => n.StartsWith("reloading 'gaussian:", StringComparison.Ordinal));
    }
}
