using MemGen.Compute;

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
        ComputeBackend.Host.LinearAlgebra.SymmetricEigen(u, lambda, d);
        double cut = Math.Max(lambda[d - 1], 0) * relativeTolerance;
        int rank = 0;
        for (int j = d - 1; j >= 0; j--)
        {
            if (lambda[j] > cut && rank < maxRank) rank++;
            else lambda[j] = 0;
        }
        return new SpectralGaussian(d, (double[])mean.Clone(), lambda, u, rank);
    }

    /// <summary>
    /// The law of μ + sqrt(<paramref name="scale"/>)·F·z, z ~ N(0, I): Σ = scale·F·Fᵀ for a square d×d factor F
    /// (row-major), decomposed through the SVD of F so that small eigenvalues stay accurate even when F is
    /// badly conditioned. Exactly <paramref name="rank"/> eigenvalues are kept (rank(F), known to the caller,
    /// e.g. min(n − 1, d) for the fitted B); the others are set to 0.
    /// </summary>
    public static SpectralGaussian FromFactor(double[] mean, ReadOnlySpan<double> factor, double scale, int dimension, int rank)
    {
        ArgumentNullException.ThrowIfNull(mean);
        int d = dimension;
        if (mean.Length != d || factor.Length != d * d) throw new ArgumentException("mean must have d entries and factor d×d.");
        if (rank < 0 || rank > d) throw new ArgumentOutOfRangeException(nameof(rank));
        if (!(scale > 0)) throw new ArgumentOutOfRangeException(nameof(scale));
        var a = factor.ToArray();
        var s = new double[d];
        var left = new double[d * d];
        ComputeBackend.Host.LinearAlgebra.SingularValueDecomposition(a, d, d, s, left);
        // Ascending order, as FromCovariance: column j of U ← column d−1−j of the SVD's U.
        var lambda = new double[d];
        var u = new double[d * d];
        int kept = 0;
        for (int j = 0; j < d; j++)
        {
            int src = d - 1 - j;
            bool keep = src < rank && s[src] > 0;
            lambda[j] = keep ? scale * s[src] * s[src] : 0;
            if (keep) kept++;
            for (int i = 0; i < d; i++) u[i * d + j] = left[i * d + src];
        }
        return new SpectralGaussian(d, (double[])mean.Clone(), lambda, u, kept);
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
