using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Tensors;

namespace MemGen.Native;

/// <summary>
/// oneDNN convolution of one fixed <see cref="ConvolutionShape"/>: forward, backward-data and
/// backward-weights primitives built once, with every layout chosen by oneDNN (format <c>any</c>).
/// Activations that already have the layout a primitive wants (nChw16c for channel counts that are
/// multiples of 16) are passed to it in place; anything else (plain weights, 1-channel images) is
/// reordered through buffers allocated once, when the primitive is built. The scratchpad is allocated
/// once per primitive as well, so a call allocates nothing.
/// <see cref="ConvolutionKind.Transposed2x2"/> runs on oneDNN's deconvolution primitives, whose
/// weights (O,I,2,2) stored as <c>iohw</c> are exactly PyTorch's ConvTranspose2d IOHW order.
/// All oneDNN calls run on the <see cref="OneDnnThread"/>. Instances are not thread-safe for concurrent use.
/// </summary>
internal sealed unsafe class OneDnnConvolution : IConvolution
{
    private readonly Pass _forward;
    private readonly Pass _backwardData;
    private readonly Pass _backwardWeights;
    private readonly bool _ownedByFactory;
    private bool _disposed;

    /// <summary>Builds the three primitives for <paramref name="shape"/>.</summary>
    /// <param name="shape">The problem.</param>
    /// <param name="winograd">
    /// Ask for oneDNN's Winograd algorithm where <see cref="WinogradApplies"/>. Passes oneDNN has no
    /// Winograd kernel for (CPUs without AVX-512) fall back to direct; see <see cref="ForwardAlgorithm"/> etc.
    /// </param>
    public OneDnnConvolution(ConvolutionShape shape, bool winograd = false) : this(shape, winograd, ownedByFactory: false) { }

    internal OneDnnConvolution(ConvolutionShape shape, bool winograd, bool ownedByFactory)
    {
        ArgumentNullException.ThrowIfNull(shape);
        Shape = shape;
        Description = Describe(shape);
        ValidateShape(shape, Description);
        _ownedByFactory = ownedByFactory;
        (_forward, _backwardData, _backwardWeights) = OneDnnThread.Instance.Invoke(() => Build(shape, winograd && WinogradApplies(shape)));
    }

    /// <summary>
    /// Whether a Winograd request is honoured for <paramref name="shape"/>: 3×3 layers whose channel counts
    /// are multiples of 16. oneDNN also runs Winograd on padded channels (1-channel images), but measured
    /// there it is up to 10× slower than direct (1→64 forward, batch 64, 40×40: 4.8 ms vs 0.48 ms).
    /// </summary>
    public static bool WinogradApplies(ConvolutionShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return shape.Kind == ConvolutionKind.Same3x3
            && shape.InChannels % BlockedLayout.BlockSize == 0 && shape.OutChannels % BlockedLayout.BlockSize == 0;
    }

    /// <inheritdoc />
    public ConvolutionShape Shape { get; }

    /// <summary>Human-readable problem, e.g. "64→64 3×3, batch 64, 40×40, Nchw16c→Nchw16c".</summary>
    public string Description { get; }

    /// <summary>Algorithm of the forward primitive: "direct" or "winograd".</summary>
    public string ForwardAlgorithm => _forward.Algorithm;

    /// <summary>Algorithm of the backward-data primitive.</summary>
    public string BackwardDataAlgorithm => _backwardData.Algorithm;

    /// <summary>Algorithm of the backward-weights primitive.</summary>
    public string BackwardWeightsAlgorithm => _backwardWeights.Algorithm;

    /// <summary>oneDNN's implementation of the forward primitive, e.g. "jit:avx512_core".</summary>
    public string ForwardImplementation => _forward.Implementation;

    /// <summary>oneDNN's implementation of the backward-data primitive.</summary>
    public string BackwardDataImplementation => _backwardData.Implementation;

    /// <summary>oneDNN's implementation of the backward-weights primitive.</summary>
    public string BackwardWeightsImplementation => _backwardWeights.Implementation;

    /// <summary>Number of activation/weight reorders a forward call performs (0 for blocked activations apart from the weights).</summary>
    public int ForwardReorders => _forward.ReorderCount;

    /// <inheritdoc />
    public void Forward(Tensor source, Tensor weights, Tensor destination)
    {
        var s = Shape;
        RequireActivation(source, "source", s.InChannels, s.Height, s.Width, s.SourceLayout, _forward.Name);
        RequireWeights(weights, "weights", _forward.Name);
        RequireActivation(destination, "destination", s.OutChannels, s.OutHeight, s.OutWidth, s.DestinationLayout, _forward.Name);
        Run(_forward, source, weights, destination);
    }

    /// <inheritdoc />
    public void BackwardData(Tensor diffDestination, Tensor weights, Tensor diffSource)
    {
        var s = Shape;
        RequireActivation(diffDestination, "diffDestination", s.OutChannels, s.OutHeight, s.OutWidth, s.DestinationLayout, _backwardData.Name);
        RequireWeights(weights, "weights", _backwardData.Name);
        RequireActivation(diffSource, "diffSource", s.InChannels, s.Height, s.Width, s.SourceLayout, _backwardData.Name);
        Run(_backwardData, diffDestination, weights, diffSource);
    }

    /// <inheritdoc />
    public void BackwardWeights(Tensor source, Tensor diffDestination, Tensor diffWeights)
    {
        var s = Shape;
        RequireActivation(source, "source", s.InChannels, s.Height, s.Width, s.SourceLayout, _backwardWeights.Name);
        RequireActivation(diffDestination, "diffDestination", s.OutChannels, s.OutHeight, s.OutWidth, s.DestinationLayout, _backwardWeights.Name);
        RequireWeights(diffWeights, "diffWeights", _backwardWeights.Name);
        Run(_backwardWeights, source, diffDestination, diffWeights);
    }

    /// <summary>Frees the primitives and buffers. A no-op for instances owned (and later freed) by a <see cref="OneDnnConvolutionFactory"/>.</summary>
    public void Dispose()
    {
        if (!_ownedByFactory) Release();
    }

    internal void Release()
    {
        if (_disposed) return;
        _disposed = true;
        OneDnnThread.Instance.Invoke(() =>
        {
            _forward.Dispose();
            _backwardData.Dispose();
            _backwardWeights.Dispose();
        });
    }

    private void Run(Pass pass, Tensor a, Tensor b, Tensor c)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        // The tensors' arrays are pinned, so their addresses stay valid across the hand-over.
        IntPtr pa = (IntPtr)a.Pointer, pb = (IntPtr)b.Pointer, pc = (IntPtr)c.Pointer;
        OneDnnThread.Instance.Invoke(() => pass.Execute(pa, pb, pc));
        GC.KeepAlive(a);
        GC.KeepAlive(b);
        GC.KeepAlive(c);
    }

    private void RequireActivation(Tensor t, string role, int channels, int height, int width, TensorLayout layout, string primitive)
    {
        ArgumentNullException.ThrowIfNull(t, role);
        bool ok = t.Rank == 4 && t.N == Shape.Batch && t.C == channels && t.H == height && t.W == width && t.Layout == layout;
        if (!ok)
            throw new ArgumentException(
                $"oneDNN {primitive}: {role} must be [{Shape.Batch},{channels},{height},{width}] {layout}, got [{t.ShapeString}] {t.Layout}.", role);
    }

    private void RequireWeights(Tensor t, string role, string primitive)
    {
        ArgumentNullException.ThrowIfNull(t, role);
        var expected = Shape.WeightShape;
        if (!t.Shape.SequenceEqual(expected) || t.Layout != TensorLayout.Nchw)
            throw new ArgumentException(
                $"oneDNN {primitive}: {role} must be plain [{string.Join(",", expected)}], got [{t.ShapeString}] {t.Layout}.", role);
    }

    private static string Describe(ConvolutionShape s)
    {
        string kernel = s.Kind == ConvolutionKind.Same3x3 ? "3×3" : "2×2 stride 2";
        return $"{s.InChannels}→{s.OutChannels} {kernel}, batch {s.Batch}, {s.Height}×{s.Width}, {s.SourceLayout}→{s.DestinationLayout}";
    }

    private static void ValidateShape(ConvolutionShape s, string description)
    {
        if (s.Batch <= 0 || s.InChannels <= 0 || s.OutChannels <= 0 || s.Height <= 0 || s.Width <= 0)
            throw new ArgumentException($"oneDNN convolution ({description}): every dimension must be positive.");
        if (s.SourceLayout == TensorLayout.Nchw16c && s.InChannels % BlockedLayout.BlockSize != 0)
            throw new ArgumentException($"oneDNN convolution ({description}): blocked source needs input channels divisible by {BlockedLayout.BlockSize}.");
        if (s.DestinationLayout == TensorLayout.Nchw16c && s.OutChannels % BlockedLayout.BlockSize != 0)
            throw new ArgumentException($"oneDNN convolution ({description}): blocked destination needs output channels divisible by {BlockedLayout.BlockSize}.");
    }

    private static int Tag(TensorLayout layout) => layout == TensorLayout.Nchw ? OneDnnApi.FormatNchw : OneDnnApi.FormatNChw16c;

    /// <summary>Runs on the oneDNN thread.</summary>
    private (Pass, Pass, Pass) Build(ConvolutionShape s, bool winograd)
    {
        // Start the runtime first: it puts the OpenMP settings into the environment, which libgomp reads
        // once, when the first oneDNN call (the descriptor calls below) loads libdnnl.
        _ = OneDnn.Engine;
        bool transposed = s.Kind == ConvolutionKind.Transposed2x2;
        string kindName = transposed ? "transposed convolution (deconvolution)" : "convolution";
        string fwdName = $"{kindName} forward ({Description})";
        string bwdDataName = $"{kindName} backward-data ({Description})";
        string bwdWeightsName = $"{kindName} backward-weights ({Description})";
        int k = transposed ? 2 : 3;
        long[] srcDims = [s.Batch, s.InChannels, s.Height, s.Width];
        long[] dstDims = [s.Batch, s.OutChannels, s.OutHeight, s.OutWidth];
        long[] weightDims = [s.OutChannels, s.InChannels, k, k];
        long* strides = stackalloc long[OneDnnApi.MaxDims];
        long* padding = stackalloc long[OneDnnApi.MaxDims];
        strides[0] = strides[1] = transposed ? 2 : 1;
        padding[0] = padding[1] = transposed ? 0 : 1;

        using var srcUser = new NativeBlock(OneDnnApi.MemoryDescBytes);
        using var dstUser = new NativeBlock(OneDnnApi.MemoryDescBytes);
        using var weightsUser = new NativeBlock(OneDnnApi.MemoryDescBytes);
        using var srcAny = new NativeBlock(OneDnnApi.MemoryDescBytes);
        using var dstAny = new NativeBlock(OneDnnApi.MemoryDescBytes);
        using var weightsAny = new NativeBlock(OneDnnApi.MemoryDescBytes);
        using var opDesc = new NativeBlock(OneDnnApi.OpDescBytes);
        OneDnn.InitMemoryDesc(srcUser, srcDims, Tag(s.SourceLayout), fwdName);
        OneDnn.InitMemoryDesc(dstUser, dstDims, Tag(s.DestinationLayout), fwdName);
        OneDnn.InitMemoryDesc(weightsUser, weightDims, transposed ? OneDnnApi.FormatIohw : OneDnnApi.FormatOihw, fwdName);
        OneDnn.InitMemoryDesc(srcAny, srcDims, OneDnnApi.FormatAny, fwdName);
        OneDnn.InitMemoryDesc(dstAny, dstDims, OneDnnApi.FormatAny, fwdName);
        OneDnn.InitMemoryDesc(weightsAny, weightDims, OneDnnApi.FormatAny, fwdName);

        int status = OneDnnApi.dnnl_primitive_attr_create(out var attrPtr);
        using var attr = OneDnnHandle.Take(OneDnnHandle.Kind.Attribute, attrPtr, status, fwdName, "dnnl_primitive_attr_create");
        // User-managed scratchpad: each primitive gets its own buffer, allocated once below.
        OneDnn.Check(OneDnnApi.dnnl_primitive_attr_set_scratchpad_mode(attr.Pointer, OneDnnApi.ScratchpadModeUser), fwdName, "dnnl_primitive_attr_set_scratchpad_mode");

        int[] algorithms = transposed ? [OneDnnApi.DeconvolutionDirect]
            : winograd ? [OneDnnApi.ConvolutionWinograd, OneDnnApi.ConvolutionDirect] : [OneDnnApi.ConvolutionDirect];

        var (fwdPd, fwdAlg) = CreateDescriptor(fwdName, algorithms, attr, IntPtr.Zero, alg => transposed
            ? OneDnnApi.dnnl_deconvolution_forward_desc_init(opDesc.Pointer, OneDnnApi.ForwardTraining, alg, srcAny.Pointer, weightsAny.Pointer, null, dstAny.Pointer, strides, padding, padding)
            : OneDnnApi.dnnl_convolution_forward_desc_init(opDesc.Pointer, OneDnnApi.ForwardTraining, alg, srcAny.Pointer, weightsAny.Pointer, null, dstAny.Pointer, strides, padding, padding),
            opDesc);
        Pass? forward = null, backwardData = null;
        try
        {
            forward = new Pass(fwdName, fwdAlg, fwdPd,
            [
                new(OneDnnApi.ArgSrc, OneDnnApi.QuerySrcMd, srcUser, IsOutput: false),
                new(OneDnnApi.ArgWeights, OneDnnApi.QueryWeightsMd, weightsUser, IsOutput: false),
                new(OneDnnApi.ArgDst, OneDnnApi.QueryDstMd, dstUser, IsOutput: true),
            ]);

            var (bdPd, bdAlg) = CreateDescriptor(bwdDataName, algorithms, attr, fwdPd.Pointer, alg => transposed
                ? OneDnnApi.dnnl_deconvolution_backward_data_desc_init(opDesc.Pointer, alg, srcAny.Pointer, weightsAny.Pointer, dstAny.Pointer, strides, padding, padding)
                : OneDnnApi.dnnl_convolution_backward_data_desc_init(opDesc.Pointer, alg, srcAny.Pointer, weightsAny.Pointer, dstAny.Pointer, strides, padding, padding),
                opDesc);
            backwardData = new Pass(bwdDataName, bdAlg, bdPd,
            [
                new(OneDnnApi.ArgDiffDst, OneDnnApi.QueryDiffDstMd, dstUser, IsOutput: false),
                new(OneDnnApi.ArgWeights, OneDnnApi.QueryWeightsMd, weightsUser, IsOutput: false),
                new(OneDnnApi.ArgDiffSrc, OneDnnApi.QueryDiffSrcMd, srcUser, IsOutput: true),
            ]);

            var (bwPd, bwAlg) = CreateDescriptor(bwdWeightsName, algorithms, attr, fwdPd.Pointer, alg => transposed
                ? OneDnnApi.dnnl_deconvolution_backward_weights_desc_init(opDesc.Pointer, alg, srcAny.Pointer, weightsAny.Pointer, null, dstAny.Pointer, strides, padding, padding)
                : OneDnnApi.dnnl_convolution_backward_weights_desc_init(opDesc.Pointer, alg, srcAny.Pointer, weightsAny.Pointer, null, dstAny.Pointer, strides, padding, padding),
                opDesc);
            var backwardWeights = new Pass(bwdWeightsName, bwAlg, bwPd,
            [
                new(OneDnnApi.ArgSrc, OneDnnApi.QuerySrcMd, srcUser, IsOutput: false),
                new(OneDnnApi.ArgDiffDst, OneDnnApi.QueryDiffDstMd, dstUser, IsOutput: false),
                new(OneDnnApi.ArgDiffWeights, OneDnnApi.QueryDiffWeightsMd, weightsUser, IsOutput: true),
            ]);
            return (forward, backwardData, backwardWeights);
        }
        catch
        {
            forward?.Dispose();
            backwardData?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Initializes the op descriptor and creates its primitive descriptor with the first algorithm
    /// oneDNN implements for this problem (Winograd falls back to direct only on dnnl_unimplemented).
    /// </summary>
    private static (OneDnnHandle Pd, string Algorithm) CreateDescriptor(string name, int[] algorithms, OneDnnHandle attr,
        IntPtr hintForward, Func<int, int> initOpDesc, NativeBlock opDesc)
    {
        for (int i = 0; ; i++)
        {
            int alg = algorithms[i];
            bool last = i == algorithms.Length - 1;
            string algName = alg == OneDnnApi.ConvolutionWinograd ? "winograd" : "direct";
            int status = initOpDesc(alg);
            if (status == 3 && !last) continue;
            OneDnn.Check(status, name, $"*_desc_init ({algName})");
            status = OneDnnApi.dnnl_primitive_desc_create(out var pd, opDesc.Pointer, attr.Pointer, OneDnn.Engine, hintForward);
            if (status == 3 && !last) continue;
            return (OneDnnHandle.Take(OneDnnHandle.Kind.PrimitiveDescriptor, pd, status, name, $"dnnl_primitive_desc_create ({algName})"), algName);
        }
    }

    /// <summary>How one primitive argument is fed: which execution argument, which query gives its layout, the caller's layout.</summary>
    private sealed record ArgumentSpec(int Arg, int Query, NativeBlock UserDesc, bool IsOutput);

    /// <summary>
    /// One argument of a primitive: the memory object over the caller's tensor and, when the primitive
    /// wants another layout, a buffer in that layout plus the reorder between the two.
    /// </summary>
    private sealed class Binding : IDisposable
    {
        public required OneDnnHandle User { get; init; }
        public OneDnnHandle? Internal { get; init; }
        public OneDnnHandle? Reorder { get; init; }
        public OneDnnHandle? ReorderPd { get; init; }
        public required bool IsOutput { get; init; }

        public IntPtr PrimitiveMemory => (Internal ?? User).Pointer;

        public void Dispose()
        {
            Reorder?.Dispose();
            ReorderPd?.Dispose();
            Internal?.Dispose();
            User.Dispose();
        }
    }

    /// <summary>One oneDNN primitive (forward, backward-data or backward-weights) with its buffers.</summary>
    private sealed class Pass : IDisposable
    {
        private readonly OneDnnHandle _pd;
        private readonly OneDnnHandle _primitive;
        private readonly Binding[] _bindings = new Binding[3];
        private readonly OneDnnHandle? _scratchpad;
        private readonly OneDnnApi.ExecArg[] _args;

        public Pass(string name, string algorithm, OneDnnHandle pd, ArgumentSpec[] specs)
        {
            Name = name;
            Algorithm = algorithm;
            _pd = pd;
            try
            {
                Implementation = OneDnn.ImplementationName(pd, name);
                _primitive = OneDnn.CreatePrimitive(pd, name);
                var args = new List<OneDnnApi.ExecArg>();
                for (int i = 0; i < specs.Length; i++)
                {
                    _bindings[i] = Bind(specs[i]);
                    args.Add(new OneDnnApi.ExecArg { Arg = specs[i].Arg, Memory = _bindings[i].PrimitiveMemory });
                }
                var scratchMd = OneDnnApi.dnnl_primitive_desc_query_md(pd.Pointer, OneDnnApi.QueryScratchpadMd, 0);
                if (scratchMd != null && OneDnnApi.dnnl_memory_desc_get_size(scratchMd) > 0)
                {
                    _scratchpad = OneDnn.CreateMemory(scratchMd, OneDnnApi.MemoryAllocate, name);
                    args.Add(new OneDnnApi.ExecArg { Arg = OneDnnApi.ArgScratchpad, Memory = _scratchpad.Pointer });
                }
                _args = [.. args];
            }
            catch
            {
                Dispose();
                throw;
            }
        }

        public string Name { get; }
        public string Algorithm { get; }
        public string Implementation { get; } = "";
        public int ReorderCount => _bindings.Count(b => b.Reorder != null);

        private Binding Bind(ArgumentSpec spec)
        {
            var wanted = OneDnnApi.dnnl_primitive_desc_query_md(_pd.Pointer, spec.Query, 0);
            if (wanted == null) throw new OneDnnException(Name, $"dnnl_primitive_desc_query_md({spec.Query}) returned null", 2);
            var user = OneDnn.CreateMemory(spec.UserDesc.Pointer, IntPtr.Zero, Name);
            if (OneDnnApi.dnnl_memory_desc_equal(spec.UserDesc.Pointer, wanted) != 0)
                return new Binding { User = user, IsOutput = spec.IsOutput };
            OneDnnHandle? internalMemory = null, reorderPd = null;
            try
            {
                internalMemory = OneDnn.CreateMemory(wanted, OneDnnApi.MemoryAllocate, Name);
                void* from = spec.IsOutput ? wanted : spec.UserDesc.Pointer;
                void* to = spec.IsOutput ? spec.UserDesc.Pointer : wanted;
                int status = OneDnnApi.dnnl_reorder_primitive_desc_create(out var rpd, from, OneDnn.Engine, to, OneDnn.Engine, IntPtr.Zero);
                reorderPd = OneDnnHandle.Take(OneDnnHandle.Kind.PrimitiveDescriptor, rpd, status, Name, "dnnl_reorder_primitive_desc_create");
                var reorder = OneDnn.CreatePrimitive(reorderPd, Name + " reorder");
                return new Binding { User = user, Internal = internalMemory, Reorder = reorder, ReorderPd = reorderPd, IsOutput = spec.IsOutput };
            }
            catch
            {
                reorderPd?.Dispose();
                internalMemory?.Dispose();
                user.Dispose();
                throw;
            }
        }

        /// <summary>Runs on the oneDNN thread: points the caller memories at the tensors, reorders in, executes, reorders out.</summary>
        public void Execute(IntPtr a, IntPtr b, IntPtr c)
        {
            Set(_bindings[0], a);
            Set(_bindings[1], b);
            Set(_bindings[2], c);
            foreach (var binding in _bindings)
                if (!binding.IsOutput && binding.Reorder != null) RunReorder(binding, binding.User.Pointer, binding.Internal!.Pointer);
            fixed (OneDnnApi.ExecArg* args = _args)
                OneDnn.Check(OneDnnApi.dnnl_primitive_execute(_primitive.Pointer, OneDnn.Stream, _args.Length, args), Name, "dnnl_primitive_execute");
            foreach (var binding in _bindings)
                if (binding.IsOutput && binding.Reorder != null) RunReorder(binding, binding.Internal!.Pointer, binding.User.Pointer);
            OneDnn.Check(OneDnnApi.dnnl_stream_wait(OneDnn.Stream), Name, "dnnl_stream_wait");
        }

        private void Set(Binding binding, IntPtr data) =>
            OneDnn.Check(OneDnnApi.dnnl_memory_set_data_handle(binding.User.Pointer, data), Name, "dnnl_memory_set_data_handle");

        private void RunReorder(Binding binding, IntPtr from, IntPtr to)
        {
            var args = stackalloc OneDnnApi.ExecArg[2];
            args[0] = new OneDnnApi.ExecArg { Arg = OneDnnApi.ArgFrom, Memory = from };
            args[1] = new OneDnnApi.ExecArg { Arg = OneDnnApi.ArgTo, Memory = to };
            OneDnn.Check(OneDnnApi.dnnl_primitive_execute(binding.Reorder!.Pointer, OneDnn.Stream, 2, args), Name + " reorder", "dnnl_primitive_execute");
        }

        public void Dispose()
        {
            foreach (var binding in _bindings) binding?.Dispose();
            _scratchpad?.Dispose();
            _primitive?.Dispose();
            _pd.Dispose();
        }
    }
}
