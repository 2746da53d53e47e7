using System.Globalization;
using MemGen.Tensors;

namespace MemGen.Compute.Cuda;

/// <summary>
/// cuDNN convolution of one fixed <see cref="ConvolutionShape"/> on plain NCHW float32 tensors. The algorithm of each
/// pass is picked once, when the shape is first built, by cudnnFind (the fastest that succeeds, deterministic ones
/// preferred so a seed reproduces a run), and the backend's one workspace is grown to fit it.
/// The 3×3 convolution is cuDNN's cross-correlation with padding 1. The 2×2 stride-2 transposed convolution is the
/// adjoint of a 2×2 stride-2 convolution C whose filter is PyTorch's ConvTranspose2d weight [in, out, 2, 2] read as
/// cuDNN's [K, C, 2, 2]: its forward pass is C's backward-data pass, its backward-data pass is C's forward pass, and
/// its weight gradient is C's filter gradient with the roles of input and output gradient exchanged.
/// </summary>
internal sealed unsafe class CudnnConvolution : IConvolution
{
    private const int Candidates = 16;
    private readonly CudaBackend _backend;
    private readonly IntPtr _wide, _narrow, _filter; // the tensors of C: its input (wide) and output (narrow)
    private readonly Pass _forward, _backwardData, _backwardFilter; // passes of C
    private bool _disposed;

    public CudnnConvolution(CudaBackend backend, ConvolutionShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.SourceLayout != TensorLayout.Nchw || shape.DestinationLayout != TensorLayout.Nchw)
            throw new ArgumentException($"cuDNN convolution: the CUDA backend computes on plain NCHW activations, not {shape.SourceLayout}→{shape.DestinationLayout}.");
        _backend = backend;
        Shape = shape;
        bool same = shape.Kind == ConvolutionKind.Same3x3;
        int n = shape.Batch, inC = shape.InChannels, outC = shape.OutChannels, h = shape.Height, w = shape.Width;
        // C maps wide → narrow. 3×3: C is the convolution itself. 2×2 transposed: C maps the (big) output side to the input side.
        (int wideC, int wideH, int wideW, int narrowC, int narrowH, int narrowW) = same
            ? (inC, h, w, outC, h, w)
            : (outC, 2 * h, 2 * w, inC, h, w);
        var descriptors = new List<IntPtr>(); // what to free if the construction fails half-way
        try
        {
            _wide = TensorDescriptor(n, wideC, wideH, wideW);
            descriptors.Add(_wide);
            _narrow = TensorDescriptor(n, narrowC, narrowH, narrowW);
            descriptors.Add(_narrow);
            CudnnApi.Check(CudnnApi.cudnnCreateFilterDescriptor(out _filter), "cudnnCreateFilterDescriptor");
            CudnnApi.Check(CudnnApi.cudnnSetFilter4dDescriptor(_filter, CudnnApi.DataFloat, CudnnApi.TensorNchw, narrowC, wideC, same ? 3 : 2, same ? 3 : 2),
                "cudnnSetFilter4dDescriptor");
            int pad = same ? 1 : 0, stride = same ? 1 : 2;
            IntPtr Descriptor()
            {
                CudnnApi.Check(CudnnApi.cudnnCreateConvolutionDescriptor(out var d), "cudnnCreateConvolutionDescriptor");
                descriptors.Add(d);
                CudnnApi.Check(CudnnApi.cudnnSetConvolution2dDescriptor(d, pad, pad, stride, stride, 1, 1, CudnnApi.CrossCorrelation, CudnnApi.DataFloat),
                    "cudnnSetConvolution2dDescriptor");
                CudnnApi.Check(CudnnApi.cudnnSetConvolutionMathType(d, backend.Precision == ComputePrecision.Tf32 ? CudnnApi.TensorOpMath : CudnnApi.FmaMath),
                    "cudnnSetConvolutionMathType");
                return d;
            }
            var handle = backend.Cudnn;
            var results = stackalloc CudnnApi.AlgorithmPerformance[Candidates];
            int count;
            var forward = Descriptor();
            CudnnApi.Check(CudnnApi.cudnnFindConvolutionForwardAlgorithm(handle, _wide, _filter, forward, _narrow, Candidates, out count, results),
                "cudnnFindConvolutionForwardAlgorithm");
            _forward = Choose(forward, results, count, "forward");
            var backwardData = Descriptor();
            CudnnApi.Check(CudnnApi.cudnnFindConvolutionBackwardDataAlgorithm(handle, _filter, _narrow, backwardData, _wide, Candidates, out count, results),
                "cudnnFindConvolutionBackwardDataAlgorithm");
            _backwardData = Choose(backwardData, results, count, "backward data");
            var backwardFilter = Descriptor();
            CudnnApi.Check(CudnnApi.cudnnFindConvolutionBackwardFilterAlgorithm(handle, _wide, _narrow, backwardFilter, _filter, Candidates, out count, results),
                "cudnnFindConvolutionBackwardFilterAlgorithm");
            _backwardFilter = Choose(backwardFilter, results, count, "backward filter");
            backend.ReserveWorkspace(Math.Max(_forward.Workspace, Math.Max(_backwardData.Workspace, _backwardFilter.Workspace)));
        }
        catch
        {
            // Statuses ignored: the first failure is the one to report.
            if (_filter != IntPtr.Zero) CudnnApi.cudnnDestroyFilterDescriptor(_filter);
            foreach (var d in descriptors)
            {
                if (d == _wide || d == _narrow) CudnnApi.cudnnDestroyTensorDescriptor(d);
                else CudnnApi.cudnnDestroyConvolutionDescriptor(d);
            }
            throw;
        }
    }

    /// <inheritdoc />
    public ConvolutionShape Shape { get; }

    /// <summary>The chosen algorithms, e.g. "fwd 1, bwd-data 1, bwd-filter 1 (deterministic)", for benchmarks.</summary>
    public string Algorithms => string.Create(CultureInfo.InvariantCulture,
        $"fwd {_forward.Algorithm}, bwd-data {_backwardData.Algorithm}, bwd-filter {_backwardFilter.Algorithm}");

    /// <inheritdoc />
    public void Forward(Tensor source, Tensor weights, Tensor destination)
    {
        Check(source, weights, destination, "Forward");
        if (Shape.Kind == ConvolutionKind.Same3x3) RunForward(source, weights, destination);
        else RunBackwardData(source, weights, destination);
    }

    /// <inheritdoc />
    public void BackwardData(Tensor diffDestination, Tensor weights, Tensor diffSource)
    {
        Check(diffSource, weights, diffDestination, "BackwardData");
        if (Shape.Kind == ConvolutionKind.Same3x3) RunBackwardData(diffDestination, weights, diffSource);
        else RunForward(diffDestination, weights, diffSource);
    }

    /// <inheritdoc />
    public void BackwardWeights(Tensor source, Tensor diffDestination, Tensor diffWeights)
    {
        Check(source, diffWeights, diffDestination, "BackwardWeights");
        if (Shape.Kind == ConvolutionKind.Same3x3) RunBackwardFilter(source, diffDestination, diffWeights);
        else RunBackwardFilter(diffDestination, source, diffWeights);
    }

    /// <summary>C's forward pass: narrow = C(wide).</summary>
    private void RunForward(Tensor wide, Tensor weights, Tensor narrow)
    {
        float alpha = 1, beta = 0;
        var (workspace, bytes) = _backend.Workspace(_forward.Workspace);
        CudnnApi.Check(CudnnApi.cudnnConvolutionForward(_backend.Cudnn, &alpha, _wide, Pointer(wide), _filter, Pointer(weights), _forward.Descriptor,
            _forward.Algorithm, workspace, bytes, &beta, _narrow, Pointer(narrow)), "cudnnConvolutionForward");
        KeepAlive(wide, weights, narrow);
    }

    /// <summary>C's backward-data pass: wide = Cᵀ(narrow).</summary>
    private void RunBackwardData(Tensor narrow, Tensor weights, Tensor wide)
    {
        float alpha = 1, beta = 0;
        var (workspace, bytes) = _backend.Workspace(_backwardData.Workspace);
        CudnnApi.Check(CudnnApi.cudnnConvolutionBackwardData(_backend.Cudnn, &alpha, _filter, Pointer(weights), _narrow, Pointer(narrow), _backwardData.Descriptor,
            _backwardData.Algorithm, workspace, bytes, &beta, _wide, Pointer(wide)), "cudnnConvolutionBackwardData");
        KeepAlive(wide, weights, narrow);
    }

    /// <summary>C's filter gradient from its input (wide) and output gradient (narrow).</summary>
    private void RunBackwardFilter(Tensor wide, Tensor narrow, Tensor diffWeights)
    {
        float alpha = 1, beta = 0;
        var (workspace, bytes) = _backend.Workspace(_backwardFilter.Workspace);
        CudnnApi.Check(CudnnApi.cudnnConvolutionBackwardFilter(_backend.Cudnn, &alpha, _wide, Pointer(wide), _narrow, Pointer(narrow), _backwardFilter.Descriptor,
            _backwardFilter.Algorithm, workspace, bytes, &beta, _filter, Pointer(diffWeights)), "cudnnConvolutionBackwardFilter");
        KeepAlive(wide, narrow, diffWeights);
    }

    private IntPtr Pointer(Tensor t) => _backend.DevicePointer(t, "convolution operand");

    private static void KeepAlive(Tensor a, Tensor b, Tensor c)
    {
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
    }

    private void Check(Tensor source, Tensor weights, Tensor destination, string pass)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var s = Shape;
        if (source.Length != s.Batch * s.InChannels * s.Height * s.Width || destination.Length != s.Batch * s.OutChannels * s.OutHeight * s.OutWidth
            || !weights.Shape.SequenceEqual(s.WeightShape))
            throw new ArgumentException($"cuDNN convolution {pass}: tensors [{source.ShapeString}], [{weights.ShapeString}], [{destination.ShapeString}] do not fit {s}.");
    }

    private static IntPtr TensorDescriptor(int n, int c, int h, int w)
    {
        CudnnApi.Check(CudnnApi.cudnnCreateTensorDescriptor(out var d), "cudnnCreateTensorDescriptor");
        CudnnApi.Check(CudnnApi.cudnnSetTensor4dDescriptor(d, CudnnApi.TensorNchw, CudnnApi.DataFloat, n, c, h, w), "cudnnSetTensor4dDescriptor");
        return d;
    }

    /// <summary>The fastest successful algorithm, preferring deterministic ones (cudnnFind returns them sorted by time).</summary>
    private static Pass Choose(IntPtr descriptor, CudnnApi.AlgorithmPerformance* results, int count, string pass)
    {
        int best = -1;
        for (int i = 0; i < count && best < 0; i++)
            if (results[i].Status == CudnnApi.StatusSuccess && results[i].Determinism == CudnnApi.Deterministic) best = i;
        for (int i = 0; i < count && best < 0; i++)
            if (results[i].Status == CudnnApi.StatusSuccess) best = i;
        if (best < 0) throw new CudaException($"cudnnFind ({pass})", count > 0 ? results[0].Status : -1, "no convolution algorithm succeeded for this shape");
        // Run with the math type the search measured the algorithm with.
        CudnnApi.Check(CudnnApi.cudnnSetConvolutionMathType(descriptor, results[best].MathType), "cudnnSetConvolutionMathType");
        return new Pass(descriptor, results[best].Algorithm, results[best].Memory);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // Owned by the backend, which frees every primitive it built when it is disposed.
    }

    /// <summary>Frees the descriptors (called by the backend).</summary>
    internal void Release()
    {
        if (_disposed) return;
        _disposed = true;
        foreach (var p in new[] { _forward, _backwardData, _backwardFilter }) CudnnApi.cudnnDestroyConvolutionDescriptor(p.Descriptor);
        CudnnApi.cudnnDestroyFilterDescriptor(_filter);
        CudnnApi.cudnnDestroyTensorDescriptor(_wide);
        CudnnApi.cudnnDestroyTensorDescriptor(_narrow);
    }

    private readonly record struct Pass(IntPtr Descriptor, int Algorithm, nuint Workspace);
}
