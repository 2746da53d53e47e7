using MemGen.Tensors;
using MemGen.Training;

namespace MemGen.Tests.Training;

public sealed class ScheduleTests
{
    [Fact]
    public void EachEpochTilesTheTrainingSetEvenlyAndStepsArePureFunctionsOfSeedAndStep()
    {
        const int n = 7, batch = 4, stepsPerEpoch = 5; // 20 positions per epoch: each image 2 or 3 times
        var schedule = new BatchSchedule(3, n, batch, stepsPerEpoch);
        for (int epoch = 0; epoch < 3; epoch++)
        {
            var counts = new int[n];
            var idx = new int[batch];
            for (int s = 0; s < stepsPerEpoch; s++)
            {
                schedule.IndicesFor(epoch * stepsPerEpoch + s, idx);
                foreach (var i in idx) counts[i]++;
            }
            Assert.Equal(20, counts.Sum());
            Assert.All(counts, c => Assert.InRange(c, 2, 3));
        }
        // Out of order, and from a fresh instance: same batches.
        var a = new int[batch];
        var b = new int[batch];
        schedule.IndicesFor(12, a);
        schedule.IndicesFor(1, b);
        new BatchSchedule(3, n, batch, stepsPerEpoch).IndicesFor(12, b);
        Assert.Equal(a, b);
        int[] Epoch(BatchSchedule sch, int e) => [.. Enumerable.Range(0, stepsPerEpoch).SelectMany(st =>
        {
            var ix = new int[batch];
            sch.IndicesFor(e * stepsPerEpoch + st, ix);
            return ix;
        })];
        Assert.NotEqual(Epoch(schedule, 0), Epoch(schedule, 1));
        Assert.NotEqual(Epoch(schedule, 0), Epoch(new BatchSchedule(4, n, batch, stepsPerEpoch), 0));
    }

    [Fact]
    public void ATrainingSetLargerThanAnEpochIsWalkedThroughAcrossEpochs()
    {
        const int n = 30, batch = 4, stepsPerEpoch = 5; // 20 positions per epoch < 30 images
        var schedule = new BatchSchedule(8, n, batch, stepsPerEpoch);
        var seen = new List<int>();
        var idx = new int[batch];
        for (int step = 0; step < 3 * stepsPerEpoch; step++)
        {
            schedule.IndicesFor(step, idx);
            seen.AddRange(idx);
        }
        // 60 positions = every image exactly twice over three epochs.
        Assert.All(Enumerable.Range(0, n), i => Assert.Equal(2, seen.Count(j => j == i)));
        Assert.Equal(Enumerable.Range(0, 20), seen.Take(20).Order()); // epoch 0: images 0..19
    }

    [Fact]
    public void NoiseLevelsFollowSigmaEqualsUSquaredAndNoiseIsReproducible()
    {
        var noise = new NoiseSchedule(5, 1.0, 2.0);
        const int batch = 4000, d = 16;
        var sigmas = new float[batch];
        var z = new Tensor(batch, 1, 4, 4);
        noise.Fill(9, sigmas, z);
        Assert.All(sigmas, s => Assert.InRange(s, 0f, 1f));
        // E[u²] = 1/3, E[u⁴] = 1/5; P(σ < 0.25) = P(u < 0.5) = 1/2.
        Assert.InRange(sigmas.Average(s => (double)s), 1.0 / 3 - 0.015, 1.0 / 3 + 0.015);
        Assert.InRange(sigmas.Count(s => s < 0.25) / (double)batch, 0.47, 0.53);
        double ratio = 0;
        for (int i = 0; i < batch; i++)
        {
            if (sigmas[i] < 1e-3) continue;
            var item = z.Item(i);
            double ss = 0;
            foreach (var v in item) ss += (double)v / sigmas[i] * v / sigmas[i];
            ratio += ss / d;
        }
        Assert.InRange(ratio / batch, 0.95, 1.05); // z has unit variance

        var again = new Tensor(batch, 1, 4, 4);
        var sigmasAgain = new float[batch];
        new NoiseSchedule(5, 1.0, 2.0).Fill(9, sigmasAgain, again);
        Assert.Equal(sigmas, sigmasAgain);
        Assert.Equal(z.Data, again.Data);
        new NoiseSchedule(5, 1.0, 2.0).Fill(10, sigmasAgain, again);
        Assert.NotEqual(sigmas, sigmasAgain);
    }

    [Fact]
    public void NoiseScheduleIsSigmaMaxTimesUToTheExponentAndItsDefaultsAreUSquared()
    {
        var paper = new NoiseSchedule(1, 1.0, 2.0);
        var flat = new NoiseSchedule(1, 0.5, 1.0);
        foreach (double u in new[] { 0.0, 0.1, 0.37, 0.5, 0.999 })
        {
            Assert.Equal((float)(u * u), paper.SigmaOf(u));
            Assert.Equal((float)(0.5 * u), flat.SigmaOf(u));
        }
        var sigmas = new float[64];
        flat.Fill(3, sigmas, new Tensor(64, 1, 2, 2));
        Assert.All(sigmas, s => Assert.InRange(s, 0f, 0.5f));
        Assert.InRange(sigmas.Average(), 0.2f, 0.3f); // E[0.5·u] = 0.25
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoiseSchedule(1, 0, 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => new NoiseSchedule(1, 1, -1));
    }

    [Fact]
    public void OptionsDefaultsAreThePapersAndBudgetSetsTheStepCount()
    {
        var o = new TrainingOptions();
        Assert.Equal((1e-3, 100, 0.5, 512, 1000, 250_000), (o.LearningRate, o.LearningRateDecayEpochs, o.LearningRateDecay, o.BatchSize, o.Epochs, o.ImagesPerEpoch));
        Assert.Equal((1.0, 2.0), (o.SigmaMax, o.SigmaExponent));
        Assert.Equal(489, o.StepsPerEpoch); // ⌈250000/512⌉
        Assert.Equal(489_000, o.TotalSteps);
        Assert.Equal(20, (o with { Budget = 10_000 }).TotalSteps); // ⌈10000/512⌉
        var resolved = o.Resolve();
        Assert.Equal(4890, resolved.CheckpointEvery);
        Assert.Equal(4890, resolved.EvalEvery);
        var e = Assert.Throws<ArgumentException>(() => (o with { BatchSize = 0 }).Validate());
        Assert.Contains("batch size", e.Message);
    }
}
