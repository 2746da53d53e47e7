using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// A bias-free convolution layer over its backend's <see cref="IConvolution"/> primitives (one per input
/// batch×height×width, built on first use). Activations enter and leave in the layouts fixed at
/// construction (blocked nChw16c inside the networks where channels allow); the weight is a plain
/// <see cref="Parameter"/>. Forward keeps a reference to its input for the weight gradient.
/// </summary>
public abstract class ConvolutionLayer : IDisposable
{
    private readonly ComputeBackend _backend;
    private readonly Dictionary<(int N, int H, int W), IConvolution> _primitives = [];
    private readonly TensorCache _outputs;
    private Tensor? _input;

    /// <summary>Creates the layer with a zero weight named "<paramref name="name"/>.weight".</summary>
    protected ConvolutionLayer(string name, ConvolutionKind kind, int inChannels, int outChannels,
        TensorLayout inLayout, TensorLayout outLayout, ComputeBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        Name = name;
        Kind = kind;
        InChannels = inChannels;
        OutChannels = outChannels;
        InLayout = inLayout;
        OutLayout = outLayout;
        _backend = backend;
        _outputs = new TensorCache(backend);
        InputGradients = new TensorCache(backend);
        var probe = new ConvolutionShape(1, inChannels, outChannels, 1, 1, kind);
        Weight = new Parameter(name + ".weight", backend.Zeros(probe.WeightShape));
    }

    /// <summary>Layer name (prefix of its parameter name).</summary>
    public string Name { get; }

    /// <summary>Which convolution.</summary>
    public ConvolutionKind Kind { get; }

    /// <summary>Input channels.</summary>
    public int InChannels { get; }

    /// <summary>Output channels.</summary>
    public int OutChannels { get; }

    /// <summary>Layout of the input activations.</summary>
    public TensorLayout InLayout { get; }

    /// <summary>Layout of the output activations.</summary>
    public TensorLayout OutLayout { get; }

    /// <summary>The weight (OIHW for 3×3, IOHW for the transposed 2×2) and its gradient.</summary>
    public Parameter Weight { get; }

    /// <summary>
    /// Number of input values each output sums over, as PyTorch's <c>kaiming_normal_(mode="fan_in")</c>
    /// computes it from the weight tensor: size(1)·kernel area (for the transposed conv this is out·4).
    /// </summary>
    public int FanIn => Weight.Value.Shape[1] * Weight.Value.Shape[2] * Weight.Value.Shape[3];

    /// <summary>Fills the weight with N(0, 2/fan_in) (Kaiming normal, fan-in, ReLU gain).</summary>
    public void InitializeKaiming(DeterministicRng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var values = new float[Weight.Value.Length];
        rng.FillNormal(values, 0f, (float)Math.Sqrt(2.0 / FanIn));
        Weight.Value.CopyFrom(values);
    }

    /// <summary>
    /// Where input gradients are written. Own by default; a network gives consecutive layers of its backward
    /// chain two alternating shared caches, since each input gradient is consumed by the next layer back.
    /// </summary>
    internal TensorCache InputGradients { get; set; }

    /// <summary>Direct-convolution FLOPs of one forward pass at the shape of the last Forward (0 before any).</summary>
    public double LastForwardFlops { get; private set; }

    /// <summary>y = conv(x) into a buffer owned by the layer (valid until the next Forward with this shape).</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        var conv = Primitive(x);
        var s = conv.Shape;
        var y = _outputs.Get(s.Batch, OutChannels, s.OutHeight, s.OutWidth, OutLayout);
        conv.Forward(x, Weight.Value, y);
        _input = x;
        LastForwardFlops = s.ForwardFlops;
        return y;
    }

    /// <summary>
    /// Back-propagates <paramref name="dy"/>: writes the weight gradient (overwriting it) when
    /// <paramref name="parameterGradients"/> (needs the last Forward's input, which must be unchanged),
    /// and returns the input gradient (a buffer of <see cref="InputGradients"/>, valid until that cache's next use) when <paramref name="inputGradient"/>, else null.
    /// </summary>
    public Tensor? Backward(Tensor dy, bool parameterGradients, bool inputGradient = true)
    {
        ArgumentNullException.ThrowIfNull(dy);
        int h = Kind == ConvolutionKind.Same3x3 ? dy.H : dy.H / 2, w = Kind == ConvolutionKind.Same3x3 ? dy.W : dy.W / 2;
        var conv = Primitive(dy.N, h, w);
        if (parameterGradients)
        {
            if (_input is null || _input.N != dy.N || _input.H != h || _input.W != w)
                throw new InvalidOperationException($"{Name}: Backward with parameter gradients needs a Forward of the same shape first.");
            conv.BackwardWeights(_input, dy, Weight.Gradient);
        }
        if (!inputGradient) return null;
        var dx = InputGradients.Get(dy.N, InChannels, h, w, InLayout);
        conv.BackwardData(dy, Weight.Value, dx);
        return dx;
    }

    /// <summary>Drops the cached activation buffers (the primitives stay).</summary>
    public void ReleaseBuffers()
    {
        _outputs.Clear();
        InputGradients.Clear();
        _input = null;
    }

    private IConvolution Primitive(Tensor x)
    {
        if (x.Rank != 4 || x.C != InChannels || x.Layout != InLayout)
            throw new ArgumentException($"{Name}: input must be [N,{InChannels},H,W] {InLayout}, got [{x.ShapeString}] {x.Layout}.");
        return Primitive(x.N, x.H, x.W);
    }

    private IConvolution Primitive(int n, int h, int w)
    {
        if (!_primitives.TryGetValue((n, h, w), out var conv))
        {
            conv = _backend.Convolution(new ConvolutionShape(n, InChannels, OutChannels, h, w, Kind, InLayout, OutLayout));
            _primitives.Add((n, h, w), conv);
        }
        return conv;
    }

    /// <summary>Disposes the primitives (backend-owned ones ignore it).</summary>
    public void Dispose()
    {
        foreach (var conv in _primitives.Values) conv.Dispose();
        _primitives.Clear();
        GC.SuppressFinalize(this);
    }
}

/// <summary>3×3 convolution, stride 1, zero padding 1, no bias (weight [out, in, 3, 3]).</summary>
public sealed class Conv2d(string name, int inChannels, int outChannels, TensorLayout inLayout, TensorLayout outLayout, ComputeBackend backend)
    : ConvolutionLayer(name, ConvolutionKind.Same3x3, inChannels, outChannels, inLayout, outLayout, backend);

/// <summary>2×2 transposed convolution, stride 2, no bias (weight [in, out, 2, 2], PyTorch's ConvTranspose2d order).</summary>
public sealed class ConvTranspose2d(string name, int inChannels, int outChannels, TensorLayout inLayout, TensorLayout outLayout, ComputeBackend backend)
    : ConvolutionLayer(name, ConvolutionKind.Transposed2x2, inChannels, outChannels, inLayout, outLayout, backend);
