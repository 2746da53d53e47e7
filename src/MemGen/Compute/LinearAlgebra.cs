namespace MemGen.Compute;

/// <summary>
/// Dense linear algebra on row-major matrices in host memory, for the analyses (nearest-neighbour search, the
/// closed-form denoisers, de-duplication, the Jacobian's eigenbasis, the linear-Gaussian model). A backend's
/// <see cref="ComputeBackend.LinearAlgebra"/>; the CPU implementation binds OpenBLAS and LAPACKE.
/// </summary>
public abstract class LinearAlgebra
{
    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C with op(A) m×k, op(B) k×n, C m×n (row-major, dense, leading
    /// dimension = row length of the stored matrix).
    /// </summary>
    public abstract void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c);

    /// <summary>Double-precision version of <see cref="Sgemm"/>.</summary>
    public abstract void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, ReadOnlySpan<double> b, double beta, Span<double> c);

    /// <summary>
    /// Eigendecomposition of the symmetric n×n matrix in <paramref name="matrix"/> (row-major; only the
    /// upper triangle is read). On return <paramref name="matrix"/> holds the eigenvectors as columns and
    /// <paramref name="eigenvalues"/> the eigenvalues in ascending order.
    /// </summary>
    public abstract void SymmetricEigen(Span<double> matrix, Span<double> eigenvalues, int n);

    /// <summary>Single-precision version of <see cref="SymmetricEigen(Span{double}, Span{double}, int)"/>.</summary>
    public abstract void SymmetricEigen(Span<float> matrix, Span<float> eigenvalues, int n);

    /// <summary>
    /// Singular values and left singular vectors of the row-major m×n matrix <paramref name="matrix"/>
    /// (destroyed): A = U·diag(s)·Vᵀ. <paramref name="singularValues"/> (min(m, n)) receives s in descending
    /// order and <paramref name="leftVectors"/> (m×m, row-major) U, vector k in column k.
    /// </summary>
    public abstract void SingularValueDecomposition(Span<double> matrix, int m, int n, Span<double> singularValues, Span<double> leftVectors);

    /// <summary>
    /// Threads one call may use (process-wide). Set it to 1 while several threads call at once (independent runs under
    /// Parallel.For), so the cores are not oversubscribed, and restore it afterwards.
    /// </summary>
    public abstract int ThreadCount { get; set; }
}
