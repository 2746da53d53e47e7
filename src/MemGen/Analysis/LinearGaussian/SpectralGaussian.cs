using MemGen.Native;

namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// A Gaussian N(μ, Σ) in d dimensions kept as μ and the eigendecomposition Σ = U·diag(λ)·Uᵀ, so that
/// log-determinants, inverses of Σ + εI and singular Σ (rank &lt; d, λ = 0 exactly) are all cheap and exact.
/// </summary>
/// <param name="Dimension">d.</param>
/// <param name="Mean">μ (length d).</param>
/// <param name="Eigenvalues">λ, ascending, ≥ 0; the d − Rank smallest are exactly 0.</param>
/// <param name="Eigenvectors">U, row-major d×d, eigenvector j in column j.</param>
/// <param name="Rank">Number of non-zero eigenvalues.</param>
public sealed record SpectralGaussian(int Dimension, double[] Mean, double[] Eigenvalues, double[] Eigenvectors, int Rank)
{
    /// <summary>Whether Σ is singular (rank &lt; d): the law has no density.</summary>
    public bool IsSingular => Rank < Dimension;

    /// <summary>
    /// Builds the decomposition of a symmetric PSD covariance (row-major d×d). Eigenvalues below
    /// <paramref name="relativeTolerance"/>·λ_max, and all but the <paramref name="maxRank"/> largest, are set to 0.
    /// </summary>
    public static SpectralGaussian FromCovariance(double[] mean, ReadOnlySpan<double> covariance, int dimension,
        int maxRank = int.MaxValue, double relativeTolerance = 1e-12)
    {
        ArgumentNullException.ThrowIfNull(mean);
        int d = dimension;
        if (mean.Length != d || covariance.Length != d * d) throw new ArgumentException("mean must have d entries and covariance d×d.");
        var u = covariance.ToArray();
        var lambda = new double[d];
        Blas.SymmetricEigen(u, lambda, d);
        double cut = Math.Max(lambda[d - 1], 0) * relativeTolerance;
        int rank = 0;
        for (int j = d - 1; j >= 0; j--)
        {
            if (lambda[j] > cut && rank < maxRank) rank++;
            else lambda[j] = 0;
        }
        return new SpectralGaussian(d, (double[])mean.Clone(), lambda, u, rank);
    }

    /// <summary>Coordinates of v in the eigenbasis: Uᵀ·v.</summary>
    public double[] ToEigenbasis(ReadOnlySpan<double> v)
    {
        int d = Dimension;
        var z = new double[d];
        for (int i = 0; i < d; i++)
        {
            double vi = v[i];
            for (int j = 0; j < d; j++) z[j] += Eigenvectors[i * d + j] * vi;
        }
        return z;
    }

    /// <summary>log ∫N(x; μ, Σ)² dx = −(d/2)·log(4π) − ½·log det Σ; +∞ when Σ is singular.</summary>
    public double LogSelfOverlap()
    {
        if (IsSingular) return double.PositiveInfinity;
        double logDet = 0;
        foreach (var l in Eigenvalues) logDet += Math.Log(l);
        return -0.5 * Dimension * Math.Log(4 * Math.PI) - 0.5 * logDet;
    }
}
