using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>Where a stage sits in the UNet, which decides its activation: the very first, any inner one, or the very last.</summary>
internal enum UnetStagePosition
{
    /// <summary>enc0.conv1: the image goes in (no normalization).</summary>
    First,

    /// <summary>Every other stage: normalization and activation.</summary>
    Inner,

    /// <summary>dec0.conv2: the image comes out (linear, no normalization).</summary>
    Last,
}

/// <summary>
/// The UNet wiring that <see cref="BiasFreeUnet"/> and <see cref="ConditionedUnet"/> share (docs/science.md §1.4, §9.3):
/// B encoder blocks of width K·2^b, a mid block of width 2·K·2^(B−1), B decoder blocks, each two stages; 2×2 average
/// pooling down, 2×2 stride-2 transposed convolutions up (optionally followed by a per-channel bias), skips by
/// cat([upsampled, encoder output before pooling]). Names: "enc{b}.conv1|bn1|conv2|bn2", "mid.*", "up{b}", "dec{b}.*".
/// Initialization consumes the generator in forward order (encoders, mid, then per decoder block from the bottom: the
/// transposed convolution, then its stages), which fixes the weights of a seed.
/// </summary>
internal sealed class UnetBody<TStage> : IDisposable where TStage : IConvStage
{
    /// <summary>Builds one stage: prefix ("enc0"), in and out channels, layouts, position, conv and norm names.</summary>
    public delegate TStage StageFactory(string prefix, int inChannels, int outChannels, TensorLayout inLayout, TensorLayout outLayout,
        UnetStagePosition position, string conv, string norm);

    private readonly TStage[][] _encoders;
    private readonly AvgPool2d[] _pools;
    private readonly TStage[] _mid;
    private readonly ConvTranspose2d[] _ups;
    private readonly ChannelBias[]? _upBiases;
    private readonly Concat[] _concats;
    private readonly TStage[][] _decoders;
    private readonly Tensor[] _skips;
    private readonly Tensor[] _skipGradients;
    private readonly ComputeBackend _backend;

    /// <summary>Builds the layers (uninitialized); <paramref name="upBiases"/> adds a bias after each transposed convolution.</summary>
    public UnetBody(int blocks, int width, int channels, TensorLayout inner, ComputeBackend backend, StageFactory stage, bool upBiases)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(blocks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        _backend = backend;
        const TensorLayout Image = TensorLayout.Nchw;
        var widths = Enumerable.Range(0, blocks).Select(b => width << b).ToArray();
        _encoders = new TStage[blocks][];
        _pools = new AvgPool2d[blocks];
        for (int b = 0; b < blocks; b++)
        {
            int cin = b == 0 ? channels : widths[b - 1];
            _encoders[b] =
            [
                stage($"enc{b}", cin, widths[b], b == 0 ? Image : inner, inner, b == 0 ? UnetStagePosition.First : UnetStagePosition.Inner, "conv1", "bn1"),
                stage($"enc{b}", widths[b], widths[b], inner, inner, UnetStagePosition.Inner, "conv2", "bn2"),
            ];
            _pools[b] = new AvgPool2d($"pool{b}", backend);
        }
        int mid = 2 * widths[^1];
        _mid =
        [
            stage("mid", widths[^1], mid, inner, inner, UnetStagePosition.Inner, "conv1", "bn1"),
            stage("mid", mid, mid, inner, inner, UnetStagePosition.Inner, "conv2", "bn2"),
        ];
        _ups = new ConvTranspose2d[blocks];
        _upBiases = upBiases ? new ChannelBias[blocks] : null;
        _concats = new Concat[blocks];
        _decoders = new TStage[blocks][];
        for (int b = blocks - 1; b >= 0; b--)
        {
            int below = b == blocks - 1 ? mid : widths[b + 1];
            _ups[b] = new ConvTranspose2d($"up{b}", below, widths[b], inner, inner, backend);
            if (_upBiases is not null) _upBiases[b] = new ChannelBias($"up{b}", widths[b], backend);
            _concats[b] = new Concat($"cat{b}", backend);
            _decoders[b] =
            [
                stage($"dec{b}", 2 * widths[b], widths[b], inner, inner, UnetStagePosition.Inner, "conv1", "bn1"),
                b == 0
                    ? stage("dec0", widths[0], channels, inner, Image, UnetStagePosition.Last, "conv2", "bn2")
                    : stage($"dec{b}", widths[b], widths[b], inner, inner, UnetStagePosition.Inner, "conv2", "bn2"),
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
        ConvolutionLayers = Stages.Select(s => (ConvolutionLayer)s.Conv).Concat(_ups).ToArray();
    }

    /// <summary>Every stage: encoders, mid, decoders (top block first).</summary>
    public IEnumerable<TStage> Stages => _encoders.SelectMany(e => e).Concat(_mid).Concat(_decoders.SelectMany(d => d));

    /// <summary>The convolutions of the stages, then the transposed convolutions.</summary>
    public IReadOnlyList<ConvolutionLayer> ConvolutionLayers { get; }

    /// <summary>Initializes in forward order from <paramref name="rng"/> and appends the tensors in checkpoint order.</summary>
    public void Initialize(DeterministicRng rng, List<Parameter> parameters, List<NamedTensor> buffers)
    {
        void Add(TStage s)
        {
            s.Initialize(rng);
            parameters.AddRange(s.Parameters);
            buffers.AddRange(s.Buffers);
        }
        foreach (var encoder in _encoders) foreach (var s in encoder) Add(s);
        foreach (var s in _mid) Add(s);
        for (int b = _ups.Length - 1; b >= 0; b--)
        {
            _ups[b].InitializeKaiming(rng);
            parameters.Add(_ups[b].Weight);
            if (_upBiases is not null) parameters.Add(_upBiases[b].Bias);
            foreach (var s in _decoders[b]) Add(s);
        }
    }

    /// <summary>The body applied to <paramref name="x"/>.</summary>
    public Tensor Forward(Tensor x, LayerMode mode)
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
            var up = _ups[b].Forward(h);
            if (_upBiases is not null) up = _upBiases[b].Forward(up, mode);
            h = _concats[b].Forward(up, _skips[b]);
            foreach (var s in _decoders[b]) h = s.Forward(h, mode);
        }
        return h;
    }

    /// <summary>Back-propagates <paramref name="gradOutput"/> through the body; returns its input gradient (null when not asked for).</summary>
    public Tensor? Backward(Tensor gradOutput, LayerMode mode, bool parameterGradients, bool inputGradient)
    {
        int blocks = _encoders.Length;
        var g = gradOutput;
        for (int b = 0; b < blocks; b++)
        {
            g = _decoders[b][1].Backward(g, mode, parameterGradients)!;
            g = _decoders[b][0].Backward(g, mode, parameterGradients)!;
            var (up, skip) = _concats[b].Backward(g);
            _skipGradients[b] = skip;
            if (_upBiases is not null) up = _upBiases[b].Backward(up, parameterGradients);
            g = _ups[b].Backward(up, parameterGradients)!;
        }
        g = _mid[1].Backward(g, mode, parameterGradients)!;
        g = _mid[0].Backward(g, mode, parameterGradients)!;
        Tensor? result = null;
        for (int b = blocks - 1; b >= 0; b--)
        {
            g = _pools[b].Backward(g);
            _backend.Add(g, _skipGradients[b], g);
            g = _encoders[b][1].Backward(g, mode, parameterGradients)!;
            result = _encoders[b][0].Backward(g, mode, parameterGradients, inputGradient: b > 0 || inputGradient);
            if (result is not null) g = result;
        }
        return result;
    }

    /// <summary>Freezes every stage's activation masks.</summary>
    public void FreezeMasks()
    {
        foreach (var s in Stages) s.FreezeMask();
    }

    /// <summary>Frees the buffers kept between forward and backward.</summary>
    public void ReleaseBuffers()
    {
        foreach (var s in Stages) s.ReleaseBuffers();
        foreach (var p in _pools) p.ReleaseBuffers();
        foreach (var u in _ups) u.ReleaseBuffers();
        foreach (var c in _concats) c.ReleaseBuffers();
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var s in Stages) s.Dispose();
        foreach (var u in _ups) u.Dispose();
    }
}
