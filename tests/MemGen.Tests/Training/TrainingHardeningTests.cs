using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Training;

namespace MemGen.Tests.Training;

/// <summary>
/// Training never reports a non-finite result as success (the cause named from a check of the batch and the weights),
/// and resuming never restarts silently: it falls back to the newest checkpoint whose weights and optimizer state are
/// both intact, or refuses.
/// </summary>
public sealed class TrainingHardeningTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-train-hard-").FullName;
    private readonly CpuBackend _convolutions = new(new ReferenceConvolutionFactory());

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Dir(string name) => Path.Combine(_folder, name);

    [Fact]
    public void OneStepAtAnEnormousLearningRateFailsAndWritesNoFinalCheckpoint()
    {
        var train = TrainingTestData.Gaussian(30, 6, 0.5, 0.1, 2);
        var config = TrainingTestData.SmallConfig(30, budget: 8);
        config = config with { Options = config.Options with { LearningRate = 1e30 } };
        var e = Assert.Throws<TrainingDivergedException>(() => TrainingRun.Start(Dir("lr"), config, train, null, TrainingTestData.Real(_convolutions)));
        Assert.Contains("learning rate", e.Message);
        Assert.DoesNotContain("Training image", e.Message);
        // Failed before a first checkpoint: nothing to resume, so no run files are left (the folder the run created is gone too).
        Assert.False(Directory.Exists(Dir("lr")), string.Join(", ", Directory.Exists(Dir("lr")) ? Directory.EnumerateFileSystemEntries(Dir("lr")) : []));
    }

    [Fact]
    public void ANaNTrainingImageIsNamedAsTheCauseNotTheLearningRate()
    {
        var train = TrainingTestData.Gaussian(30, 6, 0.5, 0.1, 2);
        train.Image(17)[5] = float.NaN;
        var config = TrainingTestData.SmallConfig(30, budget: 8 * 20);
        var e = Assert.Throws<TrainingDivergedException>(() => TrainingRun.Start(Dir("data"), config, train, null, TrainingTestData.Real(_convolutions)));
        Assert.Contains("Training image 17 holds NaN", e.Message);
        Assert.Contains("not the learning rate", e.Message);
    }

    /// <summary>A run of 24 steps with checkpoints every 4, stopped at step 14 (checkpoints 4, 8, 12, 14).</summary>
    private (ImageSet Train, TrainingConfig Config) Stopped(string dir)
    {
        var train = TrainingTestData.Gaussian(30, 6, 0.5, 0.1, 2);
        var config = TrainingTestData.SmallConfig(30, budget: 8 * 24, checkpointEvery: 4);
        using var stop = new CancellationTokenSource();
        var progress = new Progress(p => { if (p.Step == 14) stop.Cancel(); });
        Assert.Throws<OperationCanceledException>(() => TrainingRun.Start(dir, config, train, null, TrainingTestData.Real(_convolutions), false, progress, stop.Token));
        Assert.Equal(14, TrainingRun.LatestCheckpointStep(dir));
        return (train, config);
    }

    private int[][] Uninterrupted(ImageSet train, TrainingConfig config)
    {
        using var net = TrainingRun.Start(Dir("reference"), config, train, null, TrainingTestData.Real(_convolutions)).Network;
        return TrainingTestData.Bits(net);
    }

    [Fact]
    public void AMissingNewestOptimizerStateFallsBackToThePreviousPairAndEndsBitIdentical()
    {
        var dir = Dir("missing-adam");
        var (train, config) = Stopped(dir);
        Assert.True(File.Exists(TrainingRun.OptimizerPath(dir, 12)), "the previous optimizer state is kept while the run goes on");
        File.Delete(TrainingRun.OptimizerPath(dir, 14));

        var resumed = TrainingRun.Resume(dir, train, null, TrainingTestData.Real(_convolutions));
        using var net = resumed.Network;
        Assert.Equal(12, resumed.ResumedFromStep);
        Assert.Equal(Uninterrupted(train, config), TrainingTestData.Bits(net));
        Assert.Equal([TrainingRun.OptimizerPath(dir, 24)], Directory.EnumerateFiles(Path.Combine(dir, TrainingRun.CheckpointFolder), "*.adam.safetensors"));
    }

    [Fact]
    public void ACorruptNewestCheckpointFallsBackToThePreviousPair()
    {
        var dir = Dir("corrupt");
        var (train, config) = Stopped(dir);
        var newest = TrainingRun.CheckpointPath(dir, 14);
        var bytes = File.ReadAllBytes(newest);
        bytes[^3] ^= 0x40;
        File.WriteAllBytes(newest, bytes);

        var resumed = TrainingRun.Resume(dir, train, null, TrainingTestData.Real(_convolutions));
        using var net = resumed.Network;
        Assert.Equal(12, resumed.ResumedFromStep);
        Assert.Equal(Uninterrupted(train, config), TrainingTestData.Bits(net));
    }

    [Fact]
    public void WithoutAnyUsableCheckpointResumeRefusesAndChangesNothing()
    {
        var dir = Dir("none");
        var (train, _) = Stopped(dir);
        foreach (var adam in Directory.EnumerateFiles(Path.Combine(dir, TrainingRun.CheckpointFolder), "*.adam.safetensors")) File.Delete(adam);
        var before = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order().Select(f => (f, File.ReadAllBytes(f))).ToList();

        var e = Assert.Throws<TrainingRunException>(() => TrainingRun.Resume(dir, train, null, TrainingTestData.Real(_convolutions)));
        Assert.Contains("none can be resumed", e.Message);
        Assert.Contains("step-00000014.safetensors has no optimizer state", e.Message);
        var after = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Order().Select(f => (f, File.ReadAllBytes(f))).ToList();
        Assert.Equal(before.Select(b => b.f), after.Select(a => a.f));
        Assert.All(before.Zip(after), p => Assert.Equal(p.First.Item2, p.Second.Item2));
    }

    private sealed class Progress(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }
}
