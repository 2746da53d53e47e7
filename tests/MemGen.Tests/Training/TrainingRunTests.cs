using System.Globalization;
using MemGen.Data;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Tests.Nn;
using MemGen.Training;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Training;

public sealed class TrainingRunTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-train-").FullName;
    private readonly CpuBackend _convolutions = new(new ReferenceConvolutionFactory());

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Dir(string name) => Path.Combine(_folder, name);

    /// <summary>Calls back synchronously on the training thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class Callback(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }

    [Fact]
    public void TrainerLossAndGradientMatchAnIndependentComputation()
    {
        var train = TrainingTestData.Gaussian(20, 6, 0.5, 0.1, 1);
        var options = new TrainingOptions { BatchSize = 4, ImagesPerEpoch = 12, Budget = 100 }.Resolve();
        using var trained = new TinyConvNet(1, 3, _convolutions, 5);
        using var probe = new TinyConvNet(1, 3, _convolutions, 5);
        var trainer = new Trainer(trained, train, options, seed: 9);

        const long step = 4; // second epoch
        var idx = new int[4];
        new BatchSchedule(9, 20, 4, options.StepsPerEpoch).IndicesFor(step, idx);
        var sigmas = new float[4];
        var noise = new Tensor(4, 1, 6, 6);
        new NoiseSchedule(9, 1.0, 2.0).Fill(step, sigmas, noise);
        var clean = new Tensor(4, 1, 6, 6);
        for (int i = 0; i < 4; i++) train.Image(idx[i]).CopyTo(clean.Item(i));
        var noisy = clean.Clone();
        for (int k = 0; k < noisy.Length; k++) noisy.Data[k] += noise.Data[k];
        double Loss() // ‖x − f(y)‖² averaged over the batch, f(y) = y − r(y)
        {
            var r = probe.Forward(noisy, training: false);
            double sum = 0;
            for (int k = 0; k < r.Length; k++)
            {
                double e = clean.Data[k] - (noisy.Data[k] - (double)r.Data[k]);
                sum += e * e;
            }
            return sum / 4;
        }

        var outcome = trainer.Step(step);
        Assert.True(outcome.IsFinite);
        Assert.Equal(Loss(), outcome.Loss, 1e-5 * Loss());
        Assert.Equal(1, trainer.EpochOf(step));
        Assert.Equal(1e-3, trainer.LearningRateAt(step)); // decays only every 100 epochs by default
        for (int p = 0; p < probe.Parameters.Count; p++)
        {
            var w = probe.Parameters[p].Value.Data;
            var g = trained.Parameters[p].Gradient.Data;
            for (int k = 0; k < w.Length; k += 5)
            {
                const float h = 1e-3f;
                float saved = w[k];
                w[k] = saved + h;
                double up = Loss();
                w[k] = saved - h;
                double down = Loss();
                w[k] = saved;
                double fd = (up - down) / (2 * h);
                Assert.True(Math.Abs(fd - g[k]) <= 2e-3 + 2e-2 * Math.Abs(g[k]), $"{probe.Parameters[p].Name}[{k}]: analytic {g[k]}, finite difference {fd}");
            }
        }
    }

    [Fact]
    public void StoppedAndResumedRunsEndBitIdenticalToAnUninterruptedRun()
    {
        var train = TrainingTestData.Gaussian(30, 6, 0.5, 0.1, 2);
        var test = TrainingTestData.Gaussian(10, 6, 0.5, 0.1, 3);
        var config = TrainingTestData.SmallConfig(30, budget: 8 * 40);
        var build = TrainingTestData.Real(_convolutions);

        using var reference = TrainingRun.Start(Dir("a"), config, train, test, build).Network;
        var expected = TrainingTestData.Bits(reference);

        // 1. Cancelled at step 13 (a checkpoint is written where it stops), then resumed.
        using (var cts = new CancellationTokenSource())
        {
            var progress = new Callback(p => { if (p.Step == 13) cts.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => TrainingRun.Start(Dir("b"), config, train, test, build, false, progress, cts.Token));
            Assert.Equal(13, TrainingRun.LatestCheckpointStep(Dir("b")));
            var resumed = TrainingRun.Resume(Dir("b"), train, test, build);
            Assert.Equal(13, resumed.ResumedFromStep);
            using var net = resumed.Network;
            Assert.Equal(expected, TrainingTestData.Bits(net));
        }

        // 2. Crashed at step 17 (no checkpoint there: resumes from step 15), twice, then resumed to the end.
        var crash = new Callback(p => { if (p.Step == 17) throw new InvalidOperationException("simulated crash"); });
        Assert.Throws<InvalidOperationException>(() => TrainingRun.Start(Dir("c"), config, train, test, build, false, crash));
        Assert.Equal(15, TrainingRun.LatestCheckpointStep(Dir("c")));
        var crash2 = new Callback(p => { if (p.Step == 33) throw new InvalidOperationException("simulated crash"); });
        Assert.Throws<InvalidOperationException>(() => TrainingRun.Resume(Dir("c"), train, test, build, crash2));
        using (var net = TrainingRun.StartOrResume(Dir("c"), config, train, test, build).Network)
            Assert.Equal(expected, TrainingTestData.Bits(net));

        // Final checkpoints hold the same tensors; metrics have each logged step once, in order, same as the reference.
        var finalA = SafeTensors.Read(Path.Combine(Dir("a"), "checkpoints", "final.safetensors"));
        var finalC = SafeTensors.Read(Path.Combine(Dir("c"), "checkpoints", "final.safetensors"));
        Assert.Equal(finalA.Tensors.Select(t => t.Values), finalC.Tensors.Select(t => t.Values));
        Assert.Equal(MetricSteps(Dir("a")), MetricSteps(Dir("c")));
        Assert.Equal(MetricSteps(Dir("a")), MetricSteps(Dir("b")));
        Assert.Equal(40, MetricSteps(Dir("a"))[^1]);
        Assert.Single(Directory.GetFiles(Path.Combine(Dir("c"), "checkpoints"), "*.adam.safetensors"));

        // Resuming a finished run returns the final weights at once.
        var again = TrainingRun.Resume(Dir("a"), train, test, build, new Callback(_ => throw new InvalidOperationException("must not train")));
        using (var net = again.Network) Assert.Equal(expected, TrainingTestData.Bits(net));
    }

    private static long[] MetricSteps(string dir)
    {
        var lines = File.ReadAllLines(Path.Combine(dir, "metrics.csv"));
        Assert.StartsWith("step,epoch,loss,lr,images_per_s,elapsed_s,train_psnr_0.1,train_psnr_0.3,test_psnr_0.1,test_psnr_0.3", lines[0]);
        var steps = lines.Skip(1).Select(l => long.Parse(l.Split(',')[0], CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(steps.Order(), steps);
        Assert.Equal(steps.Distinct().Count(), steps.Length);
        return steps;
    }

    [Fact]
    public void MetricsHaveLossLearningRateAndPeriodicPsnr()
    {
        var train = TrainingTestData.Gaussian(30, 6, 0.5, 0.1, 2);
        var test = TrainingTestData.Gaussian(10, 6, 0.5, 0.1, 3);
        var result = TrainingRun.Start(Dir("m"), TrainingTestData.SmallConfig(30, budget: 8 * 24), train, test, TrainingTestData.Real(_convolutions));
        result.Network.Dispose();
        var rows = File.ReadAllLines(Path.Combine(Dir("m"), "metrics.csv")).Skip(1).Select(l => l.Split(',')).ToList();
        Assert.Equal([2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24], rows.Select(r => int.Parse(r[0], CultureInfo.InvariantCulture)));
        foreach (var r in rows)
        {
            int step = int.Parse(r[0], CultureInfo.InvariantCulture);
            Assert.True(double.Parse(r[2], CultureInfo.InvariantCulture) > 0);
            // 12 steps per epoch, lr halved every epoch: steps 1..12 at 1e-3, 13..24 at 5e-4.
            Assert.Equal(step <= 12 ? 1e-3 : 5e-4, double.Parse(r[3], CultureInfo.InvariantCulture));
            bool evaluated = step % 6 == 0;
            Assert.Equal(evaluated, r[6] != "" && r[9] != "");
        }
        var config = TrainingRun.ReadConfig(Dir("m"));
        Assert.Equal(42, config.Config.Seed);
        Assert.Equal("test:gaussian", config.Config.Data.Spec);
        Assert.Equal(ImageSetFingerprint.Of(train), config.Train);
        Assert.Equal(MemGenInfo.Version, config.MemGenVersion);
        Assert.Equal(RunConfigFile.CurrentEngineThreads, config.EngineThreads);
        Assert.Contains("\"memgen_version\"", File.ReadAllText(Path.Combine(Dir("m"), "config.json")));
        Assert.Equal(24, Checkpoint.ReadMetadata(result.FinalCheckpoint).Step);
    }

    [Fact]
    public void ExistingDirectoriesDifferentConfigsAndDifferentDataAreRefused()
    {
        var train = TrainingTestData.Gaussian(30, 6, 0.5, 0.1, 2);
        var config = TrainingTestData.SmallConfig(30, budget: 8 * 6);
        var build = TrainingTestData.Real(_convolutions);
        TrainingRun.Start(Dir("x"), config, train, null, build).Network.Dispose();

        var e = Assert.Throws<TrainingRunException>(() => TrainingRun.Start(Dir("x"), config, train, null, build));
        Assert.Contains("--force", e.Message);
        e = Assert.Throws<TrainingRunException>(() => TrainingRun.StartOrResume(Dir("x"), config with { Seed = 43 }, train, null, build));
        Assert.Contains("config.seed", e.Message);
        var other = TrainingTestData.Gaussian(30, 6, 0.5, 0.1, 99);
        e = Assert.Throws<TrainingRunException>(() => TrainingRun.Resume(Dir("x"), other, null, build));
        Assert.Contains("training images differ", e.Message);

        File.WriteAllText(Path.Combine(Dir("x"), "notes.txt"), "mine");
        TrainingRun.Start(Dir("x"), config with { Seed = 7 }, train, null, build, overwrite: true).Network.Dispose();
        Assert.Equal(7, TrainingRun.ReadConfig(Dir("x")).Config.Seed);
        Assert.True(File.Exists(Path.Combine(Dir("x"), "notes.txt")), "--force removes only MemGen's run files");
    }

    [Fact]
    public void NonFiniteLossStopsTheRunAndKeepsTheLastGoodCheckpoint()
    {
        var train = TrainingTestData.Gaussian(30, 6, 0.5, 0.1, 2);
        var config = TrainingTestData.SmallConfig(30, budget: 8 * 20, checkpointEvery: 4);
        // After step 9 the training images turn to NaN (as a broken data pipeline would).
        var poison = new Callback(p => { if (p.Step == 9) Array.Fill(train.Pixels, float.NaN); });
        var e = Assert.Throws<TrainingDivergedException>(() => TrainingRun.Start(Dir("nan"), config, train, null, TrainingTestData.Real(_convolutions), false, poison));
        Assert.Equal(9, e.Step);
        Assert.Contains("not finite at step 10", e.Message);
        Assert.Equal(TrainingRun.CheckpointPath(Dir("nan"), 8), e.LastCheckpoint);
        Assert.Contains(e.LastCheckpoint!, e.Message);
        using var net = Checkpoint.Load(e.LastCheckpoint!, _convolutions);
        Assert.All(net.Parameters, p => Assert.All(p.Value.Data, v => Assert.True(float.IsFinite(v))));
        Assert.All(net.Buffers, b => Assert.All(b.Value.Data, v => Assert.True(float.IsFinite(v))));
        Assert.False(File.Exists(Path.Combine(Dir("nan"), "checkpoints", "final.safetensors")));
    }
}
