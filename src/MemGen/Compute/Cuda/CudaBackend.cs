using System.Globalization;
using MemGen.Compute.Cpu;
using MemGen.Tensors;

namespace MemGen.Compute.Cuda;

/// <summary>
/// The CUDA engine: tensors in device memory (<see cref="CudaStorage"/>), convolutions by cuDNN 9
/// (<see cref="CudnnConvolution"/>, algorithms found once per shape, one shared workspace), GEMM by cuBLAS, and the
/// rest (batch norm, ReLU, pooling, concatenation, loss, Adam, reductions, the sampler's update) as MemGen's own CUDA C
/// kernels compiled by NVRTC (<see cref="CudaKernels"/>). Everything runs in order on the legacy default stream, so
/// a host copy waits for the work before it. Activations are plain NCHW. Dense linear algebra on host matrices (the
/// analyses) runs on the host's OpenBLAS.
/// </summary>
public sealed unsafe class CudaBackend : ComputeBackend
{
    [ThreadStatic] private static CudaBackend? t_current;
    private readonly IntPtr _context, _cudnn, _cublas;
    private readonly Dictionary<ConvolutionShape, CudnnConvolution> _convolutions = [];
    private CudaStorage? _workspace;
    private Tensor? _partials, _stepArguments;
    private bool _disposed;

    private CudaBackend(int index, ComputePrecision precision)
    {
        Index = index;
        Precision = precision;
        CudaApi.Check(CudaApi.cudaSetDevice(index), "cudaSetDevice");
        CudaApi.Check(CudaApi.cudaFree(IntPtr.Zero), "cudaFree(0) (context creation)");
        CudaApi.CheckDriver(CudaApi.cuCtxGetCurrent(out _context), "cuCtxGetCurrent");
        t_current = this;
        CudaApi.Check(CudaApi.cudaDeviceGetAttribute(out int major, CudaApi.AttributeComputeCapabilityMajor, index), "cudaDeviceGetAttribute(major)");
        CudaApi.Check(CudaApi.cudaDeviceGetAttribute(out int minor, CudaApi.AttributeComputeCapabilityMinor, index), "cudaDeviceGetAttribute(minor)");
        CudaApi.Check(CudaApi.cudaRuntimeGetVersion(out int runtime), "cudaRuntimeGetVersion");
        CudnnApi.Check(CudnnApi.cudnnCreate(out _cudnn), "cudnnCreate");
        try
        {
            CublasApi.Check(CublasApi.cublasCreate_v2(out _cublas), "cublasCreate");
            CublasApi.Check(CublasApi.cublasSetMathMode(_cublas, precision == ComputePrecision.Tf32 ? CublasApi.Tf32TensorOpMath : CublasApi.PedanticMath),
                "cublasSetMathMode");
            Kernels = new CudaKernels(major, minor);
        }
        catch
        {
            if (_cublas != IntPtr.Zero) CublasApi.cublasDestroy_v2(_cublas);
            CudnnApi.cudnnDestroy(_cudnn);
            throw;
        }
        ulong cudnn = CudnnApi.cudnnGetVersion();
        Description = string.Create(CultureInfo.InvariantCulture,
            $"{CudaApi.DeviceName(index)} (sm_{major}{minor}), CUDA {runtime / 1000}.{runtime % 1000 / 10}, cuDNN {cudnn / 10000}.{cudnn % 10000 / 100}.{cudnn % 100}");
    }

    /// <summary>
    /// Opens CUDA device <paramref name="index"/>: loads the libraries, creates the context, the cuDNN and cuBLAS handles,
    /// and compiles (or reads from the cache) the kernels.
    /// </summary>
    /// <exception cref="ComputeUnavailableException">A library, the driver or the device is missing (one line saying which).</exception>
    public static CudaBackend Open(int index, ComputePrecision precision)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        CudaLibraries.Load();
        int status = CudaApi.cudaGetDeviceCount(out int count);
        if (status != CudaApi.Success)
        {
            try
            {
                CudaApi.Check(status, "cudaGetDeviceCount");
            }
            catch (CudaException e)
            {
                throw new ComputeUnavailableException($"no usable CUDA device: {e.Message.TrimEnd('.')}", e);
            }
        }
        if (count == 0) throw new ComputeUnavailableException("no CUDA device: the driver reports none.");
        if (index >= count) throw new ComputeUnavailableException($"no CUDA device {index}: this machine has {count} (cuda:0 to cuda:{count - 1}).");
        try
        {
            CudaApi.CheckDriver(CudaApi.cuInit(0), "cuInit");
            return new CudaBackend(index, precision);
        }
        catch (CudaException e)
        {
            throw new ComputeUnavailableException($"cuda:{index} could not be initialized: {e.Message.TrimEnd('.')}", e);
        }
    }

    /// <summary>Probes for a usable device without keeping it (tests decide with it whether CUDA cases run).</summary>
    public static string? Unavailable()
    {
        try
        {
            using var backend = Open(0, ComputePrecision.Float32);
            return null;
        }
        catch (ComputeUnavailableException e)
        {
            return e.Message;
        }
    }

    /// <summary>The device ordinal.</summary>
    public int Index { get; }

    /// <inheritdoc />
    public override string Name => string.Create(CultureInfo.InvariantCulture, $"cuda:{Index}");

    /// <inheritdoc />
    public override string Description { get; }

    /// <inheritdoc />
    public override ComputePrecision Precision { get; }

    /// <inheritdoc />
    public override LinearAlgebra LinearAlgebra => Host.LinearAlgebra;

    internal IntPtr Cudnn => _cudnn;

    internal CudaKernels Kernels { get; }

    /// <summary>Makes this backend's device and context current on the calling thread (cheap after the first call).</summary>
    internal void MakeCurrent()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (ReferenceEquals(t_current, this)) return;
        CudaApi.Check(CudaApi.cudaSetDevice(Index), "cudaSetDevice");
        CudaApi.CheckDriver(CudaApi.cuCtxSetCurrent(_context), "cuCtxSetCurrent");
        t_current = this;
    }

    /// <summary>The device address of <paramref name="tensor"/>, which must live on this device.</summary>
    internal IntPtr DevicePointer(Tensor tensor, string what)
    {
        RequireHeld(tensor, what);
        MakeCurrent();
        return ((CudaStorage)tensor.Storage).Pointer;
    }

    /// <summary>Grows the shared convolution workspace to at least <paramref name="bytes"/> (allocated once per growth, kept).</summary>
    internal void ReserveWorkspace(nuint bytes)
    {
        long floats = ((long)bytes + sizeof(float) - 1) / sizeof(float);
        if (floats > int.MaxValue) throw new CudaException("cudnn workspace", -1, $"a convolution wants a workspace of {bytes} bytes, more than MemGen allocates in one piece");
        if (_workspace is null || _workspace.Length < floats) _workspace = new CudaStorage(this, (int)Math.Max(floats, 1));
    }

    /// <summary>The workspace pointer and its size for a pass that needs <paramref name="bytes"/>.</summary>
    internal (IntPtr Pointer, nuint Bytes) Workspace(nuint bytes)
    {
        if (bytes == 0) return (IntPtr.Zero, 0);
        ReserveWorkspace(bytes);
        return (_workspace!.Pointer, (nuint)_workspace.Length * sizeof(float));
    }

    /// <inheritdoc />
    public override bool Holds(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor.Storage is CudaStorage s && ReferenceEquals(s.Backend, this);
    }

    /// <inheritdoc />
    protected override Tensor Allocate(int[] shape, TensorLayout layout)
    {
        if (layout != TensorLayout.Nchw) throw new ArgumentException($"{Name}: only plain NCHW tensors live on the GPU, not {layout}.");
        long length = 1;
        foreach (var s in shape) length *= Math.Max(s, 1);
        if (length > Array.MaxLength) throw new ArgumentException($"Tensor of shape [{string.Join(",", shape)}] is too large.");
        return new Tensor(new CudaStorage(this, (int)length), shape, layout);
    }

    /// <inheritdoc />
    public override TensorLayout ActivationLayout(int channels) => TensorLayout.Nchw;

    /// <inheritdoc />
    public override IConvolution Convolution(ConvolutionShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        MakeCurrent();
        if (!_convolutions.TryGetValue(shape, out var conv))
        {
            conv = new CudnnConvolution(this, shape);
            _convolutions.Add(shape, conv);
        }
        return conv;
    }

    /// <inheritdoc />
    public override BatchNormKernels BatchNorm(int channels, bool fusedRelu)
    {
        MakeCurrent();
        return new CudaBatchNorm(this, channels, fusedRelu);
    }

    /// <inheritdoc />
    public override void Relu(Tensor x, Tensor y) => Elementwise("relu", x, y);

    /// <inheritdoc />
    public override void ReluBackward(Tensor dy, Tensor y, Tensor dx) => Elementwise("relu_backward", dy, y, dx);

    /// <inheritdoc />
    public override void Mask(Tensor x, Tensor mask, Tensor y)
    {
        var (px, pm, py) = (DevicePointer(x, "x"), DevicePointer(mask, "mask"), DevicePointer(y, "y"));
        long maskLength = mask.Length, total = x.Length;
        void** a = stackalloc void*[5] { &px, &pm, &maskLength, &py, &total };
        Kernels.Launch("multiply_mask", CudaKernels.Blocks(total), 1, a);
    }

    /// <inheritdoc />
    public override void PositiveMask(Tensor x, Tensor mask) => Elementwise("positive_mask", x, mask);

    /// <inheritdoc />
    public override void AveragePool(Tensor x, Tensor y) => Pool("average_pool", x, y, x.N * (long)x.C, x.H, x.W, (long)y.Length);

    /// <inheritdoc />
    public override void AveragePoolBackward(Tensor dy, Tensor dx) => Pool("average_pool_backward", dy, dx, dx.N * (long)dx.C, dx.H, dx.W, (long)dx.Length);

    private void Pool(string kernel, Tensor from, Tensor to, long planes, int h, int w, long outputs)
    {
        var (pf, pt) = (DevicePointer(from, "input"), DevicePointer(to, "output"));
        void** a = stackalloc void*[5] { &pf, &pt, &planes, &h, &w };
        Kernels.Launch(kernel, CudaKernels.Blocks(outputs), 1, a);
    }

    /// <inheritdoc />
    public override void Concat(Tensor a, Tensor b, Tensor y) => Channels("concat", y, a, b);

    /// <inheritdoc />
    public override void Split(Tensor y, Tensor a, Tensor b) => Channels("split", y, a, b);

    private void Channels(string kernel, Tensor y, Tensor a, Tensor b)
    {
        var (pa, pb, py) = (DevicePointer(a, "first"), DevicePointer(b, "second"), DevicePointer(y, "concatenation"));
        long items = a.N, itemA = a.ItemLength, itemB = b.ItemLength;
        void** args = stackalloc void*[6];
        if (kernel == "concat") { args[0] = &pa; args[1] = &pb; args[2] = &py; }
        else { args[0] = &py; args[1] = &pa; args[2] = &pb; }
        args[3] = &items;
        args[4] = &itemA;
        args[5] = &itemB;
        Kernels.Launch(kernel, CudaKernels.Blocks(items * (itemA + itemB)), 1, args);
    }

    /// <inheritdoc />
    public override void Add(Tensor a, Tensor b, Tensor y) => Elementwise("add", a, b, y);

    /// <inheritdoc />
    public override void Subtract(Tensor a, Tensor b, Tensor y) => Elementwise("subtract", a, b, y);

    /// <inheritdoc />
    public override void Copy(Tensor source, int sourceOffset, Tensor destination, int destinationOffset, int count)
    {
        if (count <= 0) return;
        if (sourceOffset < 0 || destinationOffset < 0 || (long)sourceOffset + count > source.Length || (long)destinationOffset + count > destination.Length)
            throw new ArgumentOutOfRangeException(nameof(count), $"{Name}: copy of {count} elements outside the tensors.");
        var (ps, pd) = (DevicePointer(source, "source"), DevicePointer(destination, "destination"));
        CudaApi.Check(CudaApi.cudaMemcpy(pd + destinationOffset * sizeof(float), ps + sourceOffset * sizeof(float), (nuint)count * sizeof(float), CudaApi.MemcpyDeviceToDevice),
            "cudaMemcpy(device to device)");
        GC.KeepAlive(source);
        GC.KeepAlive(destination);
    }

    /// <inheritdoc />
    public override void Clear(Tensor tensor, int offset, int count)
    {
        if (count <= 0) return;
        if (offset < 0 || (long)offset + count > tensor.Length) throw new ArgumentOutOfRangeException(nameof(count), $"{Name}: clear outside the tensor.");
        var p = DevicePointer(tensor, "tensor");
        CudaApi.Check(CudaApi.cudaMemset(p + offset * sizeof(float), 0, (nuint)count * sizeof(float)), "cudaMemset");
        GC.KeepAlive(tensor);
    }

    /// <inheritdoc />
    public override double SquaredError(Tensor prediction, Tensor target, float gradientScale, Tensor gradient) =>
        SquaredError(prediction, target, null, gradientScale, gradient);

    /// <inheritdoc />
    public override double WeightedSquaredError(Tensor prediction, Tensor target, Tensor weights, float gradientScale, Tensor gradient)
    {
        if (weights.Length != prediction.Shape[0]) throw new ArgumentException($"{Name}: {weights.Length} loss weights for {prediction.Shape[0]} items.");
        return SquaredError(prediction, target, weights, gradientScale, gradient);
    }

    private double SquaredError(Tensor prediction, Tensor target, Tensor? weights, float gradientScale, Tensor gradient)
    {
        int items = prediction.Shape[0], d = prediction.ItemLength;
        var partials = Partials(items);
        var (pp, pt, pg, pout) = (DevicePointer(prediction, "prediction"), DevicePointer(target, "target"), DevicePointer(gradient, "gradient"), DevicePointer(partials, "partials"));
        var pw = weights is null ? IntPtr.Zero : DevicePointer(weights, "weights");
        void** a = stackalloc void*[7] { &pp, &pt, &pw, &gradientScale, &pg, &d, &pout };
        Kernels.Launch("squared_error", (uint)items, 1, a);
        var perItem = DownloadDoubles(partials, items);
        double total = 0;
        for (int i = 0; i < items; i++) total += perItem[i];
        GC.KeepAlive(weights);
        return total;
    }

    /// <inheritdoc />
    public override void AddChannelBias(Tensor x, Tensor bias, Tensor y)
    {
        var (px, pb, py) = (DevicePointer(x, "x"), DevicePointer(bias, "bias"), DevicePointer(y, "y"));
        long total = x.Length;
        int channels = x.Shape[1], hw = PixelsPerChannel(x);
        void** a = stackalloc void*[6] { &px, &pb, &py, &total, &channels, &hw };
        Kernels.Launch("channel_bias", CudaKernels.Blocks(total), 1, a);
    }

    /// <inheritdoc />
    public override void ChannelSums(Tensor x, Tensor sums)
    {
        int n = x.Shape[0], channels = x.Shape[1], hw = PixelsPerChannel(x);
        long m = (long)n * hw;
        int parts = (int)Math.Clamp((m + 2047) / 2048, 1, 1024);
        var partials = Partials(channels * parts);
        var (px, pp, ps) = (DevicePointer(x, "x"), DevicePointer(partials, "partials"), DevicePointer(sums, "sums"));
        IntPtr none = IntPtr.Zero;
        void** a = stackalloc void*[7] { &px, &n, &channels, &hw, &parts, &pp, &none };
        Kernels.Launch("channel_moments", (uint)channels, (uint)parts, a);
        void** b = stackalloc void*[4] { &pp, &channels, &parts, &ps };
        Kernels.Launch("channel_total", (uint)((channels + CudaKernels.Threads - 1) / CudaKernels.Threads), 1, b);
    }

    /// <inheritdoc />
    public override void Silu(Tensor x, Tensor y) => Elementwise("silu", x, y);

    /// <inheritdoc />
    public override void SiluBackward(Tensor dy, Tensor x, Tensor dx) => SiluGradient(DevicePointer(dy, "dy"), x, dx);

    /// <inheritdoc />
    public override void SiluDerivative(Tensor x, Tensor derivative) => SiluGradient(IntPtr.Zero, x, derivative);

    private void SiluGradient(IntPtr pdy, Tensor x, Tensor result)
    {
        var (px, pr) = (DevicePointer(x, "x"), DevicePointer(result, "result"));
        long total = x.Length;
        void** a = stackalloc void*[4] { &pdy, &px, &pr, &total };
        Kernels.Launch("silu_gradient", CudaKernels.Blocks(total), 1, a);
    }

    /// <inheritdoc />
    public override void CombineItems(Tensor a, Tensor alpha, Tensor? b, Tensor? beta, Tensor y)
    {
        if ((b is null) != (beta is null)) throw new ArgumentException($"{Name}: CombineItems needs both b and beta, or neither.");
        var (pa, palpha, py) = (DevicePointer(a, "a"), DevicePointer(alpha, "alpha"), DevicePointer(y, "y"));
        var (pb, pbeta) = b is null ? (IntPtr.Zero, IntPtr.Zero) : (DevicePointer(b, "b"), DevicePointer(beta!, "beta"));
        long total = a.Length, item = a.ItemLength;
        void** args = stackalloc void*[7] { &pa, &palpha, &pb, &pbeta, &py, &total, &item };
        Kernels.Launch("combine_items", CudaKernels.Blocks(total), 1, args);
        GC.KeepAlive(b);
        GC.KeepAlive(beta);
    }

    /// <inheritdoc />
    public override ConditionedNormKernels ConditionedNorm(int channels)
    {
        MakeCurrent();
        return new CudaConditionedNorm(this, channels);
    }

    /// <summary>Values per (item, channel) of a [N, C] (1) or [N, C, H, W] (H·W) tensor.</summary>
    private static int PixelsPerChannel(Tensor t) => t.Rank switch
    {
        2 => 1,
        4 => t.H * t.W,
        _ => throw new ArgumentException($"Expected a [N, C] or [N, C, H, W] tensor, got [{t.ShapeString}]."),
    };

    /// <inheritdoc />
    public override void AdamUpdate(Tensor weights, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamCoefficients c)
    {
        var (pw, pg, pm, pv) = (DevicePointer(weights, "weights"), DevicePointer(gradient, "gradient"), DevicePointer(firstMoment, "first moment"), DevicePointer(secondMoment, "second moment"));
        long total = weights.Length;
        float b1 = c.Beta1, b2 = c.Beta2, step = c.StepSize, rc2 = c.RootCorrection2, eps = c.Epsilon;
        void** a = stackalloc void*[10] { &pw, &pg, &pm, &pv, &total, &b1, &b2, &step, &rc2, &eps };
        Kernels.Launch("adam", CudaKernels.Blocks(total), 1, a);
    }

    /// <inheritdoc />
    public override double SumOfSquares(IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        var blocks = tensors.Select(t => (int)CudaKernels.Blocks(t.Length)).ToArray();
        int all = blocks.Sum();
        var partials = Partials(all);
        var pout = DevicePointer(partials, "partials");
        int offset = 0;
        IntPtr px, slot;
        long total;
        void** a = stackalloc void*[3] { &px, &total, &slot };
        for (int i = 0; i < tensors.Count; i++)
        {
            px = DevicePointer(tensors[i], "tensor");
            total = tensors[i].Length;
            slot = pout + offset * sizeof(double);
            Kernels.Launch("sum_of_squares", (uint)blocks[i], 1, a);
            offset += blocks[i];
        }
        GC.KeepAlive(tensors);
        var values = DownloadDoubles(partials, all);
        double sum = 0;
        offset = 0;
        foreach (var b in blocks)
        {
            double tensor = 0;
            for (int k = 0; k < b; k++) tensor += values[offset + k];
            sum += tensor;
            offset += b;
        }
        return sum;
    }

    /// <inheritdoc />
    public override void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        if ((long)m * k > a.Length || (long)k * n > b.Length || (long)m * n > c.Length)
            throw new ArgumentException($"GEMM: buffers too small for m={m}, n={n}, k={k}.");
        var (pa, pb, pc) = (DevicePointer(a, "A"), DevicePointer(b, "B"), DevicePointer(c, "C"));
        // Row-major C = op(A)·op(B) is column-major Cᵀ = op(B)ᵀ·op(A)ᵀ: swap the operands, keep the flags.
        int lda = transposeA ? m : k, ldb = transposeB ? k : n;
        CublasApi.Check(CublasApi.cublasSgemm_v2(_cublas, transposeB ? CublasApi.OperationTranspose : CublasApi.OperationNone,
            transposeA ? CublasApi.OperationTranspose : CublasApi.OperationNone, n, m, k, &alpha, pb, ldb, pa, lda, &beta, pc, n), "cublasSgemm");
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
    }

    /// <inheritdoc />
    public override void RowNorms(Tensor x, Span<double> norms)
    {
        if (norms.IsEmpty) return;
        int d = x.ItemLength;
        var partials = Partials(norms.Length);
        var (px, pout) = (DevicePointer(x, "x"), DevicePointer(partials, "partials"));
        void** a = stackalloc void*[3] { &px, &d, &pout };
        Kernels.Launch("row_norms", (uint)norms.Length, 1, a);
        DownloadDoubles(partials, norms.Length).AsSpan().CopyTo(norms);
    }

    /// <inheritdoc />
    public override void Algorithm1Step(Tensor y, Tensor direction, Tensor noise, ReadOnlySpan<int> rows, ReadOnlySpan<float> stepSizes, ReadOnlySpan<float> noiseScales)
    {
        int count = rows.Length;
        if (count == 0) return;
        if (stepSizes.Length != count || noiseScales.Length != count) throw new ArgumentException("Algorithm1Step: one step size and noise scale per row.");
        // Row indices, step sizes and noise scales travel in one small upload.
        var packed = new float[3 * count];
        for (int j = 0; j < count; j++)
        {
            packed[j] = BitConverter.Int32BitsToSingle(rows[j]);
            packed[count + j] = stepSizes[j];
            packed[2 * count + j] = noiseScales[j];
        }
        if (_stepArguments is null || _stepArguments.Length < packed.Length) _stepArguments = Zeros(Math.Max(packed.Length, 3 * 64));
        _stepArguments.CopyFrom(packed, 0);
        var (py, pr, pz, pi) = (DevicePointer(y, "y"), DevicePointer(direction, "direction"), DevicePointer(noise, "noise"), DevicePointer(_stepArguments, "indices"));
        IntPtr ph = pi + count * sizeof(float), pg = pi + 2 * count * sizeof(float);
        int d = y.ItemLength;
        void** a = stackalloc void*[7] { &py, &pr, &pz, &pi, &ph, &pg, &d };
        Kernels.Launch("algorithm1_step", (uint)count, 1, a);
    }

    /// <inheritdoc />
    public override void Synchronize()
    {
        MakeCurrent();
        CudaApi.Check(CudaApi.cudaDeviceSynchronize(), "cudaDeviceSynchronize");
    }

    private void Elementwise(string kernel, Tensor x, Tensor y)
    {
        var (px, py) = (DevicePointer(x, "input"), DevicePointer(y, "output"));
        long total = x.Length;
        void** a = stackalloc void*[3] { &px, &py, &total };
        Kernels.Launch(kernel, CudaKernels.Blocks(total), 1, a);
    }

    private void Elementwise(string kernel, Tensor x, Tensor z, Tensor y)
    {
        var (px, pz, py) = (DevicePointer(x, "first"), DevicePointer(z, "second"), DevicePointer(y, "output"));
        long total = x.Length;
        void** a = stackalloc void*[4] { &px, &pz, &py, &total };
        Kernels.Launch(kernel, CudaKernels.Blocks(total), 1, a);
    }

    /// <summary>A device buffer of at least <paramref name="doubles"/> float64 slots for partial sums.</summary>
    private Tensor Partials(int doubles)
    {
        if (_partials is null || _partials.Length < 2 * doubles) _partials = Zeros(2 * Math.Max(doubles, 1024));
        return _partials;
    }

    private static double[] DownloadDoubles(Tensor partials, int count)
    {
        var floats = new float[2 * count];
        partials.CopyTo(0, floats);
        var values = new double[count];
        Buffer.BlockCopy(floats, 0, values, 0, count * sizeof(double));
        return values;
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (_disposed) return;
        if (disposing)
        {
            MakeCurrent();
            foreach (var conv in _convolutions.Values) conv.Release();
            _convolutions.Clear();
            Kernels.Dispose();
        }
        CublasApi.cublasDestroy_v2(_cublas);
        CudnnApi.cudnnDestroy(_cudnn);
        _disposed = true;
        if (ReferenceEquals(t_current, this)) t_current = null;
    }
}
