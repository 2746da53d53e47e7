using MemGen.Analysis;
using MemGen.Tensors;
using Xunit.Abstractions;

namespace MemGen.Tests.Analysis;

public class PsnrSlopeFitTests(ITestOutputHelper output)
{
    /// <summary>
    /// A synthetic denoising curve with a straight part of known slope s between two smooth bends: the local slope
    /// dPSNR_out/dPSNR_in is 0 (saturation) below <paramref name="low"/> − w, rises along a cosine ramp to s over
    /// [low − w, low + w], stays s, and rises along a second ramp to 1 over [high − w, high + w] (the small-σ bend).
    /// Input PSNR from 0 to 48 dB in steps of 1.5 dB; optional Gaussian measurement noise of sd <paramref name="noise"/> dB.
    /// </summary>
    private static (double[] InputPsnr, double[] OutputPsnr) Curve(double s, double low = 8, double high = 34, double w = 3, double noise = 0, long seed = 0)
    {
        double Ramp(double x, double centre, double from, double to) =>
            x <= centre - w ? from : x >= centre + w ? to : from + (to - from) * 0.5 * (1 - Math.Cos(Math.PI * (x - centre + w) / (2 * w)));
        double LocalSlope(double x) => x < (low + high) / 2 ? Ramp(x, low, 0, s) : Ramp(x, high, s, 1);
        var input = Enumerable.Range(0, 33).Select(i => 1.5 * i).ToArray();
        var rng = new DeterministicRng(seed);
        var outputPsnr = new double[input.Length];
        double y = 10;
        for (int i = 0; i < input.Length; i++)
        {
            if (i > 0)
                for (int k = 0; k < 300; k++) // midpoint rule, exact enough for a smooth integrand
                    y += LocalSlope(input[i - 1] + 1.5 * (k + 0.5) / 300) * 1.5 / 300;
            outputPsnr[i] = y + noise * rng.NextNormal();
        }
        return (input, outputPsnr);
    }

    [Fact]
    public void PiecewiseLinearCurveGivesItsMiddleSegmentExactly()
    {
        var x = Enumerable.Range(0, 22).Select(i => 2.0 * i).ToArray(); // 0 … 42 dB
        const double s = 0.7;
        double Y(double p) => p <= 8 ? 12 + s * 8 : p <= 30 ? 12 + s * p : 12 + s * 30 + (p - 30);
        var fit = PsnrSlopeFit.Of(x, x.Select(Y).ToArray());
        Assert.True(fit.Found);
        Assert.Equal(s, fit.Slope, 12);
        Assert.Equal(12, fit.Intercept, 10);
        Assert.True(fit.MaxResidual < 1e-10);
        Assert.Equal(8, fit.MinInputPsnr);
        Assert.Equal(30, fit.MaxInputPsnr);
        Assert.Equal(12, fit.Points);
        Assert.Equal(6, fit.ExcludedSmallSigma); // 32 … 42 dB
        Assert.Equal(4, fit.ExcludedLargeSigma); // 0 … 6 dB
        Assert.Equal(Math.Pow(10, -30 / 20.0), fit.MinSigma, 12);
        Assert.Equal(Math.Pow(10, -8 / 20.0), fit.MaxSigma, 12);
        // The order of the points does not matter.
        var reversed = PsnrSlopeFit.Of(x.Reverse().ToArray(), x.Reverse().Select(Y).ToArray());
        Assert.Equal(fit, reversed);
    }

    [Theory]
    [InlineData(1.0)]
    [InlineData(2.0)]
    [InlineData(3.0)]
    [InlineData(5.0)]
    public void SmoothlyBentCurveGivesItsStraightSlopeAndLeavesBothEndsOut(double alpha)
    {
        double s = alpha / (alpha + 1);
        var (input, psnr) = Curve(s);
        var fit = PsnrSlopeFit.Of(input, psnr);
        output.WriteLine($"α={alpha}: slope {fit.Slope:F4} (true {s:F4}) on {fit.MinInputPsnr:F1}…{fit.MaxInputPsnr:F1} dB, {fit.Points} points, rms {fit.RmsResidual:F3}");
        Assert.True(fit.Found);
        Assert.True(Math.Abs(fit.Slope - s) < 0.01, $"slope {fit.Slope} vs {s}");
        // The run covers the straight part (11 … 31 dB) and stops within a grid step (1.5 dB) of the bends' middles (8, 34 dB).
        Assert.True(fit.MinInputPsnr <= 11 && fit.MaxInputPsnr >= 31, $"run {fit.MinInputPsnr}…{fit.MaxInputPsnr} dB misses part of the straight part");
        Assert.True(fit.MinInputPsnr >= 6.5 && fit.MaxInputPsnr <= 35.5, $"run {fit.MinInputPsnr}…{fit.MaxInputPsnr} dB reaches too far into a bend");
        Assert.True(fit.ExcludedSmallSigma >= 8 && fit.ExcludedLargeSigma >= 4, $"left out {fit.ExcludedSmallSigma} small-σ and {fit.ExcludedLargeSigma} large-σ points");
        // Fitting every point instead would be pulled toward the ends' slopes.
        var all = PsnrSlopeFit.Of(input, psnr, new PsnrSlopeFitOptions { ResidualTolerance = 100, MinSlope = -10, MaxSlope = 10 });
        Assert.Equal(input.Length, all.Points);
        Assert.True(Math.Abs(all.Slope - s) > Math.Abs(fit.Slope - s), "the rule should beat a fit to all points");
    }

    [Fact]
    public void MeasurementNoiseOfAFewHundredthsOfADecibelIsTolerated()
    {
        for (long seed = 1; seed <= 5; seed++)
        {
            var (input, psnr) = Curve(2.0 / 3, noise: 0.03, seed: seed);
            var fit = PsnrSlopeFit.Of(input, psnr);
            output.WriteLine($"seed {seed}: slope {fit.Slope:F4} on {fit.MinInputPsnr:F1}…{fit.MaxInputPsnr:F1} dB, {fit.Points} points, rms {fit.RmsResidual:F3}");
            Assert.True(fit.Found);
            Assert.True(Math.Abs(fit.Slope - 2.0 / 3) < 0.02, $"slope {fit.Slope}");
            Assert.True(fit.Points >= 10, $"{fit.Points} points");
        }
    }

    [Fact]
    public void CurveWithoutAStraightPartInBoundsIsNotFitted()
    {
        var x = Enumerable.Range(0, 15).Select(i => 3.0 * i).ToArray();
        var identityLike = PsnrSlopeFit.Of(x, x.Select(p => p + 20).ToArray()); // slope 1 everywhere
        Assert.False(identityLike.Found);
        Assert.True(double.IsNaN(identityLike.Slope));
        var curved = PsnrSlopeFit.Of(x, x.Select(p => 0.02 * p * p).ToArray()); // no run of 4 within 0.25 dB
        Assert.False(curved.Found);
        Assert.Throws<ArgumentException>(() => PsnrSlopeFit.Of(x, x.Take(3).ToArray()));
        Assert.Throws<ArgumentException>(() => PsnrSlopeFit.Of(x, x, new PsnrSlopeFitOptions { MinPoints = 1 }));
    }

    [Fact]
    public void GeometricSigmasAreEvenlySpacedInInputPsnr()
    {
        var grid = DenoisingCurveOptions.GeometricSigmas(0.01, 1, 5);
        Assert.Equal(5, grid.Length);
        for (int i = 0; i < 5; i++) Assert.Equal(Math.Pow(10, -2 + 0.5 * i), grid[i], 12);
        Assert.Equal([0.1], DenoisingCurveOptions.GeometricSigmas(0.1, 0.1, 1));
        Assert.Throws<ArgumentException>(() => DenoisingCurveOptions.GeometricSigmas(1, 0.1, 3));
        Assert.Throws<ArgumentException>(() => DenoisingCurveOptions.GeometricSigmas(0.1, 1, 1));
    }
}
