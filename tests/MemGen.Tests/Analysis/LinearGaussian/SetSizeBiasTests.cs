using MemGen.Analysis.LinearGaussian;
using MemGen.Tensors;

namespace MemGen.Tests.Analysis.LinearGaussian;

/// <summary>The closed-form set-size bias of docs/science.md §7.7 against Monte Carlo and the decomposition of Δ.</summary>
public class SetSizeBiasTests
{
    [Theory]
    [InlineData(4, 10, 3.0, 0.7)]
    [InlineData(16, 16, 10.0, 1.0)]
    [InlineData(8, 100, -2.0, 2.5)]
    public void ExpectedSelfOverlapMatchesMonteCarlo(int d, int n, double mean, double std)
    {
        // Average ∫p_S² (MemGen's closed form per set, in units of ∫p² of the true law) over many independent sets.
        var law = new IsotropicGaussianLaw(d, mean, std);
        const int Sets = 1500;
        var values = new double[Sets];
        for (int r = 0; r < Sets; r++)
            values[r] = KernelDensityOverlaps.SelfOverlap(law.Sample(n, new DeterministicRng(77, r)), n, d, std, KernelSumPrecision.Float64);
        double mc = values.Average();
        double se = Math.Sqrt(values.Sum(v => (v - mc) * (v - mc)) / (Sets - 1) / Sets);
        double expected = SetSizeBias.ExpectedSelfOverlap(n, d);
        Assert.True(se < 0.1 * (expected - 1), $"the Monte Carlo error {se} must be small against the off-diagonal part {expected - 1}");
        Assert.True(Math.Abs(mc - expected) < 4 * se, $"d = {d}, N = {n}: Monte Carlo {mc} ± {se}, closed form {expected}");
    }

    [Fact]
    public void ClosedFormHasItsLimitsAndTheIssueValue()
    {
        Assert.Equal(1.0, SetSizeBias.ExpectedSelfOverlap(1, 16));                       // one point: the diagonal only
        // d = 1, N = 2 by hand: ε = s/2; the two ordered off-diagonal pairs weigh (2/N²)·E N(x1 − x2; 0, 2ε²)/∫p² = ½·sqrt(s²/(s² + ε²)).
        Assert.Equal(1 + 0.5 * Math.Sqrt(0.8), SetSizeBias.ExpectedSelfOverlap(2, 1), 1e-15);
        // Grows with N (a larger set gets a narrower kernel): the bias ∫p_T² − ∫p_O² is negative for n < N_original.
        Assert.True(SetSizeBias.ExpectedSelfOverlap(10_000, 16) > SetSizeBias.ExpectedSelfOverlap(16, 16));
        Assert.Equal(-0.098, SetSizeBias.Expected(16, 10_000, 16), 0.0005);
        Assert.InRange(SetSizeBias.Expected(64, 10_000, 64), -3e-8, -1e-8); // below float32's resolution
    }

    [Fact]
    public void DeltaIsTheSumOfItsTwoPartsAndTheFloat32FlagIsRelativeToTheDistances()
    {
        var t = new DeltaTerms(TrainSelf: 1.2, OriginalSelf: 1.5, TrainCross: 0.4, OriginalCross: 0.1);
        Assert.Equal(1.2 - 0.8, t.TrainDistance, 1e-15);
        Assert.Equal(1.5 - 0.2, t.OriginalDistance, 1e-15);
        Assert.Equal(t.SelfPart + t.CrossPart, t.Delta, 1e-15);
        Assert.Equal(-0.3, t.SelfPart, 1e-15);
        Assert.Equal(-0.6, t.CrossPart, 1e-15);
        Assert.False(KernelSumPrecisions.BelowFloat32Resolution(t.Delta, t.TrainDistance, t.OriginalDistance));
        Assert.True(KernelSumPrecisions.BelowFloat32Resolution(1e-8, 1 + 1e-8, 1));   // 1e-8 < 2^-23·1
        Assert.True(KernelSumPrecisions.BelowFloat32Resolution(-1e-8, -3, 0.5));     // relative to the larger distance
        Assert.False(KernelSumPrecisions.BelowFloat32Resolution(1e-6, 1 + 1e-6, 1));
        Assert.False(KernelSumPrecisions.BelowFloat32Resolution(0, 0, 0));          // 0 < 0: no claim when everything is 0
    }
}
