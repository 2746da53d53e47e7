using MemGen.Analysis.LinearGaussian;
using MemGen.Tensors;

namespace MemGen.Tests.Analysis.LinearGaussian;

/// <summary>The single-precision evaluation of ∫p_S² (docs/science.md §7.9): right where float32 suffices, sign flips where it does not.</summary>
[Collection(MemGen.Tests.TestSupport.BlasThreadsCollection.Name)]
public class Float32PrecisionTests
{
    [Theory]
    [InlineData(1, 30)]
    [InlineData(3, 40)]
    [InlineData(8, 200)]
    public void Float32SelfOverlapAgreesWithFloat64WhereSinglePrecisionSuffices(int d, int n)
    {
        var x = new IsotropicGaussianLaw(d, 10, 1).Sample(n, new DeterministicRng(5, n));
        double exact = KernelDensityOverlaps.SelfOverlap(x, n, d, 1, KernelSumPrecision.Float64);
        double single = KernelDensityOverlaps.SelfOverlap(x, n, d, 1, KernelSumPrecision.Float32);
        Assert.InRange(exact, 1.0, 3.0); // 1 from the diagonal plus the pairs
        // float32 sums of N² exponentials accumulate rounding of order sqrt(N²)·2^(−24) relative.
        Assert.Equal(exact, single, 1e-4 * exact);
    }

    [Fact]
    public void Float32ReproducesAKnownSignFlipAtDEquals64()
    {
        // d = 64, n = 67, 2000 original points, seed 0: the exact Δ is about −1e-8 (the set-size bias, E_TG ≈ E_OG ≈ 1),
        // below float32's resolution. Evaluated in single precision, the rounding of ε_N^(−d) and of the kernel sums
        // is about 1e-6 and makes Δ positive in every run: P(Δ > 0) goes from 0 to 1 by rounding alone.
        var settings = new LinearGaussianSettings { Dimensions = [64], Ratios = [67.0 / 64], OriginalCount = 2000, Runs = 3, Seed = 0 };
        var exact = LinearGaussianSweep.Run(settings);
        var single = LinearGaussianSweep.Run(settings with { Precision = KernelSumPrecision.Float32 });
        Assert.Equal(3, single.Count);
        foreach (var (e, s) in exact.Zip(single))
        {
            Assert.Equal(67, e.TrainingCount);
            Assert.InRange(e.Delta, -1e-7, -1e-10);
            Assert.True(e.BelowFloat32Resolution, $"run {e.Run}: Δ = {e.Delta}");
            Assert.False(e.SignFlipped);
            Assert.Equal(e.Delta, s.ExactDelta); // the float32 sweep keeps the exact Δ beside its own
            Assert.True(s.Delta > 0, $"run {s.Run}: float32 Δ = {s.Delta}");
            Assert.True(s.SignFlipped);
            Assert.True(s.BelowFloat32Resolution);
            // Only the self overlaps change, each by less than 1e-5.
            Assert.Equal(e.Terms.TrainCross, s.Terms.TrainCross);
            Assert.Equal(e.Terms.OriginalCross, s.Terms.OriginalCross);
            Assert.Equal(e.Terms.TrainSelf, s.Terms.TrainSelf, 1e-5);
            Assert.Equal(e.Terms.OriginalSelf, s.Terms.OriginalSelf, 1e-5);
        }
        Assert.Equal(0.0, LinearGaussianSummary.Summarize(exact)[0].ProbabilityDeltaPositive);
        Assert.Equal(1.0, LinearGaussianSummary.Summarize(single)[0].ProbabilityDeltaPositive);
        Assert.Equal(1.0, LinearGaussianSummary.Summarize(single)[0].SignFlippedFraction);
    }
}
