using System.Runtime.InteropServices;

namespace MemGen.Compute.Cuda;

/// <summary>Narrow bindings to cuBLAS (<c>cublas_api.h</c>): a handle, its math mode and SGEMM.</summary>
internal static unsafe class CublasApi
{
    // cublas_api.h
    public const int StatusSuccess = 0;            // CUBLAS_STATUS_SUCCESS
    public const int OperationNone = 0;            // CUBLAS_OP_N
    public const int OperationTranspose = 1;       // CUBLAS_OP_T
    public const int PedanticMath = 2;             // CUBLAS_PEDANTIC_MATH (float32 throughout)
    public const int Tf32TensorOpMath = 3;         // CUBLAS_TF32_TENSOR_OP_MATH

    [DllImport(CudaLibraries.Cublas)] public static extern int cublasCreate_v2(out IntPtr handle);
    [DllImport(CudaLibraries.Cublas)] public static extern int cublasDestroy_v2(IntPtr handle);
    [DllImport(CudaLibraries.Cublas)] public static extern int cublasSetMathMode(IntPtr handle, int mode);
    [DllImport(CudaLibraries.Cublas)]
    public static extern int cublasSgemm_v2(IntPtr handle, int transA, int transB, int m, int n, int k, float* alpha, IntPtr a, int lda,
        IntPtr b, int ldb, float* beta, IntPtr c, int ldc);
    [DllImport(CudaLibraries.Cublas)] private static extern IntPtr cublasGetStatusString(int status);

    /// <summary>Throws <see cref="CudaException"/> unless <paramref name="status"/> is CUBLAS_STATUS_SUCCESS.</summary>
    public static void Check(int status, string call)
    {
        if (status != StatusSuccess) throw new CudaException(call, status, Marshal.PtrToStringUTF8(cublasGetStatusString(status)) ?? "unknown cuBLAS error");
    }
}
