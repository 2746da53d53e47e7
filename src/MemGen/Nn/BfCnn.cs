using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// BF-CNN (docs/science.md §1, DnCNN without biases): conv(C→K) + ReLU, then L−2 × [conv(K→K), BF-BN, ReLU], then
/// conv(K→C), linear. Predicts the residual. Layers are named "layer{i}.conv", "layer{i}.bn", "layer0.relu".
/// </summary>
public sealed class BfCnn : LayeredNetwork
{
    private readonly ConvStage[] _stages;

    /// <summary>Builds the network on <paramref name="backend"/> and initializes it from <c>DeterministicRng(seed)</c>: Kaiming-normal (fan-in) weights and γ, layer by layer.</summary>
    public BfCnn(int layers, int width, int channels, ComputeBackend backend, long seed)
        : base(new NetworkSpec(NetworkArchitecture.BfCnn, layers, width), channels, backend)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(layers, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var inner = InnerLayout;
        const TensorLayout Image = TensorLayout.Nchw;
        _stages = new ConvStage[layers];
        _stages[0] = new ConvStage("layer0", channels, width, Image, inner, StageActivation.Relu, backend);
        for (int i = 1; i < layers - 1; i++)
            _stages[i] = new ConvStage($"layer{i}", width, width, inner, inner, StageActivation.BatchNormRelu, backend);
        _stages[layers - 1] = new ConvStage($"layer{layers - 1}", width, channels, inner, Image, StageActivation.None, backend);
        // Gradients flow back through the stages one after the other: two alternating buffers suffice.
        var shared = new[] { new TensorCache(backend), new TensorCache(backend) };
        for (int i = 0; i < layers; i++) _stages[i].ShareInputGradients(shared[i % 2]);
        var rng = new DeterministicRng(seed);
        foreach (var stage in _stages) stage.Initialize(rng);
        Parameters = _stages.SelectMany(s => s.Parameters).ToArray();
        Buffers = _stages.SelectMany(s => s.Buffers).ToArray();
        ConvolutionLayers = _stages.Select(s => (ConvolutionLayer)s.Conv).ToArray();
    }

    /// <inheritdoc />
    public override IReadOnlyList<ConvolutionLayer> ConvolutionLayers { get; }

    /// <inheritdoc />
    public override IReadOnlyList<Parameter> Parameters { get; }

    /// <inheritdoc />
    public override IReadOnlyList<NamedTensor> Buffers { get; }

    /// <inheritdoc />
    protected override Tensor Run(Tensor x, LayerMode mode)
    {
        var h = x;
        foreach (var stage in _stages) h = stage.Forward(h, mode);
        return h;
    }

    /// <inheritdoc />
    protected override Tensor? RunBackward(Tensor gradResidual, LayerMode mode, bool parameterGradients, bool inputGradient)
    {
        var g = gradResidual;
        for (int i = _stages.Length - 1; i >= 0; i--)
            g = _stages[i].Backward(g!, mode, parameterGradients, inputGradient: i > 0 || inputGradient);
        return g;
    }

    /// <inheritdoc />
    protected override void FreezeMasks()
    {
        foreach (var stage in _stages) stage.FreezeMask();
    }

    /// <inheritdoc />
    public override void ReleaseBuffers()
    {
        foreach (var stage in _stages) stage.ReleaseBuffers();
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing)
            foreach (var stage in _stages) stage.Dispose();
    }
}
