using System.Runtime.InteropServices;

namespace MemGen.Compute.Cuda;

/// <summary>
/// Narrow bindings to cuDNN 9's legacy convolution API (<c>cudnn_graph.h</c>, <c>cudnn_ops.h</c>, <c>cudnn_cnn.h</c>):
/// handles, 4-D tensor/filter/convolution descriptors, algorithm search (cudnnFind*) and the three convolution passes.
/// </summary>
internal static unsafe class CudnnApi
{
    // cudnn_graph.h
    public const int StatusSuccess = 0;            // CUDNN_STATUS_SUCCESS
    public const int DataFloat = 0;                // CUDNN_DATA_FLOAT
    public const int TensorNchw = 0;               // CUDNN_TENSOR_NCHW
    public const int NonDeterministic = 0;         // CUDNN_NON_DETERMINISTIC
    public const int Deterministic = 1;            // CUDNN_DETERMINISTIC
    public const int DefaultMath = 0;              // CUDNN_DEFAULT_MATH (allows TF32 on Ampere and later)
    public const int TensorOpMath = 1;             // CUDNN_TENSOR_OP_MATH
    public const int FmaMath = 3;                  // CUDNN_FMA_MATH (pure float32, no tensor cores)

    // cudnn_cnn.h
    public const int CrossCorrelation = 1;         // CUDNN_CROSS_CORRELATION (what deep-learning "convolution" means)

    /// <summary>cudnnConvolutionFwdAlgoPerf_t, cudnnConvolutionBwdDataAlgoPerf_t and cudnnConvolutionBwdFilterAlgoPerf_t share this layout.</summary>
    [StructLayout(LayoutKind.Sequential)]
    public struct AlgorithmPerformance
    {
        public int Algorithm;
        public int Status;
        public float Time;
        public nuint Memory;
        public int Determinism;
        public int MathType;
        public int Reserved0, Reserved1, Reserved2;
    }

    [DllImport(CudaLibraries.Cudnn)] public static extern nuint cudnnGetVersion();
    [DllImport(CudaLibraries.Cudnn)] private static extern IntPtr cudnnGetErrorString(int status);
    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnCreate(out IntPtr handle);
    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnDestroy(IntPtr handle);

    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnCreateTensorDescriptor(out IntPtr descriptor);
    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnSetTensor4dDescriptor(IntPtr descriptor, int format, int dataType, int n, int c, int h, int w);
    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnDestroyTensorDescriptor(IntPtr descriptor);
    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnCreateFilterDescriptor(out IntPtr descriptor);
    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnSetFilter4dDescriptor(IntPtr descriptor, int dataType, int format, int k, int c, int h, int w);
    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnDestroyFilterDescriptor(IntPtr descriptor);
    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnCreateConvolutionDescriptor(out IntPtr descriptor);
    [DllImport(CudaLibraries.Cudnn)]
    public static extern int cudnnSetConvolution2dDescriptor(IntPtr descriptor, int padH, int padW, int strideH, int strideW,
        int dilationH, int dilationW, int mode, int computeType);
    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnSetConvolutionMathType(IntPtr descriptor, int mathType);
    [DllImport(CudaLibraries.Cudnn)] public static extern int cudnnDestroyConvolutionDescriptor(IntPtr descriptor);

    [DllImport(CudaLibraries.Cudnn)]
    public static extern int cudnnFindConvolutionForwardAlgorithm(IntPtr handle, IntPtr xDesc, IntPtr wDesc, IntPtr convDesc, IntPtr yDesc,
        int requested, out int returned, AlgorithmPerformance* results);
    [DllImport(CudaLibraries.Cudnn)]
    public static extern int cudnnFindConvolutionBackwardDataAlgorithm(IntPtr handle, IntPtr wDesc, IntPtr dyDesc, IntPtr convDesc, IntPtr dxDesc,
        int requested, out int returned, AlgorithmPerformance* results);
    [DllImport(CudaLibraries.Cudnn)]
    public static extern int cudnnFindConvolutionBackwardFilterAlgorithm(IntPtr handle, IntPtr xDesc, IntPtr dyDesc, IntPtr convDesc, IntPtr dwDesc,
        int requested, out int returned, AlgorithmPerformance* results);

    [DllImport(CudaLibraries.Cudnn)]
    public static extern int cudnnConvolutionForward(IntPtr handle, float* alpha, IntPtr xDesc, IntPtr x, IntPtr wDesc, IntPtr w, IntPtr convDesc,
        int algorithm, IntPtr workspace, nuint workspaceBytes, float* beta, IntPtr yDesc, IntPtr y);
    [DllImport(CudaLibraries.Cudnn)]
    public static extern int cudnnConvolutionBackwardData(IntPtr handle, float* alpha, IntPtr wDesc, IntPtr w, IntPtr dyDesc, IntPtr dy, IntPtr convDesc,
        int algorithm, IntPtr workspace, nuint workspaceBytes, float* beta, IntPtr dxDesc, IntPtr dx);
    [DllImport(CudaLibraries.Cudnn)]
    public static extern int cudnnConvolutionBackwardFilter(IntPtr handle, float* alpha, IntPtr xDesc, IntPtr x, IntPtr dyDesc, IntPtr dy, IntPtr convDesc,
        int algorithm, IntPtr workspace, nuint workspaceBytes, float* beta, IntPtr dwDesc, IntPtr dw);

    /// <summary>Throws <see cref="CudaException"/> unless <paramref name="status"/> is CUDNN_STATUS_SUCCESS.</summary>
    public static void Check(int status, string call)
    {
        if (status != StatusSuccess) throw new CudaException(call, status, Marshal.PtrToStringUTF8(cudnnGetErrorString(status)) ?? "unknown cuDNN error");
    }
}
