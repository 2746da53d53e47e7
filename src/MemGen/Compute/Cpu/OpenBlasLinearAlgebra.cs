using MemGen.Native;

namespace MemGen.Compute.Cpu;

/// <summary><see cref="LinearAlgebra"/> on OpenBLAS and LAPACKE (<see cref="Blas"/>).</summary>
internal sealed class OpenBlasLinearAlgebra : LinearAlgebra
{
    /// <inheritdoc />
    public override void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha, ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c) =>
        Blas.Sgemm(transA, transB, m, n, k, alpha, a, b, beta, c);

    /// <inheritdoc />
    public override void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha, ReadOnlySpan<double> a, ReadOnlySpan<double> b, double beta, Span<double> c) =>
        Blas.Dgemm(transA, transB, m, n, k, alpha, a, b, beta, c);

    /// <inheritdoc />
    public override void SymmetricEigen(Span<double> matrix, Span<double> eigenvalues, int n) => Blas.SymmetricEigen(matrix, eigenvalues, n);

    /// <inheritdoc />
    public override void SymmetricEigen(Span<float> matrix, Span<float> eigenvalues, int n) => Blas.SymmetricEigen(matrix, eigenvalues, n);

    /// <inheritdoc />
    public override void SingularValueDecomposition(Span<double> matrix, int m, int n, Span<double> singularValues, Span<double> leftVectors) =>
        Blas.SingularValueDecomposition(matrix, m, n, singularValues, leftVectors);

    /// <inheritdoc />
    public override int ThreadCount
    {
        get => Blas.ThreadCount;
        set => Blas.ThreadCount = value;
    }
}
