using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// Bias-free batch norm (docs/science.md §1), optionally fused with the ReLU that follows it.
/// Training: sd_c = sqrt(var_{N,H,W}(x_c) + 1e-5) (biased), y = x/sd_c·γ_c, running_sd ← 0.9·running_sd + 0.1·sd_c.
/// Evaluation: y = x/running_sd_c·γ_c. No mean subtraction, no additive term. With <see cref="FusedRelu"/> the
/// output is max(0, ·) in the same pass (and the backward pass gates on the output). The arithmetic runs in the
/// backend's <see cref="BatchNormKernels"/>; this layer holds γ, the running sd, the frozen mask and the bookkeeping.
/// </summary>
public sealed class BiasFreeBatchNorm
{
    /// <summary>Added to the variance.</summary>
    public const double Epsilon = BatchNormKernels.Epsilon;

    /// <summary>Weight of the new batch sd in the running sd.</summary>
    public const double Momentum = BatchNormKernels.Momentum;

    private readonly TensorCache _outputs;
    private readonly FrozenMask _frozen;
    private readonly BatchNormKernels _kernels;
    private Tensor? _input, _output;
    private LayerMode? _lastMode;

    /// <summary>Creates the layer on <paramref name="backend"/> with γ = 1 and running sd = 1; see <see cref="InitializeGamma"/>.</summary>
    public BiasFreeBatchNorm(string name, int channels, bool fusedRelu, ComputeBackend backend)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentNullException.ThrowIfNull(backend);
        Name = name;
        Channels = channels;
        FusedRelu = fusedRelu;
        var ones = new float[channels];
        Array.Fill(ones, 1f);
        var gamma = backend.Zeros(channels);
        gamma.CopyFrom(ones);
        Gamma = new Parameter(name + ".gamma", gamma);
        var running = backend.Zeros(channels);
        running.CopyFrom(ones);
        RunningSd = new NamedTensor(name + ".running_sd", running);
        _frozen = new FrozenMask(name, backend);
        _outputs = new TensorCache(backend);
        _kernels = backend.BatchNorm(channels, fusedRelu);
    }

    /// <summary>Layer name (prefix of its parameter and buffer names).</summary>
    public string Name { get; }

    /// <summary>Channels.</summary>
    public int Channels { get; }

    /// <summary>Whether a ReLU is applied in the same pass.</summary>
    public bool FusedRelu { get; }

    /// <summary>γ and its gradient ("name.gamma").</summary>
    public Parameter Gamma { get; }

    /// <summary>Running sd ("name.running_sd"), updated by training passes.</summary>
    public NamedTensor RunningSd { get; }

    /// <summary>γ ← clamp(N(0,1)·2/9/64, −0.025, 0.025) (docs/science.md §1, the reference code's init).</summary>
    public void InitializeGamma(DeterministicRng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        var g = new float[Channels];
        for (int c = 0; c < g.Length; c++) g[c] = (float)Math.Clamp(rng.NextNormal() * 2.0 / 9.0 / 64.0, -0.025, 0.025);
        Gamma.Value.CopyFrom(g);
    }

    /// <summary>Normalizes <paramref name="x"/> (any layout) into a layer-owned buffer.</summary>
    public Tensor Forward(Tensor x, LayerMode mode)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4 || x.C != Channels) throw new ArgumentException($"{Name}: input must have {Channels} channels, got [{x.ShapeString}].");
        var y = _outputs.Get(x.N, x.C, x.H, x.W, x.Layout);
        if (mode == LayerMode.Training) _kernels.TrainingForward(x, Gamma.Value, RunningSd.Value, y);
        else if (mode == LayerMode.Evaluation) _kernels.EvaluationForward(x, Gamma.Value, RunningSd.Value, y);
        else _kernels.Linearized(x, Gamma.Value, RunningSd.Value, FusedRelu ? _frozen.For(x) : null, y);
        (_input, _output, _lastMode) = (x, y, mode);
        return y;
    }

    /// <summary>
    /// Back-propagates <paramref name="dy"/> through the last Forward in <paramref name="mode"/> (Training and
    /// Evaluation need that Forward, unchanged; Linearized needs only the frozen mask). Writes dγ (overwriting)
    /// when <paramref name="parameterGradients"/> (not in Linearized mode). dx is computed in place: it
    /// overwrites <paramref name="dy"/>, which is returned (saves a buffer per layer).
    /// </summary>
    public Tensor Backward(Tensor dy, LayerMode mode, bool parameterGradients)
    {
        ArgumentNullException.ThrowIfNull(dy);
        var dx = dy;
        if (mode == LayerMode.Linearized)
        {
            if (parameterGradients) throw new ArgumentException($"{Name}: a linearized Backward computes no parameter gradients.");
            _kernels.Linearized(dy, Gamma.Value, RunningSd.Value, FusedRelu ? _frozen.For(dy) : null, dx);
            return dx;
        }
        if (_lastMode != mode || _input is null || _output is null || !_input.SameShape(dy) || _input.Layout != dy.Layout)
            throw new InvalidOperationException($"{Name}: Backward in {mode} mode needs a {mode} Forward of the same shape first.");
        var gammaGradient = parameterGradients ? Gamma.Gradient : null;
        if (mode == LayerMode.Evaluation) _kernels.EvaluationBackward(dy, _input, _output, Gamma.Value, RunningSd.Value, gammaGradient, dx);
        else _kernels.TrainingBackward(dy, _input, _output, Gamma.Value, gammaGradient, dx);
        return dx;
    }

    /// <summary>Freezes the ReLU switch pattern of the last Forward (fused ReLU only; a no-op otherwise).</summary>
    public void FreezeMask()
    {
        if (!FusedRelu) return;
        if (_output is null) throw new InvalidOperationException($"{Name}: FreezeMask needs a Forward first.");
        _frozen.Freeze(_output);
    }

    /// <summary>Drops the cached buffers.</summary>
    public void ReleaseBuffers()
    {
        _outputs.Clear();
        (_input, _output, _lastMode) = (null, null, null);
    }
}
