using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// Bias-free UNet (docs/science.md §1): B encoder blocks of width K·2^b, a mid block of width 2·K·2^(B−1), B decoder blocks.
/// Each block is two [conv 3×3, BF-BN, ReLU] layers, except the very first conv (ReLU, no BN) and the last decoder
/// conv (K→C, linear). Down: 2×2 average pooling; up: 2×2 stride-2 transposed conv (no bias); skips:
/// cat([upsampled, encoder output before pooling]) along channels — the order of bench/pytorch/train_step.py.
/// Names: "enc{b}.conv1", "enc{b}.bn1" (b &gt; 0), "enc0.relu1", "enc{b}.conv2", "enc{b}.bn2", "mid.*", "up{b}",
/// "dec{b}.conv1", "dec{b}.bn1", "dec{b}.conv2", "dec{b}.bn2" (b &gt; 0).
/// </summary>
public sealed class BiasFreeUnet : LayeredNetwork
{
    private readonly ConvStage[][] _encoders;
    private readonly AvgPool2d[] _pools;
    private readonly ConvStage[] _mid;
    private readonly ConvTranspose2d[] _ups;
    private readonly Concat[] _concats;
    private readonly ConvStage[][] _decoders;
    private readonly Tensor[] _skips;
    private readonly Tensor[] _skipGradients;

    /// <summary>
    /// Builds the network on <paramref name="backend"/> and initializes it from <c>DeterministicRng(seed)</c> in forward order: Kaiming-normal
    /// (fan-in as PyTorch computes it) weights, γ as docs/science.md §1.
    /// </summary>
    public BiasFreeUnet(int blocks, int width, int channels, ComputeBackend backend, long seed)
        : base(new NetworkSpec(NetworkArchitecture.Unet, blocks, width), channels, backend)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var inner = InnerLayout;
        const TensorLayout Image = TensorLayout.Nchw;
        const StageActivation BnRelu = StageActivation.BatchNormRelu;
        var widths = Enumerable.Range(0, blocks).Select(b => width << b).ToArray();
        _encoders = new ConvStage[blocks][];
        _pools = new AvgPool2d[blocks];
        for (int b = 0; b < blocks; b++)
        {
            int cin = b == 0 ? channels : widths[b - 1];
            _encoders[b] =
            [
                new ConvStage($"enc{b}", cin, widths[b], b == 0 ? Image : inner, inner, b == 0 ? StageActivation.Relu : BnRelu, backend, "conv1", "bn1"),
                new ConvStage($"enc{b}", widths[b], widths[b], inner, inner, BnRelu, backend, "conv2", "bn2"),
            ];
            _pools[b] = new AvgPool2d($"pool{b}", backend);
        }
        int mid = 2 * widths[^1];
        _mid =
        [
            new ConvStage("mid", widths[^1], mid, inner, inner, BnRelu, backend, "conv1", "bn1"),
            new ConvStage("mid", mid, mid, inner, inner, BnRelu, backend, "conv2", "bn2"),
        ];
        _ups = new ConvTranspose2d[blocks];
        _concats = new Concat[blocks];
        _decoders = new ConvStage[blocks][];
        for (int b = blocks - 1; b >= 0; b--)
        {
            int below = b == blocks - 1 ? mid : widths[b + 1];
            _ups[b] = new ConvTranspose2d($"up{b}", below, widths[b], inner, inner, backend);
            _concats[b] = new Concat($"cat{b}", backend);
            _decoders[b] =
            [
                new ConvStage($"dec{b}", 2 * widths[b], widths[b], inner, inner, BnRelu, backend, "conv1", "bn1"),
                b == 0
                    ? new ConvStage("dec0", widths[0], channels, inner, Image, StageActivation.None, backend, "conv2", "bn2")
                    : new ConvStage($"dec{b}", widths[b], widths[b], inner, inner, BnRelu, backend, "conv2", "bn2"),
            ];
        }
        // Convolution input gradients alternate between two shared caches in backward order (each is consumed
        // by the next layer back: batch norm in place, concat split into its own buffers, pooling, convolution).
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

        var rng = new DeterministicRng(seed);
        var parameters = new List<Parameter>();
        var buffers = new List<NamedTensor>();
        void Add(ConvStage s)
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
            foreach (var s in _decoders[b]) Add(s);
        }
        Parameters = parameters;
        Buffers = buffers;
        ConvolutionLayers = Stages.Select(s => (ConvolutionLayer)s.Conv).Concat(_ups).ToArray();
    }

    /// <inheritdoc />
    public override IReadOnlyList<ConvolutionLayer> ConvolutionLayers { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public override IReadOnlyList<NamedTensor> Buffers { get; }

    private IEnumerable<ConvStage> Stages => _encoders.SelectMany(e => e).Concat(_mid).Concat(_decoders.SelectMany(d => d));

    /// <inheritdoc />
    protected override Tensor Run(Tensor x, LayerMode mode)
    {
        var h = x;
        for (int b = 0; b < _encoders.Length; b++)
        {
            foreach (var s in _encoders[b]) h = s.Forward(h, mode);
            _skips[b] = h;
            h = _pools[b].Forward(h);
        }
        foreach (var s in _mid) h = s.Forward(h, mode);
        for (int b = _encoders.Length - 1; b >= 0; b--)
        {
            h = _concats[b].Forward(_ups[b].Forward(h), _skips[b]);
            foreach (var s in _decoders[b]) h = s.Forward(h, mode);
        }
        return h;
    }

    /// <inheritdoc />
    protected override Tensor? RunBackward(Tensor gradResidual, LayerMode mode, bool parameterGradients, bool inputGradient)
    {
        int blocks = _encoders.Length;
        var skipGradients = _skipGradients;
        var g = gradResidual;
        for (int b = 0; b < blocks; b++)
        {
            g = _decoders[b][1].Backward(g, mode, parameterGradients)!;
            g = _decoders[b][0].Backward(g, mode, parameterGradients)!;
            var (up, skip) = _concats[b].Backward(g);
            skipGradients[b] = skip;
            g = _ups[b].Backward(up, parameterGradients)!;
        }
        g = _mid[1].Backward(g, mode, parameterGradients)!;
        g = _mid[0].Backward(g, mode, parameterGradients)!;
        Tensor? result = null;
        for (int b = blocks - 1; b >= 0; b--)
        {
            g = _pools[b].Backward(g);
            Backend.Add(g, skipGradients[b], g);
            g = _encoders[b][1].Backward(g, mode, parameterGradients)!;
            result = _encoders[b][0].Backward(g, mode, parameterGradients, inputGradient: b > 0 || inputGradient);
            if (result is not null) g = result;
        }
        return result;
    }

    /// <inheritdoc />
    protected override void FreezeMasks()
    {
        foreach (var s in Stages) s.FreezeMask();
    }

    /// <inheritdoc />
    public override void ReleaseBuffers()
    {
        foreach (var s in Stages) s.ReleaseBuffers();
        foreach (var p in _pools) p.ReleaseBuffers();
        foreach (var u in _ups) u.ReleaseBuffers();
        foreach (var c in _concats) c.ReleaseBuffers();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (!disposing) return;
        foreach (var s in Stages) s.Dispose();
        foreach (var u in _ups) u.Dispose();
    }
}
