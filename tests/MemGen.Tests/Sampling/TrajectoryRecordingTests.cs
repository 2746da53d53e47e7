using MemGen.Analysis;
using MemGen.Denoisers;
using MemGen.Sampling;
using MemGen.Tests.Denoisers;

namespace MemGen.Tests.Sampling;

public class TrajectoryRecordingTests
{
    private static EmpiricalOptimalDenoiser Memorizer() => new(DenoiserTestData.Uniform(6, 1, 4, 4, seed: 31));

    [Theory]
    [InlineData(Algorithm1Variant.Paper)]
    [InlineData(Algorithm1Variant.Code)]
    public void Algorithm1IteratesEqualRunsStoppedEarlyAtThoseSteps(Algorithm1Variant variant)
    {
        var options = new Algorithm1Options { Variant = variant, InitialStep = 0.05, Beta = 0.5, BatchSize = 8 };
        var full = new Algorithm1Sampler(options with { SaveEvery = 5 }).Sample(Memorizer(), 8, 1, 4, 4, seed: 3);
        var trajectories = full.Trajectories!;
        Assert.Equal(8, trajectories.Count);
        Assert.True(full.Steps.Max() > 20, "trajectories should be long enough to compare several kept steps");
        // Saving changes nothing about the samples.
        Assert.Equal(new Algorithm1Sampler(options).Sample(Memorizer(), 8, 1, 4, 4, seed: 3).Samples.Data, full.Samples.Data);
        for (int t = 5; t <= 20; t += 5)
        {
            // A run stopped by the step limit at t returns the iterate y_t (in both variants).
            var stopped = new Algorithm1Sampler(options with { MaxSteps = t }).Sample(Memorizer(), 8, 1, 4, 4, seed: 3);
            Assert.Contains(SampleOutcome.MaxStepsExceeded, stopped.Outcomes);
            for (int i = 0; i < 8; i++)
            {
                if (stopped.Outcomes[i] != SampleOutcome.MaxStepsExceeded) continue; // converged before t in both runs
                int index = trajectories.Steps(i).ToList().IndexOf(t);
                Assert.True(index > 0, $"sample {i}: step {t} not kept");
                Assert.Equal(stopped.Samples.Item(i).ToArray(), trajectories.Iterate(i, index).ToArray());
            }
        }
        for (int i = 0; i < 8; i++)
        {
            var steps = trajectories.Steps(i);
            Assert.Equal(0, steps[0]);
            Assert.Equal(full.Steps[i], steps[^1]); // converged: the last update step
            Assert.All(steps.Take(steps.Count - 1), s => Assert.Equal(0, s % 5));
            if (variant == Algorithm1Variant.Paper) Assert.Equal(full.Samples.Item(i).ToArray(), trajectories.Iterate(i, steps.Count - 1).ToArray());
        }
    }

    [Fact]
    public void Algorithm1StartIsTheInitialNoise()
    {
        var options = new Algorithm1Options { MaxSteps = 1, SaveEvery = 1 };
        var result = new Algorithm1Sampler(options).Sample(new IdentityDenoiser(), 2, 1, 3, 3, seed: 7);
        var start = new float[9];
        new MemGen.Tensors.DeterministicRng(7, 1).FillNormal(start);
        Assert.Equal(start.Select(v => 0.5f + v).ToArray(), result.Trajectories!.Iterate(1, 0).ToArray());
    }

    [Fact]
    public void DivergedTrajectoryEndsAtItsLastIterate()
    {
        // f(y) = 2y: r = −y, so y grows by 1 + h per step until σ_t exceeds the limit at some step t; y_{t−1} is the sample.
        var options = new Algorithm1Options { InitialStep = 0.2, SaveEvery = 1000 };
        var result = new Algorithm1Sampler(options).Sample(new ShrinkDenoiser(0, 2f), 1, 1, 3, 3, seed: 1);
        Assert.Equal(SampleOutcome.SigmaExceeded, result.Outcomes[0]);
        Assert.True(result.Steps[0] > 2, $"diverged at step {result.Steps[0]}");
        var t = result.Trajectories!;
        Assert.Equal([0, result.Steps[0] - 1], t.Steps(0));
        Assert.Equal(result.Samples.Item(0).ToArray(), t.Iterate(0, 1).ToArray());
    }

    [Fact]
    public void ProbabilityFlowIteratesEqualShorterRunsOnTheSameSchedule()
    {
        var options = new ProbabilityFlowOptions { Steps = 12, MinSigma = 0.02f, FinalDenoise = false, BatchSize = 3 };
        var full = new ProbabilityFlowSampler(options with { SaveEvery = 4 }).Sample(Memorizer(), 5, 1, 4, 4, seed: 9);
        var t = full.Trajectories!;
        Assert.Equal([0, 4, 8, 12], t.Steps(2));
        var schedule = options.Schedule();
        // Steps' = 8 with σmin' = σ_8 is the same geometric schedule's first 8 levels, so it stops at y_8.
        var stopped = new ProbabilityFlowSampler(options with { Steps = 8, MinSigma = schedule[8] }).Sample(Memorizer(), 5, 1, 4, 4, seed: 9);
        for (int i = 0; i < 5; i++)
        {
            var expected = stopped.Samples.Item(i);
            var kept = t.Iterate(i, 2);
            for (int j = 0; j < expected.Length; j++) Assert.Equal(expected[j], kept[j], 1e-5f);
            Assert.Equal(full.Samples.Item(i).ToArray(), t.Iterate(i, 3).ToArray());
        }
    }

    [Fact]
    public void ArrayIsPaddedWithEachTrajectorysLastIterate()
    {
        var options = new Algorithm1Options { InitialStep = 0.05, Beta = 0.5, SaveEvery = 3 };
        var t = new Algorithm1Sampler(options).Sample(Memorizer(), 4, 1, 4, 4, seed: 5).Trajectories!;
        var values = t.ToArray(out var shape);
        int length = t.MaxLength;
        Assert.Equal([4, length, 1, 4, 4], shape);
        var table = t.StepTable();
        Assert.True(Enumerable.Range(0, 4).Select(t.Length).Distinct().Count() > 1, "per-image stopping should give different lengths");
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < length; j++)
            {
                int kept = Math.Min(j, t.Length(i) - 1);
                Assert.Equal(t.Iterate(i, kept).ToArray(), values.AsSpan((i * length + j) * 16, 16).ToArray());
                Assert.Equal(j < t.Length(i) ? t.Steps(i)[j] : -1, table[i * length + j]);
            }
    }

    [Fact]
    public void RecordingThatCouldExceedTheMemoryLimitIsRefusedUpFront()
    {
        var options = new Algorithm1Options { SaveEvery = 1, MaxSteps = 1_000_000 };
        var e = Assert.Throws<ArgumentException>(() => new Algorithm1Sampler(options).Sample(new IdentityDenoiser(), 64, 1, 32, 32, seed: 0));
        Assert.Contains("GiB", e.Message);
        Assert.Throws<ArgumentException>(() => new Algorithm1Sampler(new Algorithm1Options { SaveEvery = -1 }));
    }

    [Fact]
    public void TrajectoryComparedWithItselfHasCosineOneAndDifferentModelsSeparate()
    {
        var options = new Algorithm1Options { InitialStep = 0.05, Beta = 0.5, SaveEvery = 2 };
        var a = new Algorithm1Sampler(options).Sample(Memorizer(), 4, 1, 4, 4, seed: 5).Trajectories!;
        foreach (var c in TrajectorySimilarity.CompareAll(a, a))
        {
            Assert.All(c.Cosine, v => Assert.Equal(1, v, 12));
            Assert.All(c.BothRunning, Assert.True);
        }
        // Another memorizer (different training images) from the same seed: same start (cosine 1 at step 0), then the
        // trajectories go to different training images.
        var other = new EmpiricalOptimalDenoiser(DenoiserTestData.Uniform(6, 1, 4, 4, seed: 32));
        var b = new Algorithm1Sampler(options).Sample(other, 4, 1, 4, 4, seed: 5).Trajectories!;
        var comparisons = TrajectorySimilarity.CompareAll(a, b);
        Assert.All(comparisons, c => Assert.Equal(1, c.Cosine[0], 12));
        Assert.Contains(comparisons, c => c.Cosine[^1] < 0.9);
        // Different lengths: the curve runs to the later stop, BothRunning marks where both moved.
        var uneven = comparisons.First(c => c.FirstLastStep != c.SecondLastStep);
        Assert.Equal(Math.Max(uneven.FirstLastStep, uneven.SecondLastStep), uneven.Steps[^1]);
        Assert.Equal(uneven.Steps.Count(s => s <= Math.Min(uneven.FirstLastStep, uneven.SecondLastStep)), uneven.BothRunning.Count(v => v));
        Assert.Throws<ArgumentException>(() => TrajectorySimilarity.Compare(a,
            new Algorithm1Sampler(options with { SaveEvery = 3 }).Sample(Memorizer(), 4, 1, 4, 4, seed: 5).Trajectories!, 0));
    }
}
