using MemGen.Analysis;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Sampling;
using MemGen.Tensors;
using MemGen.Tests.Denoisers;

namespace MemGen.Tests.Sampling;

/// <summary>f(y) = c + a·(y − c): a row-wise exact denoiser, so batching cannot change results by rounding.</summary>
internal sealed class ShrinkDenoiser(float centre, float factor) : IDenoiser
{
    public string Name => "shrink";
    public bool IsBlind => true;
    public int Calls { get; private set; }

    public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
    {
        Calls++;
        for (int i = 0; i < noisy.Length; i++) denoised.Data[i] = centre + factor * (noisy.Data[i] - centre);
    }
}

public class Algorithm1SamplerTests
{
    private static double RmsToNearest(ReadOnlySpan<float> sample, MemGen.Images.ImageSet train)
    {
        double best = double.MaxValue;
        for (int i = 0; i < train.Count; i++) best = Math.Min(best, Math.Sqrt(ImageStatistics.MeanSquaredError(sample, train.Image(i))));
        return best;
    }

    /// <summary>f(y; σ) = c + (y − c)/(1 + 4σ²), non-blind; records σ, y and f of row 0 at every call.</summary>
    private sealed class RecordingConditioned : IDenoiser
    {
        public List<(float Sigma, float[] Y, float[] F)> Calls { get; } = [];
        public string Name => "recording";
        public bool IsBlind => false;

        public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
        {
            for (int n = 0; n < noisy.N; n++)
            {
                var y = noisy.Item(n);
                var f = denoised.Item(n);
                for (int j = 0; j < y.Length; j++) f[j] = 0.4f + (y[j] - 0.4f) / (1 + 4 * sigmas[n] * sigmas[n]);
            }
            Calls.Add((sigmas[0], noisy.Item(0).ToArray(), denoised.Item(0).ToArray()));
        }
    }

    [Fact]
    public void ANonBlindDenoiserIsToldTheEstimatedNoiseLevel()
    {
        // Algorithm 1 tells the denoiser σ0 first, then the noise expected after each step: σ_t·(1 − βh) with
        // σ_t = ‖f(y_t) − y_t‖/√d measured at the previous call.
        var options = new Algorithm1Options { Variant = Algorithm1Variant.Paper, InitialStep = 0.2, Beta = 0.3, FinalSigma = 0.05, BatchSize = 1 };
        var recorder = new RecordingConditioned();
        new Algorithm1Sampler(options).Sample(recorder, 1, 1, 4, 4, seed: 3);
        Assert.True(recorder.Calls.Count > 3, $"{recorder.Calls.Count} calls");
        Assert.Equal(options.InitialSigma, recorder.Calls[0].Sigma);
        for (int t = 1; t < recorder.Calls.Count; t++)
        {
            var (_, y, f) = recorder.Calls[t - 1];
            double sigma = Math.Sqrt(y.Zip(f, (a, b) => (double)(a - b) * (a - b)).Sum() / y.Length);
            Assert.Equal(sigma * (1 - options.Beta * options.InitialStep), recorder.Calls[t].Sigma, 1e-5);
        }
    }

    [Theory]
    [InlineData(Algorithm1Variant.Paper)]
    [InlineData(Algorithm1Variant.Code)]
    public void NoiseDependsOnlyOnSeedAndIndexNotOnBatchSize(Algorithm1Variant variant)
    {
        var options = new Algorithm1Options { Variant = variant, InitialStep = 0.05, FinalSigma = 0.02 };
        var one = new Algorithm1Sampler(options with { BatchSize = 1 }).Sample(new ShrinkDenoiser(0.4f, 0.5f), 10, 1, 4, 4, seed: 42);
        var seven = new Algorithm1Sampler(options with { BatchSize = 7 }).Sample(new ShrinkDenoiser(0.4f, 0.5f), 10, 1, 4, 4, seed: 42);
        var offset = new Algorithm1Sampler(options with { BatchSize = 3 }).Sample(new ShrinkDenoiser(0.4f, 0.5f), 6, 1, 4, 4, seed: 42, firstIndex: 4);
        var otherSeed = new Algorithm1Sampler(options).Sample(new ShrinkDenoiser(0.4f, 0.5f), 10, 1, 4, 4, seed: 43);
        Assert.Equal(one.Samples.Data, seven.Samples.Data);
        Assert.Equal(one.Steps, seven.Steps);
        Assert.Equal(one.FinalSigma, seven.FinalSigma);
        Assert.Equal(one.Samples.Data.AsSpan(4 * 16).ToArray(), offset.Samples.Data);
        Assert.NotEqual(one.Samples.Data, otherSeed.Samples.Data);
        Assert.True(one.Steps.Distinct().Count() > 1, "per-image stopping should give different step counts");
        Assert.All(one.Outcomes, o => Assert.Equal(SampleOutcome.Converged, o));
    }

    [Fact]
    public void FirstStepFollowsTheUpdateRuleWithTheSameNoiseForAnyDenoiser()
    {
        // Reference: y0 = m + σ0·z0 and y1 = y0 − h·r + γ·z1 with z0, z1 the stream (seed, index), written out here.
        var options = new Algorithm1Options { MaxSteps = 1, BatchSize = 3 };
        var identity = new Algorithm1Sampler(options).Sample(new IdentityDenoiser(), 5, 1, 3, 3, seed: 7);
        var shrink = new Algorithm1Sampler(options).Sample(new ShrinkDenoiser(0.2f, 0.5f), 5, 1, 3, 3, seed: 7);
        var rng = new DeterministicRng(7, 2);
        var z0 = new float[9];
        var z1 = new float[9];
        rng.FillNormal(z0);
        rng.FillNormal(z1);
        var y0 = z0.Select(v => 0.5f + v).ToArray();
        // Identity: r = 0, σ_1 = 0, γ = 0, so y1 = y0 (and σ_1 ≤ σ∞: converged after one step).
        for (int j = 0; j < 9; j++) Assert.Equal(y0[j], identity.Samples.Item(2)[j], 6);
        Assert.Equal(SampleOutcome.Converged, identity.Outcomes[2]);
        // Shrink: r = 0.5·(y0 − 0.2), σ_1 = ‖r‖/3.
        var r = y0.Select(v => 0.5 * (v - 0.2)).ToArray();
        double sigma = Math.Sqrt(r.Sum(v => v * v) / 9);
        double h = 0.01, gamma = sigma * Math.Sqrt(Math.Pow(1 - 0.1 * h, 2) - Math.Pow(1 - h, 2));
        for (int j = 0; j < 9; j++) Assert.Equal(y0[j] - h * r[j] + gamma * z1[j], shrink.Samples.Item(2)[j], 5);
        Assert.Equal(sigma, shrink.FinalSigma[2], 5);
        Assert.Equal(SampleOutcome.MaxStepsExceeded, shrink.Outcomes[2]);
        Assert.Equal(1, shrink.Steps[2]);
    }

    [Fact]
    public void EmpiricalOptimalDenoiserSamplesAreTrainingImages()
    {
        var train = DenoiserTestData.Uniform(6, 1, 6, 6, seed: 21);
        var denoiser = new EmpiricalOptimalDenoiser(train);
        var code = new Algorithm1Sampler(new Algorithm1Options { Variant = Algorithm1Variant.Code }.WithTrainingMean(train))
            .Sample(denoiser, 12, 1, 6, 6, seed: 1);
        var paper = new Algorithm1Sampler(new Algorithm1Options { BatchSize = 5 }.WithTrainingMean(train))
            .Sample(denoiser, 12, 1, 6, 6, seed: 1);
        Assert.Equal(0, code.DivergedCount);
        Assert.Equal(0, paper.DivergedCount);
        for (int k = 0; k < 12; k++)
        {
            Assert.True(RmsToNearest(code.Samples.Item(k), train) < 1e-3, $"code sample {k}");
            // The paper variant returns the last iterate, which still carries noise of about σ∞.
            Assert.True(RmsToNearest(paper.Samples.Item(k), train) < 2 * 0.05, $"paper sample {k}");
            Assert.True(paper.FinalSigma[k] <= 0.05);
        }
        Assert.True(paper.Steps.Average() > 5 * code.Steps.Average(), "growing h should take far fewer steps");
    }

    [Fact]
    public void EmpiricalOptimalSamplesDoNotDependOnBatchSize()
    {
        // The BLAS may sum in a different order for another batch size, so allow float rounding.
        var train = DenoiserTestData.Uniform(8, 1, 5, 5, seed: 22);
        var options = new Algorithm1Options { Variant = Algorithm1Variant.Code }.WithTrainingMean(train);
        var one = new Algorithm1Sampler(options with { BatchSize = 1 }).Sample(new EmpiricalOptimalDenoiser(train), 7, 1, 5, 5, seed: 3);
        var seven = new Algorithm1Sampler(options with { BatchSize = 7 }).Sample(new EmpiricalOptimalDenoiser(train), 7, 1, 5, 5, seed: 3);
        for (int i = 0; i < one.Samples.Length; i++) Assert.Equal(one.Samples.Data[i], seven.Samples.Data[i], 4);
        Assert.Equal(one.Steps, seven.Steps);
    }

    [Fact]
    public void DivergenceIsMarkedNotSilent()
    {
        // f(y) = 3y moves away from the data: σ_t grows past 2.
        var exploding = new Algorithm1Sampler(new Algorithm1Options()).Sample(new ShrinkDenoiser(0f, 3f), 4, 1, 2, 2, seed: 3);
        Assert.All(exploding.Outcomes, o => Assert.Equal(SampleOutcome.SigmaExceeded, o));
        Assert.Equal(4, exploding.DivergedCount);
        Assert.All(exploding.FinalSigma, s => Assert.True(s > 2));
        var capped = new Algorithm1Sampler(new Algorithm1Options { MaxSteps = 5 }).Sample(new ShrinkDenoiser(0.5f, 0.5f), 4, 1, 2, 2, seed: 3);
        Assert.All(capped.Outcomes, o => Assert.Equal(SampleOutcome.MaxStepsExceeded, o));
        Assert.All(capped.Steps, t => Assert.Equal(5, t));
    }

    [Fact]
    public void NaNFromTheDenoiserIsMarkedAsDiverged()
    {
        var nan = new ShrinkDenoiser(float.NaN, 0.5f);
        var a1 = new Algorithm1Sampler(new Algorithm1Options()).Sample(nan, 3, 1, 2, 2, seed: 1);
        Assert.All(a1.Outcomes, o => Assert.Equal(SampleOutcome.SigmaExceeded, o));
        Assert.All(a1.Steps, t => Assert.Equal(1, t));
        var flow = new ProbabilityFlowSampler(new ProbabilityFlowOptions { Steps = 3 }).Sample(nan, 3, 1, 2, 2, seed: 1);
        Assert.Equal(3, flow.DivergedCount);
    }

    [Fact]
    public void StepSizeVariants()
    {
        var paper = new Algorithm1Options();
        var code = paper with { Variant = Algorithm1Variant.Code };
        Assert.Equal(0.01, paper.StepSize(500));
        Assert.Equal(0.01, code.StepSize(1), 12);
        Assert.Equal(0.01 * 100 / (1 + 0.01 * 99), code.StepSize(100), 12);
        Assert.Throws<ArgumentException>(() => new Algorithm1Sampler(paper with { Beta = 0 }));
    }
}
