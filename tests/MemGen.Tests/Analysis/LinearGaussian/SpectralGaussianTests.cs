using MathNet.Numerics.LinearAlgebra;
using MemGen.Analysis.LinearGaussian;
using MemGen.Tensors;

namespace MemGen.Tests.Analysis.LinearGaussian;

public class SpectralGaussianTests
{
    private static Matrix<double> RandomOrthogonal(int d, long seed)
    {
        var rng = new DeterministicRng(seed);
        var m = Matrix<double>.Build.Dense(d, d, (_, _) => rng.NextNormal());
        return m.QR().Q;
    }

    private static double[] RowMajor(Matrix<double> m) => Enumerable.Range(0, m.RowCount * m.ColumnCount).Select(k => m[k / m.ColumnCount, k % m.ColumnCount]).ToArray();

    [Fact]
    public void FromFactorMatchesTheCovarianceScaleFFTransposed()
    {
        int d = 5;
        var rng = new DeterministicRng(4);
        var f = Matrix<double>.Build.Dense(d, d, (_, _) => rng.NextNormal());
        double scale = 0.37;
        var mean = new double[] { 1, 2, 3, 4, 5 };
        var g = SpectralGaussian.FromFactor(mean, RowMajor(f), scale, d, d);
        Assert.Equal(d, g.Rank);
        Assert.True(g.Eigenvalues.Zip(g.Eigenvalues.Skip(1)).All(p => p.First <= p.Second)); // ascending
        var expected = scale * f * f.Transpose();
        var cov = Densities.Covariance(g);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) Assert.Equal(expected[i, j], cov[i, j], 1e-12 * expected.FrobeniusNorm());
        var fromCov = SpectralGaussian.FromCovariance(mean, RowMajor(expected), d);
        for (int i = 0; i < d; i++) Assert.Equal(fromCov.Eigenvalues[i], g.Eigenvalues[i], 1e-12 * fromCov.Eigenvalues[^1]);
    }

    [Fact]
    public void FromFactorKeepsTinyEigenvaluesOfAnIllConditionedFactor()
    {
        // F = Q1·diag(1e6, 1, 1e-4)·Q2ᵀ: Σ = F·Fᵀ has eigenvalues 1e12, 1, 1e-8 (condition 1e20).
        int d = 3;
        var f = RandomOrthogonal(d, 1) * Matrix<double>.Build.DenseOfDiagonalArray([1e6, 1, 1e-4]) * RandomOrthogonal(d, 2).Transpose();
        var g = SpectralGaussian.FromFactor([0, 0, 0], RowMajor(f), 1.0, d, d);
        Assert.Equal(3, g.Rank);
        Assert.Equal(1e-8, g.Eigenvalues[0], 1e-8 * 1e-5);
        Assert.Equal(1.0, g.Eigenvalues[1], 1e-9);
        Assert.Equal(1e12, g.Eigenvalues[2], 1e12 * 1e-12);
        // The eigenvalues of F·Fᵀ cannot resolve 1e-8 next to 1e12 (absolute error ~1e-4).
        var viaCovariance = SpectralGaussian.FromCovariance([0, 0, 0], RowMajor(f * f.Transpose()), d);
        Assert.NotEqual(1e-8, viaCovariance.Eigenvalues[0], 1e-8 * 1e-2);
    }

    [Fact]
    public void FromFactorKeepsExactlyTheGivenRank()
    {
        int d = 4;
        var f = RandomOrthogonal(d, 3) * Matrix<double>.Build.DenseOfDiagonalArray([3, 2, 1, 0.5]);
        var g = SpectralGaussian.FromFactor([0, 0, 0, 0], RowMajor(f), 2.0, d, rank: 2);
        Assert.Equal(2, g.Rank);
        Assert.True(g.IsSingular);
        Assert.Equal([0.0, 0.0, 2.0 * 4, 2.0 * 9], g.Eigenvalues.Select(v => Math.Round(v, 9)).ToArray());
    }
}
