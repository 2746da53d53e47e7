using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// The noise-conditioned UNet (docs/science.md §9.3), the kind of denoiser most diffusion models train: the topology of
/// <see cref="BiasFreeUnet"/> (B encoder blocks of width K·2^b, a mid block of width 2·K·2^(B−1), B decoder blocks, 2×2
/// average pooling down, 2×2 transposed convolutions up, skips by concatenation), but with biases, affine batch norm, SiLU,
/// and the noise level as an input: an embedding of c_noise(σ) (<see cref="NoiseEmbedding"/>) modulates every batch norm
/// per image and channel (FiLM, <see cref="ConditionedBatchNorm"/>), and the whole body F sits in EDM's preconditioning
/// (<see cref="EdmPreconditioning"/>): the network outputs the residual r(y; σ) = y − D(y; σ) with
/// D = c_skip·y + c_out·F(c_in·y; c_noise). Each block is two [conv 3×3, conditioned BN] layers, except the very first
/// conv ([conv 3×3 + bias, SiLU]) and the last decoder conv (K→C + bias, linear); the transposed convolutions have biases.
/// Convolutions followed by a batch norm carry no bias: its mean subtraction would cancel it (β is the bias there).
/// Names: "emb.fc1", "emb.fc2", "enc{b}.conv1" (+ ".bias" at b = 0), "enc{b}.bn1" (b &gt; 0), "enc{b}.conv2", "enc{b}.bn2",
/// "mid.*", "up{b}" (weight and bias), "dec{b}.conv1", "dec{b}.bn1", "dec{b}.conv2" (+ ".bias" at b = 0), "dec{b}.bn2" (b &gt; 0);
/// each bn has gamma, beta, film.weight, film.bias and the buffers running_mean, running_sd.
/// The network is not positively homogeneous (r(a·y; σ) ≠ a·r(y; σ), J·y ≠ r(y)); its Jacobian with respect to y at fixed
/// σ is exact all the same (<see cref="LayeredNetwork.LinearizeAt(Tensor, ReadOnlySpan{float})"/>: biases and FiLM shifts
/// drop out, every SiLU and batch norm becomes its derivative at the point).
/// </summary>
public sealed class ConditionedUnet : LayeredNetwork
{
    private readonly UnetBody<ConditionedConvStage> _body;
    private readonly ConditionedBatchNorm[] _norms;
    private readonly NoiseEmbedding _embedding;
    private readonly TensorCache _scaledInputs, _residuals, _bodyGradients, _inputGradients;
    private readonly Dictionary<int, ItemCoefficients> _coefficients = [], _linearizedCoefficients = [];
    private readonly Dictionary<int, Tensor> _embeddingGradients = [];
    private float[] _in = [], _skip = [], _out = [];
    private float[] _pointIn = [], _pointSkip = [], _pointOut = [];

    /// <summary>
    /// Builds the network on <paramref name="backend"/> and initializes it from <c>DeterministicRng(seed)</c>: the embedding's
    /// weights N(0, 1/E), then every convolution Kaiming-normal (fan-in, as <see cref="BiasFreeUnet"/>) in forward order;
    /// biases, β and the FiLM projections zero, γ one, running mean 0 and sd 1.
    /// </summary>
    public ConditionedUnet(NetworkSpec spec, int channels, ComputeBackend backend, long seed)
        : base(spec, channels, backend)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!spec.IsConditioned) throw new ArgumentException($"{spec} is not a noise-conditioned UNet.", nameof(spec));
        int blocks = spec.Depth, width = spec.Width, embedding = spec.Embedding;
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        Preconditioning = new EdmPreconditioning(spec.SigmaData);
        _embedding = new NoiseEmbedding("emb", embedding, backend);
        _body = new UnetBody<ConditionedConvStage>(blocks, width, channels, InnerLayout, backend,
            (prefix, cin, cout, inLayout, outLayout, position, conv, norm) => new ConditionedConvStage(prefix, cin, cout, inLayout, outLayout, position switch
            {
                UnetStagePosition.First => ConditionedActivation.Silu,
                UnetStagePosition.Last => ConditionedActivation.None,
                _ => ConditionedActivation.Norm,
            }, embedding, backend, conv, norm), upBiases: true);
        (_scaledInputs, _residuals, _bodyGradients, _inputGradients) = (new TensorCache(backend), new TensorCache(backend), new TensorCache(backend), new TensorCache(backend));

        var rng = new DeterministicRng(seed);
        _embedding.Initialize(rng);
        var parameters = new List<Parameter>(_embedding.Parameters);
        var buffers = new List<NamedTensor>();
        _body.Initialize(rng, parameters, buffers);
        Parameters = parameters;
        Buffers = buffers;
        _norms = _body.Stages.Where(s => s.Norm is not null).Select(s => s.Norm!).ToArray();
    }

    /// <summary>The EDM coefficients of this network (σ_data from its spec).</summary>
    public EdmPreconditioning Preconditioning { get; }

    /// <inheritdoc />
    public override IReadOnlyList<ConvolutionLayer> ConvolutionLayers => _body.ConvolutionLayers;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public override IReadOnlyList<NamedTensor> Buffers { get; }

    /// <summary>
    /// The names and shapes of the parameters and buffers (in checkpoint order: parameters, then buffers) of
    /// <paramref name="spec"/> for <paramref name="channels"/>-channel images, in closed form: what a checkpoint of it holds.
    /// </summary>
    public static IReadOnlyList<(string Name, int[] Shape, bool Trainable)> TensorShapes(NetworkSpec spec, int channels)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (!spec.IsConditioned) throw new ArgumentException($"{spec} is not a noise-conditioned UNet.", nameof(spec));
        int blocks = spec.Depth, k = spec.Width, e = spec.Embedding;
        var parameters = new List<(string, int[], bool)>
        {
            ("emb.fc1.weight", [e, e], true), ("emb.fc1.bias", [e], true), ("emb.fc2.weight", [e, e], true), ("emb.fc2.bias", [e], true),
        };
        var buffers = new List<(string, int[], bool)>();
        void Conv(string name, int cin, int cout, bool norm, string bn)
        {
            parameters.Add(($"{name}.weight", [cout, cin, 3, 3], true));
            if (!norm)
            {
                parameters.Add(($"{name}.bias", [cout], true));
                return;
            }
            parameters.AddRange([($"{bn}.gamma", [cout], true), ($"{bn}.beta", [cout], true), ($"{bn}.film.weight", [2 * cout, e], true), ($"{bn}.film.bias", [2 * cout], true)]);
            buffers.AddRange([($"{bn}.running_mean", [cout], false), ($"{bn}.running_sd", [cout], false)]);
        }
        var widths = Enumerable.Range(0, blocks).Select(b => k << b).ToArray();
        for (int b = 0; b < blocks; b++)
        {
            Conv($"enc{b}.conv1", b == 0 ? channels : widths[b - 1], widths[b], b > 0, $"enc{b}.bn1");
            Conv($"enc{b}.conv2", widths[b], widths[b], true, $"enc{b}.bn2");
        }
        int mid = 2 * widths[^1];
        Conv("mid.conv1", widths[^1], mid, true, "mid.bn1");
        Conv("mid.conv2", mid, mid, true, "mid.bn2");
        for (int b = blocks - 1; b >= 0; b--)
        {
            int below = b == blocks - 1 ? mid : widths[b + 1];
            parameters.Add(($"up{b}.weight", [below, widths[b], 2, 2], true));
            parameters.Add(($"up{b}.bias", [widths[b]], true));
            Conv($"dec{b}.conv1", 2 * widths[b], widths[b], true, $"dec{b}.bn1");
            Conv($"dec{b}.conv2", widths[b], b == 0 ? channels : widths[b], b > 0, $"dec{b}.bn2");
        }
        return [.. parameters, .. buffers];
    }

    /// <summary>Trainable scalars of <paramref name="spec"/> for <paramref name="channels"/>-channel images (closed form).</summary>
    public static long ParameterCountOf(NetworkSpec spec, int channels) =>
        TensorShapes(spec, channels).Where(t => t.Trainable).Sum(t => t.Shape.Aggregate(1L, (a, d) => a * d));

    /// <inheritdoc />
    protected override void Condition(ReadOnlySpan<float> sigmas, LayerMode mode)
    {
        int n = sigmas.Length;
        if (_in.Length != n) (_in, _skip, _out) = (new float[n], new float[n], new float[n]);
        var labels = new double[n];
        var p = Preconditioning;
        for (int i = 0; i < n; i++)
        {
            double s = sigmas[i];
            _in[i] = (float)p.In(s);
            _skip[i] = (float)p.ResidualSkip(s);
            _out[i] = (float)-p.Out(s);
            labels[i] = p.Noise(s);
        }
        var embedding = _embedding.Forward(labels);
        foreach (var norm in _norms) norm.Condition(embedding);
        Upload(Coefficients(_coefficients, n), _in, _skip, _out);
    }

    /// <inheritdoc />
    protected override Tensor Run(Tensor x, LayerMode mode)
    {
        var c = mode == LayerMode.Linearized ? LinearizedCoefficients(x.N) : Current(x.N);
        var h = _scaledInputs.Get(x.N, x.C, x.H, x.W, TensorLayout.Nchw);
        Backend.CombineItems(x, c.In, null, null, h); // c_in·y
        h = _body.Forward(h, mode);
        var r = _residuals.Get(x.N, x.C, x.H, x.W, TensorLayout.Nchw);
        Backend.CombineItems(x, c.Skip, h, c.Out, r); // r = (1 − c_skip)·y − c_out·F
        return r;
    }

    /// <inheritdoc />
    protected override Tensor? RunBackward(Tensor gradResidual, LayerMode mode, bool parameterGradients, bool inputGradient)
    {
        var c = mode == LayerMode.Linearized ? LinearizedCoefficients(gradResidual.N) : Current(gradResidual.N);
        var g = _bodyGradients.Get(gradResidual.N, gradResidual.C, gradResidual.H, gradResidual.W, TensorLayout.Nchw);
        Backend.CombineItems(gradResidual, c.Out, null, null, g); // dL/dF = −c_out·dL/dr
        var bodyInput = _body.Backward(g, mode, parameterGradients, inputGradient);
        if (parameterGradients && mode != LayerMode.Linearized) BackwardEmbedding(gradResidual.N);
        if (!inputGradient) return null;
        var dy = _inputGradients.Get(gradResidual.N, gradResidual.C, gradResidual.H, gradResidual.W, TensorLayout.Nchw);
        Backend.CombineItems(gradResidual, c.Skip, bodyInput!, c.In, dy); // dL/dy = (1 − c_skip)·dL/dr + c_in·dL/d(c_in·y)
        return dy;
    }

    /// <summary>Sums the embedding gradients the batch norms left and back-propagates them through the embedding's MLP.</summary>
    private void BackwardEmbedding(int n)
    {
        if (!_embeddingGradients.TryGetValue(n, out var total))
        {
            total = Backend.Zeros(n, _embedding.Width);
            _embeddingGradients.Add(n, total);
        }
        Backend.Copy(_norms[0].EmbeddingGradient, 0, total, 0, total.Length);
        for (int i = 1; i < _norms.Length; i++) Backend.Add(total, _norms[i].EmbeddingGradient, total);
        _embedding.Backward(total);
    }

    /// <inheritdoc />
    protected override void FreezeMasks()
    {
        _body.FreezeMasks();
        (_pointIn, _pointSkip, _pointOut) = ((float[])_in.Clone(), (float[])_skip.Clone(), (float[])_out.Clone());
    }

    /// <inheritdoc />
    public override void ReleaseBuffers()
    {
        _body.ReleaseBuffers();
        _embedding.ReleaseBuffers();
        foreach (var cache in new[] { _scaledInputs, _residuals, _bodyGradients, _inputGradients }) cache.Clear();
        _coefficients.Clear();
        _linearizedCoefficients.Clear();
        _embeddingGradients.Clear();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _body.Dispose();
    }

    /// <summary>The coefficients of the last <see cref="Condition"/>, for a batch of <paramref name="n"/>.</summary>
    private ItemCoefficients Current(int n) => n == _in.Length && _coefficients.TryGetValue(n, out var c)
        ? c
        : throw new InvalidOperationException($"{Spec}: no noise levels for a batch of {n}.");

    /// <summary>The coefficients frozen at the linearization point, for <paramref name="n"/> vectors (one point broadcast, or one per vector).</summary>
    private ItemCoefficients LinearizedCoefficients(int n)
    {
        int points = _pointIn.Length;
        if (points == 0) throw new InvalidOperationException($"{Spec}: linearize the network first.");
        var c = Coefficients(_linearizedCoefficients, n);
        float[] Spread(float[] point) => Enumerable.Range(0, n).Select(i => point[points == 1 ? 0 : i]).ToArray();
        Upload(c, Spread(_pointIn), Spread(_pointSkip), Spread(_pointOut));
        return c;
    }

    private ItemCoefficients Coefficients(Dictionary<int, ItemCoefficients> cache, int n)
    {
        if (!cache.TryGetValue(n, out var c))
        {
            c = new ItemCoefficients(Backend.Zeros(n), Backend.Zeros(n), Backend.Zeros(n));
            cache.Add(n, c);
        }
        return c;
    }

    private static void Upload(ItemCoefficients c, float[] cIn, float[] skip, float[] cOut)
    {
        c.In.CopyFrom(cIn);
        c.Skip.CopyFrom(skip);
        c.Out.CopyFrom(cOut);
    }

    /// <summary>Per-image coefficients in the backend's memory: c_in, 1 − c_skip and −c_out.</summary>
    private sealed record ItemCoefficients(Tensor In, Tensor Skip, Tensor Out);
}
