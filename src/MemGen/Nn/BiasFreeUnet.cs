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
    private readonly UnetBody<ConvStage> _body;

    /// <summary>
    /// Builds the network on <paramref name="backend"/> and initializes it from <c>DeterministicRng(seed)</c> in forward order: Kaiming-normal
    /// (fan-in as PyTorch computes it) weights, γ as docs/science.md §1.
    /// </summary>
    public BiasFreeUnet(int blocks, int width, int channels, ComputeBackend backend, long seed)
        : base(new NetworkSpec(NetworkArchitecture.Unet, blocks, width), channels, backend)
    {
        _body = new UnetBody<ConvStage>(blocks, width, channels, InnerLayout, backend,
            (prefix, cin, cout, inLayout, outLayout, position, conv, norm) => new ConvStage(prefix, cin, cout, inLayout, outLayout, position switch
            {
                UnetStagePosition.First => StageActivation.Relu,
                UnetStagePosition.Last => StageActivation.None,
                _ => StageActivation.BatchNormRelu,
            }, backend, conv, norm), upBiases: false);
        var parameters = new List<Parameter>();
        var buffers = new List<NamedTensor>();
        _body.Initialize(new DeterministicRng(seed), parameters, buffers);
        Parameters = parameters;
        Buffers = buffers;
    }

    /// <inheritdoc />
    public override IReadOnlyList<ConvolutionLayer> ConvolutionLayers => _body.ConvolutionLayers;

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public override IReadOnlyList<NamedTensor> Buffers { get; }

    /// <inheritdoc />
    protected override Tensor Run(Tensor x, LayerMode mode) => _body.Forward(x, mode);

    /// <inheritdoc />
    protected override Tensor? RunBackward(Tensor gradResidual, LayerMode mode, bool parameterGradients, bool inputGradient) =>
        _body.Backward(gradResidual, mode, parameterGradients, inputGradient);

    /// <inheritdoc />
    protected override void FreezeMasks() => _body.FreezeMasks();

    /// <inheritdoc />
    public override void ReleaseBuffers() => _body.ReleaseBuffers();

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _body.Dispose();
    }
}
