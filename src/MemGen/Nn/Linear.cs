using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// A fully connected layer on [N, in] rows: y = x·Wᵀ + b with W [out, in] ("<c>name.weight</c>", PyTorch's order) and
/// b [out] ("<c>name.bias</c>"), through the backend's GEMM and bias kernels. Used on the noise-level embedding, whose
/// rows are per image; it keeps a reference to its input for the weight gradient.
/// </summary>
public sealed class Linear
{
    private readonly ComputeBackend _backend;
    private readonly Dictionary<int, Tensor> _outputs = [], _inputGradients = [];
    private Tensor? _input;

    /// <summary>Creates the layer with zero weight and bias.</summary>
    public Linear(string name, int inFeatures, int outFeatures, ComputeBackend backend)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(inFeatures, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(outFeatures, 1);
        ArgumentNullException.ThrowIfNull(backend);
        _backend = backend;
        Name = name;
        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Weight = new Parameter(name + ".weight", backend.Zeros(outFeatures, inFeatures));
        Bias = new ChannelBias(name, outFeatures, backend);
    }

    /// <summary>Layer name (prefix of its parameter names).</summary>
    public string Name { get; }

    /// <summary>Input features.</summary>
    public int InFeatures { get; }

    /// <summary>Output features.</summary>
    public int OutFeatures { get; }

    /// <summary>The weight [out, in] and its gradient.</summary>
    public Parameter Weight { get; }

    /// <summary>The bias.</summary>
    public ChannelBias Bias { get; }

    /// <summary>Weight and bias, in that order.</summary>
    public IEnumerable<Parameter> Parameters => [Weight, Bias.Bias];

    /// <summary>Fills the weight with N(0, 1/in) (fan-in scaling for a smooth activation); the bias stays zero.</summary>
    public void InitializeFanIn(DeterministicRng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var values = new float[Weight.Value.Length];
        rng.FillNormal(values, 0f, (float)Math.Sqrt(1.0 / InFeatures));
        Weight.Value.CopyFrom(values);
    }

    /// <summary>y = x·Wᵀ + b (no bias in a linearized pass) into a layer-owned buffer.</summary>
    public Tensor Forward(Tensor x, LayerMode mode)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 2 || x.Shape[1] != InFeatures) throw new ArgumentException($"{Name}: input must be [N, {InFeatures}], got [{x.ShapeString}].");
        int n = x.Shape[0];
        var y = Buffer(_outputs, n, OutFeatures);
        _backend.Gemm(false, true, n, OutFeatures, InFeatures, 1f, x, Weight.Value, 0f, y);
        Bias.Forward(y, mode);
        _input = x;
        return y;
    }

    /// <summary>
    /// Back-propagates <paramref name="dy"/> [N, out]: dW = dyᵀ·x and db = Σ_n dy (overwritten) when
    /// <paramref name="parameterGradients"/>; returns dx = dy·W (a layer-owned buffer) when <paramref name="inputGradient"/>, else null.
    /// </summary>
    public Tensor? Backward(Tensor dy, bool parameterGradients, bool inputGradient)
    {
        ArgumentNullException.ThrowIfNull(dy);
        int n = dy.Shape[0];
        if (dy.Rank != 2 || dy.Shape[1] != OutFeatures) throw new ArgumentException($"{Name}: gradient must be [N, {OutFeatures}], got [{dy.ShapeString}].");
        if (parameterGradients)
        {
            if (_input is null || _input.Shape[0] != n) throw new InvalidOperationException($"{Name}: Backward needs a Forward of the same batch first.");
            _backend.Gemm(true, false, OutFeatures, InFeatures, n, 1f, dy, _input, 0f, Weight.Gradient);
            Bias.Backward(dy, parameterGradients: true);
        }
        if (!inputGradient) return null;
        var dx = Buffer(_inputGradients, n, InFeatures);
        _backend.Gemm(false, false, n, InFeatures, OutFeatures, 1f, dy, Weight.Value, 0f, dx);
        return dx;
    }

    /// <summary>Drops the cached buffers.</summary>
    public void ReleaseBuffers()
    {
        _outputs.Clear();
        _inputGradients.Clear();
        _input = null;
    }

    private Tensor Buffer(Dictionary<int, Tensor> cache, int n, int features)
    {
        if (!cache.TryGetValue(n, out var t))
        {
            t = _backend.Zeros(n, features);
            cache.Add(n, t);
        }
        return t;
    }
}
