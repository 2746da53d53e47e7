using MemGen.Compute;

namespace MemGen.Analysis.AdaptiveBasis;

/// <summary>
/// The adaptive basis of a denoiser at one point (docs/science.md §5, GAHB): the eigendecomposition of the symmetric part
/// S = (J + Jᵀ)/2 of its Jacobian, eigenvalues λ_k in descending order with orthonormal eigenvectors e_k, plus the
/// scalar summaries tr J (= Σλ_k, the effective dimensionality: MSE ≈ σ²·tr J), Σλ_k² and the asymmetry ‖J − Jᵀ‖_F/‖J‖_F.
/// </summary>
public sealed class JacobianSpectrum
{
    private readonly double[] _eigenvectors; // row k = e_k

    private JacobianSpectrum(int dimension, double[] eigenvalues, double[] eigenvectors, double trace, double asymmetry)
    {
        Dimension = dimension;
        Eigenvalues = eigenvalues;
        _eigenvectors = eigenvectors;
        Trace = trace;
        Asymmetry = asymmetry;
        SumSquaredEigenvalues = eigenvalues.Sum(l => l * l);
    }

    /// <summary>d.</summary>
    public int Dimension { get; }

    /// <summary>λ_k of S, descending (d values).</summary>
    public IReadOnlyList<double> Eigenvalues { get; }

    /// <summary>tr J (= Σλ_k).</summary>
    public double Trace { get; }

    /// <summary>Σλ_k².</summary>
    public double SumSquaredEigenvalues { get; }

    /// <summary>‖J − Jᵀ‖_F / ‖J‖_F (0 for J = 0).</summary>
    public double Asymmetry { get; }

    /// <summary>e_k (unit norm, d values), k = 0 for the largest eigenvalue.</summary>
    public ReadOnlySpan<double> Eigenvector(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(k, Dimension);
        return _eigenvectors.AsSpan(k * Dimension, Dimension);
    }

    /// <summary>The eigenvectors of <paramref name="indices"/>, row-major (one eigenvector per row).</summary>
    public double[] Eigenvectors(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var rows = new double[indices.Count * Dimension];
        for (int r = 0; r < indices.Count; r++) Eigenvector(indices[r]).CopyTo(rows.AsSpan(r * Dimension, Dimension));
        return rows;
    }

    /// <summary>The coefficients ⟨x, e_k⟩ of <paramref name="x"/> in the eigenbasis, in the order of <see cref="Eigenvalues"/>.</summary>
    public double[] Coefficients(ReadOnlySpan<float> x)
    {
        if (x.Length != Dimension) throw new ArgumentException($"The image has {x.Length} values, the basis {Dimension}.");
        var c = new double[Dimension];
        for (int k = 0; k < Dimension; k++)
        {
            var e = _eigenvectors.AsSpan(k * Dimension, Dimension);
            double dot = 0;
            for (int i = 0; i < Dimension; i++) dot += x[i] * e[i];
            c[k] = dot;
        }
        return c;
    }

    /// <summary>The number of eigenvalues above <paramref name="threshold"/> ([K24]'s count of λ &gt; ½ against σ).</summary>
    public int CountAbove(double threshold) => Eigenvalues.Count(l => l > threshold);

    /// <summary>
    /// Decomposes the symmetric part of the row-major d×d Jacobian <paramref name="jacobian"/> with
    /// <paramref name="linearAlgebra"/> (default: the host's, LAPACK dsyevd).
    /// </summary>
    public static JacobianSpectrum Of(ReadOnlySpan<double> jacobian, int dimension, LinearAlgebra? linearAlgebra = null)
    {
        int d = dimension;
        ArgumentOutOfRangeException.ThrowIfLessThan(d, 1);
        if (jacobian.Length != (long)d * d) throw new ArgumentException($"The Jacobian has {jacobian.Length} values, {d}×{d} needs {(long)d * d}.");
        double normSq = 0, asymSq = 0, trace = 0;
        var s = new double[(long)d * d];
        for (int r = 0; r < d; r++)
        {
            trace += jacobian[r * d + r];
            for (int c = 0; c < d; c++)
            {
                double a = jacobian[r * d + c], b = jacobian[c * d + r];
                normSq += a * a;
                asymSq += (a - b) * (a - b);
                s[(long)r * d + c] = 0.5 * (a + b);
            }
        }
        var ascending = new double[d];
        (linearAlgebra ?? ComputeBackend.Host.LinearAlgebra).SymmetricEigen(s, ascending, d);
        var eigenvalues = new double[d];
        var vectors = new double[(long)d * d];
        for (int k = 0; k < d; k++)
        {
            int column = d - 1 - k; // LAPACK: ascending eigenvalues, eigenvectors as columns
            eigenvalues[k] = ascending[column];
            for (int i = 0; i < d; i++) vectors[(long)k * d + i] = s[(long)i * d + column];
        }
        return new JacobianSpectrum(d, eigenvalues, vectors, trace, normSq > 0 ? Math.Sqrt(asymSq / normSq) : 0);
    }
}
