using System.Runtime.InteropServices;

namespace MemGen.Native;

/// <summary>
/// Narrow binding to OpenBLAS (Debian <c>libopenblas0-pthread</c>) and LAPACKE (<c>liblapacke</c>):
/// row-major matrix products and symmetric eigendecompositions. All matrices are row-major.
/// </summary>
internal static unsafe class Blas
{
    private const string OpenBlasLib = "libopenblas.so.0";
    private const string LapackeLib = "liblapacke.so.3";
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;

    /// <summary>
    /// OpenBLAS 0.3.21 identifies AMD Zen 4/5 as Haswell and runs AVX2 kernels (about 2× slower here); its SkylakeX
    /// (AVX-512) kernels run on these CPUs. OpenBLAS reads OPENBLAS_CORETYPE once, when it is loaded by the first call
    /// below, so it is put into the native environment first unless the user set it.
    /// </summary>
    static Blas()
    {
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported && string.IsNullOrEmpty(ProcessEnvironment.Get("OPENBLAS_CORETYPE")))
            ProcessEnvironment.Set("OPENBLAS_CORETYPE", "SkylakeX");
    }

    [DllImport(OpenBlasLib, EntryPoint = "cblas_sgemm")]
    private static extern void cblas_sgemm(int order, int transA, int transB, int m, int n, int k,
        float alpha, float* a, int lda, float* b, int ldb, float beta, float* c, int ldc);

    [DllImport(OpenBlasLib, EntryPoint = "cblas_dgemm")]
    private static extern void cblas_dgemm(int order, int transA, int transB, int m, int n, int k,
        double alpha, double* a, int lda, double* b, int ldb, double beta, double* c, int ldc);

    [DllImport(OpenBlasLib, EntryPoint = "openblas_set_num_threads")]
    private static extern void openblas_set_num_threads(int count);

    [DllImport(OpenBlasLib, EntryPoint = "openblas_get_num_threads")]
    private static extern int openblas_get_num_threads();

    /// <summary>
    /// OpenBLAS's own thread count (process-wide). Set it to 1 when several threads call BLAS at once
    /// (e.g. independent runs under Parallel.For), so the cores are not oversubscribed.
    /// </summary>
    public static int ThreadCount
    {
        get => openblas_get_num_threads();
        set => openblas_set_num_threads(Math.Max(1, value));
    }

    [DllImport(LapackeLib, EntryPoint = "LAPACKE_dgesvd")]
    private static extern int LAPACKE_dgesvd(int layout, byte jobu, byte jobvt, int m, int n, double* a, int lda,
        double* s, double* u, int ldu, double* vt, int ldvt, double* superb);

    [DllImport(LapackeLib, EntryPoint = "LAPACKE_dsyevd")]
    private static extern int LAPACKE_dsyevd(int layout, byte jobz, byte uplo, int n, double* a, int lda, double* w);

    [DllImport(LapackeLib, EntryPoint = "LAPACKE_ssyevd")]
    private static extern int LAPACKE_ssyevd(int layout, byte jobz, byte uplo, int n, float* a, int lda, float* w);

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C with op(A) m×k, op(B) k×n, C m×n (row-major, dense, leading
    /// dimension = row length of the stored matrix).
    /// </summary>
    public static void Sgemm(bool transA, bool transB, int m, int n, int k, float alpha,
        ReadOnlySpan<float> a, ReadOnlySpan<float> b, float beta, Span<float> c)
    {
        CheckGemm(m, n, k, a.Length, b.Length, c.Length);
        fixed (float* pa = a, pb = b, pc = c)
            cblas_sgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha,
                pa, transA ? m : k, pb, transB ? k : n, beta, pc, n);
    }

    /// <summary>Double-precision version of <see cref="Sgemm"/>.</summary>
    public static void Dgemm(bool transA, bool transB, int m, int n, int k, double alpha,
        ReadOnlySpan<double> a, ReadOnlySpan<double> b, double beta, Span<double> c)
    {
        CheckGemm(m, n, k, a.Length, b.Length, c.Length);
        fixed (double* pa = a, pb = b, pc = c)
            cblas_dgemm(RowMajor, transA ? Trans : NoTrans, transB ? Trans : NoTrans, m, n, k, alpha,
                pa, transA ? m : k, pb, transB ? k : n, beta, pc, n);
    }

    /// <summary>
    /// Eigendecomposition of the symmetric n×n matrix in <paramref name="matrix"/> (row-major; only the
    /// upper triangle is read). On return <paramref name="matrix"/> holds the eigenvectors as columns and
    /// <paramref name="eigenvalues"/> the eigenvalues in ascending order.
    /// </summary>
    public static void SymmetricEigen(Span<double> matrix, Span<double> eigenvalues, int n)
    {
        if (matrix.Length < (long)n * n || eigenvalues.Length < n) throw new ArgumentException("SymmetricEigen: buffers too small.");
        int info;
        fixed (double* pa = matrix, pw = eigenvalues)
            info = LAPACKE_dsyevd(RowMajor, (byte)'V', (byte)'U', n, pa, n, pw);
        if (info != 0) throw new InvalidOperationException($"LAPACKE_dsyevd failed with info={info} (n={n}).");
    }

    /// <summary>
    /// Singular values and left singular vectors of the row-major m×n matrix <paramref name="matrix"/>
    /// (destroyed): A = U·diag(s)·Vᵀ. <paramref name="singularValues"/> (min(m, n)) receives s in descending
    /// order and <paramref name="leftVectors"/> (m×m, row-major) U, vector k in column k. Small singular values
    /// are accurate relative to the largest, unlike eigenvalues of A·Aᵀ.
    /// </summary>
    public static void SingularValueDecomposition(Span<double> matrix, int m, int n, Span<double> singularValues, Span<double> leftVectors)
    {
        int k = Math.Min(m, n);
        if (m < 1 || n < 1 || matrix.Length < (long)m * n || singularValues.Length < k || leftVectors.Length < (long)m * m)
            throw new ArgumentException("SingularValueDecomposition: buffers too small.");
        var superb = new double[Math.Max(1, k - 1)];
        double dummy = 0;
        int info;
        fixed (double* pa = matrix, ps = singularValues, pu = leftVectors, pb = superb)
            info = LAPACKE_dgesvd(RowMajor, (byte)'A', (byte)'N', m, n, pa, n, ps, pu, m, &dummy, 1, pb);
        if (info != 0) throw new InvalidOperationException($"LAPACKE_dgesvd failed with info={info} ({m}×{n}).");
    }

    /// <summary>Single-precision version of <see cref="SymmetricEigen(Span{double}, Span{double}, int)"/>.</summary>
    public static void SymmetricEigen(Span<float> matrix, Span<float> eigenvalues, int n)
    {
        if (matrix.Length < (long)n * n || eigenvalues.Length < n) throw new ArgumentException("SymmetricEigen: buffers too small.");
        int info;
        fixed (float* pa = matrix, pw = eigenvalues)
            info = LAPACKE_ssyevd(RowMajor, (byte)'V', (byte)'U', n, pa, n, pw);
        if (info != 0) throw new InvalidOperationException($"LAPACKE_ssyevd failed with info={info} (n={n}).");
    }

    private static void CheckGemm(int m, int n, int k, int aLen, int bLen, int cLen)
    {
        if (m < 0 || n < 0 || k < 0) throw new ArgumentException($"GEMM: negative dimension (m={m}, n={n}, k={k}).");
        if (aLen < (long)m * k || bLen < (long)k * n || cLen < (long)m * n)
            throw new ArgumentException($"GEMM: buffer too small for m={m}, n={n}, k={k} (a={aLen}, b={bLen}, c={cLen}).");
    }
}
