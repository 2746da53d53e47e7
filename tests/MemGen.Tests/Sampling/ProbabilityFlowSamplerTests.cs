using MemGen.Analysis;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Sampling;
using MemGen.Tensors;
using MemGen.Tests.Denoisers;

namespace MemGen.Tests.Sampling;

public class ProbabilityFlowSamplerTests
{
    [Fact]
    public void ScheduleIsGeometricFromMaxToMin()
    {
        var s = new ProbabilityFlowOptions { Steps = 4, MaxSigma = 1f, MinSigma = 0.01f }.Schedule();
        Assert.Equal(5, s.Length);
        Assert.Equal(1f, s[0]);
        Assert.Equal(0.01f, s[4]);
        for (int i = 0; i < 4; i++) Assert.Equal(Math.Pow(0.01, 0.25), s[i + 1] / (double)s[i], 5);
    }

    [Fact]
    public void SamplesDependOnlyOnSeedAndIndex()
    {
        var options = new ProbabilityFlowOptions { Steps = 10, Method = ProbabilityFlowMethod.Heun };
        var a = new ProbabilityFlowSampler(options with { BatchSize = 1 }).Sample(new ShrinkDenoiser(0.3f, 0.8f), 6, 1, 3, 3, seed: 4);
        var b = new ProbabilityFlowSampler(options with { BatchSize = 4 }).Sample(new ShrinkDenoiser(0.3f, 0.8f), 4, 1, 3, 3, seed: 4, firstIndex: 2);
        Assert.Equal(a.Samples.Data.AsSpan(2 * 9).ToArray(), b.Samples.Data);
    }

    [Fact]
    public void EulerStepMatchesTheUpdateRule()
    {
        // One Euler step without final denoising: y1 = y0 + (σ1 − σ0)·(y0 − f(y0))/σ0.
        var options = new ProbabilityFlowOptions { Steps = 1, MaxSigma = 1f, MinSigma = 0.25f, FinalDenoise = false };
        var result = new ProbabilityFlowSampler(options).Sample(new ShrinkDenoiser(0.2f, 0.5f), 2, 1, 2, 2, seed: 8);
        var z = new float[4];
        new DeterministicRng(8, 1).FillNormal(z);
        for (int j = 0; j < 4; j++)
        {
            double y0 = 0.5 + z[j];
            double f = 0.2 + 0.5 * (y0 - 0.2);
            Assert.Equal(y0 + (0.25 - 1.0) * (y0 - f) / 1.0, result.Samples.Item(1)[j], 5);
        }
    }

    [Theory]
    [InlineData(ProbabilityFlowMethod.Euler)]
    [InlineData(ProbabilityFlowMethod.Heun)]
    public void EmpiricalOptimalDenoiserSamplesAreTrainingImages(ProbabilityFlowMethod method)
    {
        var train = DenoiserTestData.Uniform(6, 1, 6, 6, seed: 21);
        var options = new ProbabilityFlowOptions { Method = method, Steps = 60, MaxSigma = 2f, MinSigma = 0.005f }.WithTrainingMean(train);
        var result = new ProbabilityFlowSampler(options).Sample(new EmpiricalOptimalDenoiser(train), 10, 1, 6, 6, seed: 2);
        for (int k = 0; k < 10; k++)
        {
            double best = Enumerable.Range(0, 6).Min(i => ImageStatistics.L2Distance(result.Samples.Item(k), train.Image(i)) / 6);
            Assert.True(best < 1e-3, $"sample {k}: rms distance {best}");
        }
    }
}

public class SamplingResultTests
{
    [Fact]
    public void ImageSetAndTrajectoryCsv()
    {
        var result = new Algorithm1Sampler(new Algorithm1Options { MaxSteps = 3 }).Sample(new ShrinkDenoiser(0.5f, 0.5f), 3, 1, 2, 2, seed: 1, firstIndex: 10);
        var set = result.ToImageSet();
        Assert.Equal(3, set.Count);
        Assert.Equal(result.Samples.Data, set.Pixels);
        Assert.Equal(1L, set.Provenance.Seed);
        Assert.Equal(3, result.DivergedCount);
        var path = Path.Combine(Path.GetTempPath(), $"memgen-traj-{Guid.NewGuid():N}.csv");
        try
        {
            result.WriteTrajectoryCsv(path);
            var lines = File.ReadAllLines(path);
            Assert.Equal("index,steps,final_sigma,outcome,diverged", lines[0]);
            Assert.StartsWith("12,3,", lines[3]);
            Assert.EndsWith(",MaxStepsExceeded,1", lines[3]);
        }
        finally { File.Delete(path); }
    }
}
