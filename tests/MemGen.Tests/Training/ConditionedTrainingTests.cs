using System.Text.Json.Nodes;
using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Training;

namespace MemGen.Tests.Training;

/// <summary>
/// Training a noise-conditioned network (docs/science.md §9.3): EDM's log-normal σ, its loss weighting against an independent
/// computation, the recorded config, bit-identical resume, the NaN guard, and the σ → ∞ limit of a trained model.
/// </summary>
public sealed class ConditionedTrainingTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-cond-").FullName;
    private readonly CpuBackend _backend = new(new ReferenceConvolutionFactory());
    private static readonly NetworkSpec s_spec = NetworkSpec.Parse("unet-cond:blocks=1,width=4,emb=4");

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Dir(string name) => Path.Combine(_folder, name);

    private sealed class Callback(Action<TrainingProgress> action) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => action(value);
    }

    private static TrainingConfig Config(long budget, int checkpointEvery = 5) =>
        TrainingTestData.SmallConfig(30, budget, checkpointEvery) with { Model = s_spec };

    [Fact]
    public void LogNormalNoiseLevelsHaveTheirMeanAndSpreadInLogSigma()
    {
        var schedule = NoiseSchedule.LogNormal(3, -1.2, 1.2);
        var logs = new List<double>();
        var noise = new Tensor(256, 1, 2, 2);
        var sigmas = new float[256];
        for (int step = 0; step < 16; step++)
        {
            schedule.Fill(step, sigmas, noise);
            logs.AddRange(sigmas.Select(s => Math.Log(s)));
            for (int i = 0; i < 256; i++) Assert.All(noise.Item(i).ToArray(), z => Assert.True(Math.Abs(z) < 7 * sigmas[i]));
        }
        double mean = logs.Average(), sd = Math.Sqrt(logs.Sum(v => (v - mean) * (v - mean)) / (logs.Count - 1));
        Assert.InRange(mean, -1.2 - 0.08, -1.2 + 0.08); // 4096 draws: standard error 1.2/64 ≈ 0.02
        Assert.InRange(sd, 1.2 * 0.95, 1.2 * 1.05);
        var options = new TrainingOptions().Resolve(s_spec);
        Assert.Equal(SigmaDistribution.LogNormal, options.SigmaDistribution);
        Assert.Equal(LossWeighting.Edm, options.LossWeighting);
        Assert.Equal(SigmaDistribution.Power, NoiseSchedule.For(new TrainingOptions(), conditioned: false, 1).Distribution);
        Assert.Throws<ArgumentException>(() => new TrainingOptions { LossWeighting = LossWeighting.Edm }.Resolve(NetworkSpec.Parse("unet:blocks=1,width=4")));
    }

    [Fact]
    public void StepLossIsTheEdmWeightedDenoisingErrorAndItsGradientMatchesFiniteDifferences()
    {
        var train = TrainingTestData.Gaussian(20, 8, 0.5, 0.2, 1);
        var options = new TrainingOptions { BatchSize = 4, ImagesPerEpoch = 12, Budget = 100 }.Resolve(s_spec);
        using var trained = new ConditionedUnet(s_spec, 1, _backend, 5);
        using var probe = new ConditionedUnet(s_spec, 1, _backend, 5);
        var trainer = new Trainer(trained, train, options, seed: 9);
        const long step = 2;
        var idx = new int[4];
        new BatchSchedule(9, 20, 4, options.StepsPerEpoch).IndicesFor(step, idx);
        var sigmas = new float[4];
        var noise = new Tensor(4, 1, 8, 8);
        NoiseSchedule.LogNormal(9, -1.2, 1.2).Fill(step, sigmas, noise);
        var clean = new Tensor(4, 1, 8, 8);
        for (int i = 0; i < 4; i++) train.Image(idx[i]).CopyTo(clean.Item(i));
        var noisy = clean.Clone();
        for (int k = 0; k < noisy.Length; k++) noisy.Data[k] += noise.Data[k];
        double Loss() // Σ_i λ(σ_i)·‖x_i − D(y_i; σ_i)‖² / B, λ = (σ² + σ_d²)/(σ·σ_d)², in training mode (batch statistics)
        {
            var r = probe.Forward(noisy, sigmas, training: true);
            double sum = 0;
            for (int k = 0; k < r.Length; k++)
            {
                double s = sigmas[k / 64], lambda = (s * s + 0.25) / (s * s * 0.25);
                double e = clean.Data[k] - (noisy.Data[k] - (double)r.Data[k]);
                sum += lambda * e * e;
            }
            return sum / 4;
        }
        var running = probe.Buffers.Select(b => b.Value.Clone()).ToArray();
        double Restored()
        {
            for (int b = 0; b < running.Length; b++) running[b].Storage.CopyTo(probe.Buffers[b].Value.Storage);
            return Loss();
        }

        var outcome = trainer.Step(step);
        Assert.True(outcome.IsFinite);
        Assert.Equal(Restored(), outcome.Loss, 1e-5 * outcome.Loss);
        foreach (var name in new[] { "emb.fc1.weight", "enc0.conv1.bias", "enc0.bn2.film.weight", "mid.bn1.beta", "up0.weight", "dec0.conv2.weight" })
        {
            var w = probe.Parameters.Single(p => p.Name == name).Value.Data;
            var g = trained.Parameters.Single(p => p.Name == name).Gradient.Data;
            for (int k = 0; k < w.Length; k += Math.Max(1, w.Length / 4))
            {
                const float h = 1e-3f;
                float saved = w[k];
                w[k] = saved + h;
                double up = Restored();
                w[k] = saved - h;
                double down = Restored();
                w[k] = saved;
                double fd = (up - down) / (2 * h);
                Assert.True(Math.Abs(fd - g[k]) <= 1e-2 * Math.Max(1, Math.Abs(fd)), $"{name}[{k}]: analytic {g[k]}, finite difference {fd}");
            }
        }
    }

    [Fact]
    public void ConfigRecordsTheNoiseAndWeightingAndResumeIsBitIdentical()
    {
        var train = TrainingTestData.Gaussian(30, 8, 0.5, 0.1, 2);
        var config = Config(budget: 8 * 16);
        var build = TrainingRun.Networks(_backend);
        using var reference = TrainingRun.Start(Dir("a"), config, train, null, build).Network;
        var options = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir("a"), TrainingRun.ConfigFile)))!["config"]!["options"]!;
        Assert.Equal("log-normal", (string)options["sigma_distribution"]!);
        Assert.Equal(-1.2, (double)options["sigma_log_mean"]!);
        Assert.Equal(1.2, (double)options["sigma_log_std"]!);
        Assert.Equal("edm", (string)options["loss_weighting"]!);
        Assert.Equal(s_spec, TrainingRun.ReadConfig(Dir("a")).Config.Model);

        using (var cts = new CancellationTokenSource())
        {
            var progress = new Callback(p => { if (p.Step == 7) cts.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => TrainingRun.Start(Dir("b"), config, train, null, build, false, progress, cts.Token));
            using var resumed = TrainingRun.Resume(Dir("b"), train, null, build).Network;
            Assert.Equal(TrainingTestData.Bits(reference), TrainingTestData.Bits(resumed));
        }
        // A blind run's config keeps its old form: no σ-distribution or weighting keys.
        TrainingRun.Start(Dir("blind"), TrainingTestData.SmallConfig(30, 8 * 2), train, null, build).Network.Dispose();
        var blind = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir("blind"), TrainingRun.ConfigFile)))!["config"]!["options"]!.AsObject();
        Assert.False(blind.ContainsKey("sigma_distribution"));
        Assert.False(blind.ContainsKey("loss_weighting"));
    }

    [Fact]
    public void NonFiniteLossStopsTheRunAndKeepsTheLastGoodCheckpoint()
    {
        var train = TrainingTestData.Gaussian(30, 8, 0.5, 0.1, 2);
        var poison = new Callback(p => { if (p.Step == 6) Array.Fill(train.Pixels, float.NaN); });
        var e = Assert.Throws<TrainingDivergedException>(() =>
            TrainingRun.Start(Dir("nan"), Config(8 * 12, checkpointEvery: 3), train, null, TrainingRun.Networks(_backend), false, poison));
        Assert.Equal(6, e.Step);
        Assert.Equal(TrainingRun.CheckpointPath(Dir("nan"), 6), e.LastCheckpoint);
        using var net = Checkpoint.Load(e.LastCheckpoint!, _backend);
        Assert.All(net.Parameters, p => Assert.All(p.Value.Data, v => Assert.True(float.IsFinite(v))));
    }

    /// <summary>
    /// At very large σ the best denoiser returns the data mean (the noise swamps every image); EDM's preconditioning
    /// makes that D ≈ σ_d·F(≈ noise; c_noise), so a trained network must have learned to output the mean there. Trained on
    /// four images (σ spread by P_std = 2 so large σ are seen), f(x + σz; σ) averaged over noise is near their mean.
    /// </summary>
    [Fact]
    public void AtLargeSigmaATrainedNetworkReturnsTheDataMean()
    {
        using var onednn = new CpuBackend();
        var rng = new DeterministicRng(21);
        var pixels = new float[4 * 8 * 8];
        for (int i = 0; i < 4; i++)
            for (int p = 0; p < 64; p++) pixels[i * 64 + p] = 0.3f + 0.4f * ((p / 8 + i) % 2) + 0.1f * i; // four stripe images
        var images = new ImageSet(pixels, 4, 1, 8, 8, new Provenance("stripes", []));
        var spec = NetworkSpec.Parse("unet-cond:blocks=1,width=16,emb=16");
        var options = new TrainingOptions
        {
            BatchSize = 32,
            ImagesPerEpoch = 32 * 100,
            Budget = 32 * 300,
            LearningRate = 3e-3,
            LearningRateDecayEpochs = 2,
            SigmaLogMean = 0,
            SigmaLogStd = 2,
        }.Resolve(spec);
        using var net = NetworkFactory.Create(spec, 1, onednn, seed: 22);
        var mean = new double[64];
        for (int i = 0; i < 4; i++) for (int p = 0; p < 64; p++) mean[p] += pixels[i * 64 + p] / 4.0;
        const float sigma = 30f;
        var noisy = new Tensor(64, 1, 8, 8);
        for (int k = 0; k < 64; k++)
        {
            new DeterministicRng(24, k).FillNormal(noisy.Item(k), 0f, sigma);
            for (int p = 0; p < 64; p++) noisy.Item(k)[p] += pixels[k % 4 * 64 + p];
        }
        var sigmas = Enumerable.Repeat(sigma, 64).ToArray();
        double DistanceToMean()
        {
            var r = net.Forward(noisy, sigmas, training: false);
            var average = new double[64];
            for (int k = 0; k < 64; k++) for (int p = 0; p < 64; p++) average[p] += (noisy.Item(k)[p] - r.Item(k)[p]) / 64.0;
            return Math.Sqrt(average.Zip(mean, (a, m) => (a - m) * (a - m)).Sum() / 64);
        }
        double untrained = DistanceToMean();
        var trainer = new Trainer(net, images, options, seed: 23);
        for (long step = 0; step < options.TotalSteps; step++) Assert.True(trainer.Step(step).IsFinite);
        double trained = DistanceToMean();
        Assert.True(untrained > 0.3, $"untrained: RMS distance of E[f(y); σ = {sigma}] to the data mean {untrained:F3}");
        Assert.True(trained < 0.1, $"trained: RMS distance of E[f(y); σ = {sigma}] to the data mean {trained:F3} (untrained {untrained:F3})");
    }
}
