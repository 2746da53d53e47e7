using MathNet.Numerics.LinearAlgebra;
using MemGen.Analysis;
using MemGen.Analysis.AdaptiveBasis;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Tests.Denoisers;
using MemGen.Tensors;
using static MemGen.Tests.Analysis.AdaptiveBasis.AdaptiveBasisTestData;

namespace MemGen.Tests.Analysis.AdaptiveBasis;

public class JacobianStudyTests
{
    private static readonly JacobianStudyOptions LinearStep = new() { DifferenceStep = 0.25 };

    [Fact]
    public void WienerSpectrumIsSpectrumOverSpectrumPlusNoise()
    {
        var (wiener, _, _, spectrum) = Wiener(seed: 1);
        const double sigma = 0.15;
        var m = JacobianStudy.Measure(wiener, RandomImage(2), Shape, sigma, seed: 3, options: LinearStep);
        for (int k = 0; k < Shape.Size; k++)
            Assert.Equal(spectrum[k] / (spectrum[k] + sigma * sigma), m.Eigenvalues[k], 1e-6);
        Assert.Equal(spectrum.Sum(s => s / (s + sigma * sigma)), m.Trace, 1e-5);
        Assert.Equal(spectrum.Sum(s => Math.Pow(s / (s + sigma * sigma), 2)), m.SumSquaredEigenvalues, 1e-5);
        Assert.True(m.Asymmetry < 1e-5, $"asymmetry {m.Asymmetry}");
        Assert.Equal(spectrum.Count(s => s / (s + sigma * sigma) > 0.5), m.EigenvaluesAboveHalf);
    }

    [Fact]
    public void SteinEstimateMatchesTheTrueErrorOfTheWienerDenoiserInExpectation()
    {
        var (wiener, mean, covariance, _) = Wiener(seed: 4);
        int d = Shape.Size;
        const double sigma = 0.2;
        const int draws = 300;
        var x = RandomImage(5);
        var measurements = Enumerable.Range(0, draws)
            .Select(r => JacobianStudy.Measure(wiener, x, Shape, sigma, seed: 6, image: 0, draw: r, options: LinearStep with { Top = 0, PowersOfTwo = false }))
            .ToArray();
        var summary = JacobianStudySummary.Of(measurements);
        // Closed form for f(y) = μ + A(y − μ), A = Σ(Σ+σ²I)⁻¹: E‖f − x‖² = ‖(A − I)(x − μ)‖² + σ²·tr(AᵀA).
        var a = covariance * (covariance + Matrix<double>.Build.DenseIdentity(d) * (sigma * sigma)).Inverse();
        var offset = Vector<double>.Build.Dense(d, i => x[i] - mean[i]);
        double expected = ((a - Matrix<double>.Build.DenseIdentity(d)) * offset).L2Norm() is var bias ? bias * bias + sigma * sigma * (a.Transpose() * a).Trace() : 0;
        // Tolerances from the draws: 4 standard errors of each mean.
        Assert.True(Math.Abs(summary.SteinEstimate.Mean - expected) < 4 * summary.SteinEstimate.StandardError,
            $"SURE {summary.SteinEstimate} vs closed form {expected}");
        Assert.True(Math.Abs(summary.SquaredError.Mean - expected) < 4 * summary.SquaredError.StandardError,
            $"true error {summary.SquaredError} vs closed form {expected}");
        Assert.True(Math.Abs(summary.SteinMinusTrue.Mean) < 4 * summary.SteinMinusTrue.StandardError, $"SURE − true {summary.SteinMinusTrue}");
        // The test has power: leaving out the Jacobian (tr J = 0) would shift SURE by 2σ²·tr J, far outside the error bar.
        Assert.True(2 * sigma * sigma * summary.Trace.Mean > 8 * summary.SteinEstimate.StandardError,
            $"SURE standard error {summary.SteinEstimate.StandardError} too large for shift {2 * sigma * sigma * summary.Trace.Mean}");
    }

    [Fact]
    public void EmpiricalOptimalDenoiserNearATrainingImageAtSmallSigmaHasZeroJacobian()
    {
        var training = DenoiserTestData.Uniform(5, 1, 8, 8, seed: 7);
        var denoiser = new EmpiricalOptimalDenoiser(training);
        var m = JacobianStudy.Measure(denoiser, training.Image(2), Shape, sigma: 0.05, seed: 8);
        Assert.True(Math.Abs(m.Trace) < 1e-6, $"tr J = {m.Trace}");
        Assert.True(m.Eigenvalues.Max(Math.Abs) < 1e-6, $"max |λ| = {m.Eigenvalues.Max(Math.Abs)}");
        Assert.Equal(0, m.EigenvaluesAboveHalf);
        Assert.True(m.SquaredError < 1e-10, $"it returns the training image: error {m.SquaredError}");
        // SURE with tr J = 0 is ‖y − x‖² − dσ²: a noisy estimate of 0, within a few σ²·√(2d) of it.
        Assert.True(Math.Abs(m.SteinEstimate) < 4 * 0.05 * 0.05 * Math.Sqrt(2 * Shape.Size), $"SURE {m.SteinEstimate}");
    }

    [Fact]
    public void RayOracleJacobianHasRankOneAlongTheRay()
    {
        var x0 = RandomImage(9);
        var ray = new RayDenoiser(x0);
        var clean = x0.Select(v => 0.7f * v).ToArray();
        var m = JacobianStudy.Measure(ray, clean, Shape, sigma: 0.1, seed: 10, options: LinearStep with { Top = 2 });
        Assert.Equal(1, m.Eigenvalues[0], 5);
        Assert.True(m.Eigenvalues.Skip(1).Max(Math.Abs) < 1e-5, $"second |λ| = {m.Eigenvalues.Skip(1).Max(Math.Abs)}");
        Assert.Equal(1, m.Trace, 5);
        Assert.Equal(1, m.EigenvaluesAboveHalf);
        double norm = Math.Sqrt(x0.Sum(v => (double)v * v)), dot = 0;
        for (int i = 0; i < x0.Length; i++) dot += m.Eigenvectors[i] * x0[i] / norm;
        Assert.True(Math.Abs(dot) > 1 - 1e-6, $"|⟨e_1, x0/‖x0‖⟩| = {Math.Abs(dot)}");
        // The clean image lies on the ray: all its energy is in e_1.
        Assert.Equal(1, m.Shrinkage.Compaction[0], 5);
    }

    [Fact]
    public void NetworkMeasurementIsExactAndHomogeneous()
    {
        using var network = SmallNetwork();
        var shape = new ImageShape(1, 6, 6);
        var x = RandomImage(11, shape.Size);
        var m = JacobianStudy.Measure(new NetworkDenoiser(network), x, shape, sigma: 0.2, seed: 12, options: new() { Top = 3 });
        Assert.Equal(JacobianMethod.ExactLinearization, m.Method);
        Assert.True(m.HomogeneityError < 1e-4, $"homogeneity error {m.HomogeneityError}");
        Assert.Equal(m.Eigenvalues.Sum(), m.Trace, 9);
        Assert.Equal([0, 1, 2, 3, 7, 15, 31], m.EigenvectorIndices);
        // The same y as JacobianStudy.NoisyImage, and the eigenvalues of the existing network analysis at that y.
        Assert.Equal(JacobianStudy.NoisyImage(x, 0.2, 12, 0, 0), m.Noisy);
        // Kept eigenvectors are unit eigenvectors of (J + Jᵀ)/2 with the reported eigenvalues.
        var j = DenoiserJacobian.At(new NetworkDenoiser(network), m.Noisy, shape, 0.2);
        int d = shape.Size;
        for (int r = 0; r < m.EigenvectorIndices.Length; r++)
        {
            var e = m.Eigenvectors.AsSpan(r * d, d);
            double lambda = m.Eigenvalues[m.EigenvectorIndices[r]], residual = 0, norm = 0;
            for (int i = 0; i < d; i++)
            {
                double se = 0;
                for (int c = 0; c < d; c++) se += 0.5 * (j.Matrix[i * d + c] + j.Matrix[c * d + i]) * e[c];
                residual += Math.Pow(se - lambda * e[i], 2);
                norm += e[i] * e[i];
            }
            Assert.Equal(1, norm, 9);
            Assert.True(Math.Sqrt(residual) < 1e-8, $"eigenvector {m.EigenvectorIndices[r]}: residual {Math.Sqrt(residual)}");
        }
    }

    [Fact]
    public void ShrinkageProfileFollowsItsClosedFormAndItsOracleErrorIsTheMonteCarloError()
    {
        var p = ShrinkageProfile.FromCoefficients([3, 0, 1], sigma: 1);
        Assert.Equal([0.9, 0, 0.5], p.OracleShrinkage, (a, b) => Math.Abs(a - b) < 1e-12);
        Assert.Equal(1.4, p.OracleSquaredError, 12);
        Assert.Equal([0.9, 0.9, 1], p.Compaction, (a, b) => Math.Abs(a - b) < 1e-12);

        // Monte Carlo: shrink the noisy coefficients c_k + σz_k by the oracle factors.
        double[] c = [2, -0.5, 0.1, 0, 1.5];
        const double sigma = 0.7;
        var profile = ShrinkageProfile.FromCoefficients(c, sigma);
        var rng = new DeterministicRng(13);
        const int draws = 40_000;
        var errors = new double[draws];
        for (int r = 0; r < draws; r++)
            for (int k = 0; k < c.Length; k++)
                errors[r] += Math.Pow(profile.OracleShrinkage[k] * (c[k] + sigma * rng.NextNormal()) - c[k], 2);
        var estimate = MeanEstimate.Of(errors);
        Assert.True(Math.Abs(estimate.Mean - profile.OracleSquaredError) < 4 * estimate.StandardError, $"{estimate} vs {profile.OracleSquaredError}");
    }

    [Fact]
    public void KeptEigenvectorsAreTheTopOnesAndPowersOfTwo()
    {
        Assert.Equal([0, 1, 2, 3, 7, 15, 31, 63], new JacobianStudyOptions { Top = 4 }.KeptEigenvectors(64));
        Assert.Equal([0, 1, 2, 3], new JacobianStudyOptions { Top = 4, PowersOfTwo = false }.KeptEigenvectors(64));
        Assert.Equal(Enumerable.Range(0, 10), new JacobianStudyOptions { Top = 16 }.KeptEigenvectors(10));
    }

    [Fact]
    public void SummaryTakesMediansAndMeansOverMeasurements()
    {
        var (wiener, _, _, _) = Wiener(seed: 14);
        var measurements = new List<JacobianMeasurement>();
        for (int image = 0; image < 3; image++)
            for (int draw = 0; draw < 2; draw++)
                measurements.Add(JacobianStudy.Measure(wiener, RandomImage(15 + image), Shape, 0.1, seed: 16, image, draw, LinearStep));
        var s = JacobianStudySummary.Of(measurements);
        Assert.Equal(6, s.Count);
        Assert.Equal(64, s.Dimension);
        for (int k = 0; k < 64; k += 9)
        {
            Assert.Equal(ImageStatistics.Median(measurements.Select(m => m.Eigenvalues[k]).ToArray()), s.MedianEigenvalues[k], 12);
            Assert.Equal(ImageStatistics.Median(measurements.Select(m => Math.Abs(m.Shrinkage.Coefficients[k])).ToArray()), s.MedianAbsCoefficients[k], 12);
            Assert.Equal(measurements.Average(m => m.Shrinkage.Compaction[k]), s.MeanCompaction[k], 12);
        }
        Assert.Equal(measurements.Average(m => m.SquaredError), s.SquaredError.Mean, 12);
        Assert.Equal(measurements.Max(m => m.HomogeneityError), s.MaxHomogeneityError);
        Assert.Equal(-10 * Math.Log10(s.SquaredError.Mean / 64), s.Psnr, 12);
        Assert.Throws<ArgumentException>(() => JacobianStudySummary.Of([measurements[0], measurements[0] with { Sigma = 0.2 }]));
    }
}
