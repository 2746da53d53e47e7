using MathNet.Numerics.LinearAlgebra;
using MemGen.Denoisers;
using MemGen.Sampling;
using MemGen.Tensors;

namespace MemGen.Tests.Sampling;

/// <summary>With the exact Wiener denoiser of N(μ, Σ), the samplers must reproduce μ and Σ.</summary>
public class GaussianSamplingTests
{
    private const int Side = 4, D = Side * Side;

    /// <summary>μ around 0.5 and Σ = Q·diag(λ)·Qᵀ with λ from 0.004 to 0.04 and a random rotation Q.</summary>
    private static (Vector<double> Mean, Matrix<double> Covariance) Law()
    {
        var rng = new DeterministicRng(99);
        var mean = Vector<double>.Build.Dense(D, _ => 0.5 + 0.1 * rng.NextNormal());
        var q = Matrix<double>.Build.Dense(D, D, (_, _) => rng.NextNormal()).QR().Q;
        var lambda = Vector<double>.Build.Dense(D, k => 0.004 + 0.036 * k / (D - 1));
        return (mean, q * Matrix<double>.Build.DenseOfDiagonalVector(lambda) * q.Transpose());
    }

    private static (Vector<double> Mean, Matrix<double> Covariance) MomentsOf(Tensor samples, int d)
    {
        int n = samples.Shape[0];
        var x = Matrix<double>.Build.Dense(n, d, (i, j) => samples.Item(i)[j]);
        var mean = x.ColumnSums() / n;
        var centred = x - Matrix<double>.Build.Dense(n, d, (_, j) => mean[j]);
        return (mean, centred.TransposeThisAndMultiply(centred) / (n - 1));
    }

    private static void AssertMatches(Tensor samples, Vector<double> mean, Matrix<double> covariance, double extraVariance)
    {
        int n = samples.Shape[0];
        var (m, c) = MomentsOf(samples, D);
        var target = covariance + Matrix<double>.Build.DenseIdentity(D) * extraVariance;
        // Sampling error of a mean: sd √(λmax/n) ≈ 0.005 per pixel for n = 1500; allow 5 sd.
        Assert.True((m - mean).AbsoluteMaximum() < 5 * Math.Sqrt(0.04 / n), $"mean error {(m - mean).AbsoluteMaximum()}");
        // Relative Frobenius error of a covariance estimate is about √(d/n) ≈ 0.1; allow 0.2.
        double relative = (c - target).FrobeniusNorm() / target.FrobeniusNorm();
        Assert.True(relative < 0.2, $"covariance relative error {relative}");
    }

    /// <summary>
    /// Gaussian data of rank <see cref="Rank"/> in d = 64: the regime Algorithm 1 is built for (data near a
    /// low-dimensional set, so the residual ‖y − f(y)‖/√d measures the noise). On full-rank data the estimate
    /// σ_t² = s² − MSE/d collapses toward 0 at small σ and the algorithm stops early.
    /// </summary>
    private const int Rank = 4, WideSide = 8, Wide = WideSide * WideSide;

    private static (Vector<double> Mean, Matrix<double> Covariance) LowRankLaw()
    {
        var rng = new DeterministicRng(98);
        var mean = Vector<double>.Build.Dense(Wide, _ => 0.5 + 0.1 * rng.NextNormal());
        var basis = Matrix<double>.Build.Dense(Wide, Rank, (_, _) => rng.NextNormal()).QR().Q.SubMatrix(0, Wide, 0, Rank);
        var lambda = Vector<double>.Build.Dense(Rank, k => 0.01 + 0.03 * k / (Rank - 1));
        return (mean, basis * Matrix<double>.Build.DenseOfDiagonalVector(lambda) * basis.Transpose());
    }

    [Fact]
    public void Algorithm1ReproducesMeanAndCovariance()
    {
        // Paper variant (fixed h; h0 = 0.02 to halve the ~3000 steps). The code variant's growing step reaches σ∞
        // in tens of steps and its sample covariance is ~23% off here (measured), so it is not tested for this.
        const int count = 600;
        var (mean, covariance) = LowRankLaw();
        var denoiser = new GaussianDenoiser(mean.ToArray(), covariance.ToColumnMajorArray());
        var options = new Algorithm1Options { InitialStep = 0.02, FinalSigma = 0.01, BatchSize = 300 };
        var result = new Algorithm1Sampler(options).Sample(denoiser, count, 1, WideSide, WideSide, seed: 5);
        Assert.Equal(0, result.DivergedCount);
        // The last iterate keeps noise s² ≈ σ_final²·d/(d − rank) (σ_t only sees the d − rank directions the
        // denoiser removes).
        double s2 = result.FinalSigma.Average(s => (double)s * s) * Wide / (Wide - Rank);
        var (m, c) = MomentsOf(result.Samples, Wide);
        var target = covariance + Matrix<double>.Build.DenseIdentity(Wide) * s2;
        Assert.True((m - mean).AbsoluteMaximum() < 5 * Math.Sqrt(0.04 / count), $"mean error {(m - mean).AbsoluteMaximum()}");
        // Relative Frobenius error of a rank-4 covariance estimate ≈ √(rank/n) ≈ 0.08; allow 0.2.
        double relative = (c - target).FrobeniusNorm() / target.FrobeniusNorm();
        Assert.True(relative < 0.2, $"covariance relative error {relative}");
    }

    [Theory]
    [InlineData(ProbabilityFlowMethod.Euler, 400)]
    [InlineData(ProbabilityFlowMethod.Heun, 60)]
    public void ProbabilityFlowReproducesMeanAndCovariance(ProbabilityFlowMethod method, int steps)
    {
        var (mean, covariance) = Law();
        var denoiser = new GaussianDenoiser(mean.ToArray(), covariance.ToColumnMajorArray());
        // Start far above the data scale so N(m, σmax²I) ≈ N(μ, Σ + σmax²I).
        var options = new ProbabilityFlowOptions { Method = method, Steps = steps, MaxSigma = 10f, MinSigma = 0.002f, BatchSize = 500 };
        var result = new ProbabilityFlowSampler(options).Sample(denoiser, 1500, 1, Side, Side, seed: 6);
        Assert.Equal(0, result.DivergedCount);
        AssertMatches(result.Samples, mean, covariance, 0);
    }
}
