using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// The machinery shared by <see cref="BfCnn"/>, <see cref="BiasFreeUnet"/> and <see cref="ConditionedUnet"/>: input checks,
/// the noise levels of conditioned networks (<see cref="Condition"/>), the mode of the last forward pass, gradients with
/// respect to the input, and linearization (<see cref="LinearizeAt(Tensor, ReadOnlySpan{float})"/>).
/// Activations inside the network use the backend's activation layout (<see cref="InnerLayout"/>; the CPU backend's
/// blocked nChw16c when the width is a multiple of 16); images enter and the residual leaves in plain NCHW. Inputs may
/// be host tensors (copied into the backend's memory at the edge); outputs stay in the backend's memory.
/// </summary>
public abstract class LayeredNetwork : DenoisingNetwork
{
    /// <summary>Input shapes whose activation buffers may be cached at once (see <see cref="Admit"/>).</summary>
    public const int CachedInputShapes = 4;

    private readonly List<(int N, int H, int W)> _inputShapes = [];
    private LayerMode? _lastForward;
    private int _lastBatch, _lastHeight, _lastWidth;
    private int _linearization;
    private readonly TensorCache _stagedInputs, _stagedGradients;

    /// <summary>Records the spec, channel count and backend.</summary>
    protected LayeredNetwork(NetworkSpec spec, int channels, ComputeBackend backend)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentNullException.ThrowIfNull(backend);
        Spec = spec;
        Channels = channels;
        Backend = backend;
        InnerLayout = backend.ActivationLayout(spec.Width);
        (_stagedInputs, _stagedGradients) = (new TensorCache(backend), new TensorCache(backend));
    }

    /// <inheritdoc />
    public sealed override ComputeBackend Backend { get; }

    /// <inheritdoc />
    public sealed override NetworkSpec Spec { get; }

    /// <inheritdoc />
    public sealed override int Channels { get; }

    /// <summary>Layout of the hidden activations.</summary>
    public TensorLayout InnerLayout { get; }

    /// <inheritdoc />
    public sealed override Tensor Forward(Tensor noisy, bool training) => Forward(noisy, [], training);

    /// <inheritdoc />
    public sealed override Tensor Forward(Tensor noisy, ReadOnlySpan<float> sigmas, bool training)
    {
        CheckInput(noisy, nameof(noisy));
        CheckSigmas(noisy, sigmas);
        var mode = training ? LayerMode.Training : LayerMode.Evaluation;
        _lastForward = null;
        Admit(noisy);
        Condition(sigmas, mode);
        var r = Run(Resident(noisy, _stagedInputs), mode);
        (_lastForward, _lastBatch, _lastHeight, _lastWidth) = (mode, noisy.N, noisy.H, noisy.W);
        return r;
    }

    /// <summary>
    /// Back-propagates dLoss/dr through the last Forward (training or evaluation mode). Overwrites every
    /// <see cref="Parameter.Gradient"/>; when <paramref name="gradInput"/> is given, also writes dLoss/dy into it.
    /// </summary>
    public sealed override void Backward(Tensor gradResidual, Tensor? gradInput = null)
    {
        ArgumentNullException.ThrowIfNull(gradResidual);
        if (_lastForward is not (LayerMode.Training or LayerMode.Evaluation))
            throw new InvalidOperationException($"{Spec}: Backward needs a Forward first (a linearized pass in between overwrites its activations).");
        RequireImageShape(gradResidual, nameof(gradResidual), _lastBatch, _lastHeight, _lastWidth);
        if (gradInput is not null) RequireImageShape(gradInput, nameof(gradInput), _lastBatch, _lastHeight, _lastWidth);
        var dx = RunBackward(Resident(gradResidual, _stagedGradients), _lastForward.Value, parameterGradients: true, inputGradient: gradInput is not null);
        if (gradInput is not null) dx!.Storage.CopyTo(gradInput.Storage);
    }

    /// <summary>
    /// Runs the evaluation-mode network at <paramref name="noisy"/> and freezes every ReLU switch pattern (or smooth
    /// activation's derivative, and a conditioned network's noise levels) there (batch-norm scales are the running ones in
    /// evaluation mode anyway). The result computes exact
    /// Jacobian-vector products at that point. A later LinearizeAt on this network invalidates it.
    /// <paramref name="noisy"/> may hold one image (then any number of vectors can be pushed at once) or a batch
    /// (then vectors come in batches of the same size, item i linearized at image i).
    /// </summary>
    public sealed override LinearizedNetwork LinearizeAt(Tensor noisy) => LinearizeAt(noisy, []);

    /// <inheritdoc />
    public sealed override LinearizedNetwork LinearizeAt(Tensor noisy, ReadOnlySpan<float> sigmas)
    {
        CheckInput(noisy, nameof(noisy));
        CheckSigmas(noisy, sigmas);
        _lastForward = null;
        Admit(noisy);
        Condition(sigmas, LayerMode.Evaluation);
        var point = Backend.ToBackend(noisy);
        var r = Run(point, LayerMode.Evaluation);
        FreezeMasks();
        (_lastForward, _lastBatch, _lastHeight, _lastWidth) = (LayerMode.Evaluation, noisy.N, noisy.H, noisy.W);
        _linearization++;
        return new LinearizedNetwork(this, _linearization, point, r.Clone());
    }

    /// <summary>J_r·v for a linearization (called by <see cref="LinearizedNetwork"/>).</summary>
    internal Tensor RunLinearized(Tensor v, int linearization, LinearizedNetwork owner)
    {
        RequireCurrent(linearization, owner, v);
        _lastForward = LayerMode.Linearized;
        Admit(v);
        return Run(Resident(v, _stagedInputs), LayerMode.Linearized);
    }

    /// <summary>J_rᵀ·u for a linearization (called by <see cref="LinearizedNetwork"/>).</summary>
    internal Tensor RunLinearizedBackward(Tensor u, int linearization, LinearizedNetwork owner)
    {
        RequireCurrent(linearization, owner, u);
        return RunBackward(Resident(u, _stagedGradients), LayerMode.Linearized, parameterGradients: false, inputGradient: true)!;
    }

    /// <summary>Every convolution layer of the network.</summary>
    public abstract IReadOnlyList<ConvolutionLayer> ConvolutionLayers { get; }

    /// <summary>
    /// Direct-convolution FLOPs of the last forward pass (all convolution layers). A training step costs about
    /// three times this (forward, backward-data, backward-weights), the convention of <c>memgen bench</c>.
    /// </summary>
    public double LastForwardConvolutionFlops => ConvolutionLayers.Sum(c => c.LastForwardFlops);

    /// <summary>The residual r(x) of a batch in plain NCHW (a network-owned buffer).</summary>
    protected abstract Tensor Run(Tensor x, LayerMode mode);

    /// <summary>
    /// Prepares the pass that follows for the batch's noise levels (checked: one per image, finite, ≥ 0, for a conditioned
    /// network; possibly empty for a blind one, which ignores them). <see cref="FreezeMasks"/> freezes what it set up.
    /// </summary>
    protected virtual void Condition(ReadOnlySpan<float> sigmas, LayerMode mode)
    {
    }

    /// <summary>Back-propagates dr; returns dLoss/dx (plain NCHW, network-owned) when <paramref name="inputGradient"/>.</summary>
    protected abstract Tensor? RunBackward(Tensor gradResidual, LayerMode mode, bool parameterGradients, bool inputGradient);

    /// <summary>Freezes the switch pattern of every ReLU at the last forward pass.</summary>
    protected abstract void FreezeMasks();

    /// <summary>Drops every cached activation buffer (they are reallocated on demand); parameters stay.</summary>
    public abstract void ReleaseBuffers();

    /// <summary>
    /// Buffers are cached per input shape; a caller cycling through many batch sizes (a sampler whose images
    /// stop one by one) would otherwise keep a full set of activations for each. When a shape beyond the last
    /// <see cref="CachedInputShapes"/> arrives, every buffer is dropped and the new shape starts afresh.
    /// </summary>
    private void Admit(Tensor x)
    {
        var shape = (x.N, x.H, x.W);
        int at = _inputShapes.IndexOf(shape);
        if (at >= 0)
        {
            _inputShapes.RemoveAt(at);
        }
        else if (_inputShapes.Count >= CachedInputShapes)
        {
            ReleaseBuffers();
            _stagedInputs.Clear();
            _stagedGradients.Clear();
            _inputShapes.Clear();
        }
        _inputShapes.Add(shape);
    }

    /// <summary><paramref name="x"/> itself when it is in the backend's memory, else a copy of it in a staging buffer there.</summary>
    private Tensor Resident(Tensor x, TensorCache staging)
    {
        if (Backend.Holds(x)) return x;
        var staged = staging.Get(x.N, x.C, x.H, x.W, x.Layout);
        x.Storage.CopyTo(staged.Storage);
        return staged;
    }

    private void RequireCurrent(int linearization, LinearizedNetwork owner, Tensor t)
    {
        if (linearization != _linearization)
            throw new InvalidOperationException($"{Spec}: this linearization is stale (the network was linearized again since).");
        RequireImageShape(t, "vector", owner.Point.N == 1 ? t.N : owner.Point.N, owner.Point.H, owner.Point.W);
    }

    private void CheckSigmas(Tensor noisy, ReadOnlySpan<float> sigmas)
    {
        if (!IsConditioned) return;
        if (sigmas.Length != noisy.N)
            throw new ArgumentException($"{Spec}: a noise-conditioned network needs one noise level per image, got {sigmas.Length} for {noisy.N} images.", nameof(sigmas));
        foreach (var s in sigmas)
            if (!(s >= 0) || !float.IsFinite(s))
                throw new ArgumentException($"{Spec}: noise levels must be finite and non-negative, got {s}.", nameof(sigmas));
    }

    private void CheckInput(Tensor noisy, string name)
    {
        ArgumentNullException.ThrowIfNull(noisy, name);
        if (noisy.Rank != 4 || noisy.C != Channels || noisy.Layout != TensorLayout.Nchw)
            throw new ArgumentException($"{Spec}: {name} must be plain [N,{Channels},H,W], got [{noisy.ShapeString}] {noisy.Layout}.", name);
        CheckImageSize(noisy.H, noisy.W);
    }

    private void RequireImageShape(Tensor t, string name, int n, int h, int w)
    {
        if (t.Rank != 4 || t.N != n || t.C != Channels || t.H != h || t.W != w || t.Layout != TensorLayout.Nchw)
            throw new ArgumentException($"{Spec}: {name} must be plain [{n},{Channels},{h},{w}], got [{t.ShapeString}] {t.Layout}.", name);
    }
}
