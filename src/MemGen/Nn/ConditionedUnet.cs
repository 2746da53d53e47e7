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
    private readonly ConditionedConvStage[][] _encoders;
    private readonly AvgPool2d[] _pools;
    private readonly ConditionedConvStage[] _mid;
    private readonly ConvTranspose2d[] _ups;
    private readonly ChannelBias[] _upBiases;
    private readonly Concat[] _concats;
    private readonly ConditionedConvStage[][] _decoders;
    private readonly ConditionedBatchNorm[] _norms;
    private readonly NoiseEmbedding _embedding;
    private readonly Tensor[] _skips, _skipGradients;
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
        var inner = InnerLayout;
        const TensorLayout Image = TensorLayout.Nchw;
        const ConditionedActivation Norm = ConditionedActivation.Norm;
        ConditionedConvStage Stage(string prefix, int cin, int cout, TensorLayout inLayout, TensorLayout outLayout, ConditionedActivation activation, string conv, string norm) =>
            new(prefix, cin, cout, inLayout, outLayout, activation, embedding, backend, conv, norm);
        var widths = Enumerable.Range(0, blocks).Select(b => width << b).ToArray();
        _embedding = new NoiseEmbedding("emb", embedding, backend);
        _encoders = new ConditionedConvStage[blocks][];
        _pools = new AvgPool2d[blocks];
        for (int b = 0; b < blocks; b++)
        {
            int cin = b == 0 ? channels : widths[b - 1];
            _encoders[b] =
            [
                Stage($"enc{b}", cin, widths[b], b == 0 ? Image : inner, inner, b == 0 ? ConditionedActivation.Silu : Norm, "conv1", "bn1"),
                Stage($"enc{b}", widths[b], widths[b], inner, inner, Norm, "conv2", "bn2"),
            ];
            _pools[b] = new AvgPool2d($"pool{b}", backend);
        }
        int mid = 2 * widths[^1];
        _mid =
        [
            Stage("mid", widths[^1], mid, inner, inner, Norm, "conv1", "bn1"),
            Stage("mid", mid, mid, inner, inner, Norm, "conv2", "bn2"),
        ];
        _ups = new ConvTranspose2d[blocks];
        _upBiases = new ChannelBias[blocks];
        _concats = new Concat[blocks];
        _decoders = new ConditionedConvStage[blocks][];
        for (int b = blocks - 1; b >= 0; b--)
        {
            int below = b == blocks - 1 ? mid : widths[b + 1];
            _ups[b] = new ConvTranspose2d($"up{b}", below, widths[b], inner, inner, backend);
            _upBiases[b] = new ChannelBias($"up{b}", widths[b], backend);
            _concats[b] = new Concat($"cat{b}", backend);
            _decoders[b] =
            [
                Stage($"dec{b}", 2 * widths[b], widths[b], inner, inner, Norm, "conv1", "bn1"),
                b == 0
                    ? Stage("dec0", widths[0], channels, inner, Image, ConditionedActivation.None, "conv2", "bn2")
                    : Stage($"dec{b}", widths[b], widths[b], inner, inner, Norm, "conv2", "bn2"),
            ];
        }
        // Convolution input gradients alternate between two shared caches in backward order, as in BiasFreeUnet.
        var shared = new[] { new TensorCache(backend), new TensorCache(backend) };
        int order = 0;
        void Share(ConvolutionLayer conv) => conv.InputGradients = shared[order++ % 2];
        for (int b = 0; b < blocks; b++)
        {
            Share(_decoders[b][1].Conv);
            Share(_decoders[b][0].Conv);
            Share(_ups[b]);
        }
        Share(_mid[1].Conv);
        Share(_mid[0].Conv);
        for (int b = blocks - 1; b >= 0; b--)
        {
            Share(_encoders[b][1].Conv);
            Share(_encoders[b][0].Conv);
        }
        _skips = new Tensor[blocks];
        _skipGradients = new Tensor[blocks];
        (_scaledInputs, _residuals, _bodyGradients, _inputGradients) = (new TensorCache(backend), new TensorCache(backend), new TensorCache(backend), new TensorCache(backend));

        var rng = new DeterministicRng(seed);
        _embedding.Initialize(rng);
        var parameters = new List<Parameter>(_embedding.Parameters);
        var buffers = new List<NamedTensor>();
        void Add(ConditionedConvStage s)
        {
            s.Initialize(rng);
            parameters.AddRange(s.Parameters);
            buffers.AddRange(s.Buffers);
        }
        foreach (var encoder in _encoders) foreach (var s in encoder) Add(s);
        foreach (var s in _mid) Add(s);
        for (int b = blocks - 1; b >= 0; b--)
        {
            _ups[b].InitializeKaiming(rng);
            parameters.Add(_ups[b].Weight);
            parameters.Add(_upBiases[b].Bias);
            foreach (var s in _decoders[b]) Add(s);
        }
        Parameters = parameters;
        Buffers = buffers;
        ConvolutionLayers = Stages.Select(s => (ConvolutionLayer)s.Conv).Concat(_ups).ToArray();
        _norms = Stages.Where(s => s.Norm is not null).Select(s => s.Norm!).ToArray();
    }

    /// <summary>The EDM coefficients of this network (σ_data from its spec).</summary>
    public EdmPreconditioning Preconditioning { get; }

    /// <inheritdoc />
    public override IReadOnlyList<ConvolutionLayer> ConvolutionLayers { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public override IReadOnlyList<NamedTensor> Buffers { get; }

    private IEnumerable<ConditionedConvStage> Stages => _encoders.SelectMany(e => e).Concat(_mid).Concat(_decoders.SelectMany(d => d));

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
        for (int b = 0; b < _encoders.Length; b++)
        {
            foreach (var s in _encoders[b]) h = s.Forward(h, mode);
            _skips[b] = h;
            h = _pools[b].Forward(h);
        }
        foreach (var s in _mid) h = s.Forward(h, mode);
        for (int b = _encoders.Length - 1; b >= 0; b--)
        {
            h = _concats[b].Forward(_upBiases[b].Forward(_ups[b].Forward(h), mode), _skips[b]);
            foreach (var s in _decoders[b]) h = s.Forward(h, mode);
        }
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
        int blocks = _encoders.Length;
        for (int b = 0; b < blocks; b++)
        {
            g = _decoders[b][1].Backward(g, mode, parameterGradients)!;
            g = _decoders[b][0].Backward(g, mode, parameterGradients)!;
            var (up, skip) = _concats[b].Backward(g);
            _skipGradients[b] = skip;
            g = _ups[b].Backward(_upBiases[b].Backward(up, parameterGradients), parameterGradients)!;
        }
        g = _mid[1].Backward(g, mode, parameterGradients)!;
        g = _mid[0].Backward(g, mode, parameterGradients)!;
        Tensor? bodyInput = null;
        for (int b = blocks - 1; b >= 0; b--)
        {
            g = _pools[b].Backward(g);
            Backend.Add(g, _skipGradients[b], g);
            g = _encoders[b][1].Backward(g, mode, parameterGradients)!;
            bodyInput = _encoders[b][0].Backward(g, mode, parameterGradients, inputGradient: b > 0 || inputGradient);
            if (bodyInput is not null) g = bodyInput;
        }
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
        foreach (var s in Stages) s.FreezeMask();
        (_pointIn, _pointSkip, _pointOut) = ((float[])_in.Clone(), (float[])_skip.Clone(), (float[])_out.Clone());
    }

    /// <inheritdoc />
    public override void ReleaseBuffers()
    {
        foreach (var s in Stages) s.ReleaseBuffers();
        foreach (var p in _pools) p.ReleaseBuffers();
        foreach (var u in _ups) u.ReleaseBuffers();
        foreach (var c in _concats) c.ReleaseBuffers();
        _embedding.ReleaseBuffers();
        foreach (var cache in new[] { _scaledInputs, _residuals, _bodyGradients, _inputGradients }) cache.Clear();
        _coefficients.Clear();
        _linearizedCoefficients.Clear();
        _embeddingGradients.Clear();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var s in Stages) s.Dispose();
        foreach (var u in _ups) u.Dispose();
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
