using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// Bias-free batch norm (docs/science.md §1), optionally fused with the ReLU that follows it.
/// Training: sd_c = sqrt(var_{N,H,W}(x_c) + 1e-5) (biased), y = x/sd_c·γ_c, running_sd ← 0.9·running_sd + 0.1·sd_c.
/// Evaluation: y = x/running_sd_c·γ_c. No mean subtraction, no additive term. With <see cref="FusedRelu"/> the
/// output is max(0, ·) in the same pass (and the backward pass gates on the output).
/// </summary>
public sealed class BiasFreeBatchNorm
{
    /// <summary>Added to the variance.</summary>
    public const double Epsilon = 1e-5;

    /// <summary>Weight of the new batch sd in the running sd.</summary>
    public const double Momentum = 0.1;

    private readonly TensorCache _outputs = new();
    private readonly FrozenMask _frozen;
    private readonly double[] _sum, _sumSquares, _dots;
    private readonly float[] _scale, _evalScale, _sd, _k, _b;
    private Tensor? _input, _output;
    private LayerMode? _lastMode;

    /// <summary>Creates the layer with γ = 1 and running sd = 1; see <see cref="InitializeGamma"/>.</summary>
    public BiasFreeBatchNorm(string name, int channels, bool fusedRelu)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        Name = name;
        Channels = channels;
        FusedRelu = fusedRelu;
        var gamma = new Tensor(channels);
        gamma.Span.Fill(1f);
        Gamma = new Parameter(name + ".gamma", gamma);
        var running = new Tensor(channels);
        running.Span.Fill(1f);
        RunningSd = new NamedTensor(name + ".running_sd", running);
        _frozen = new FrozenMask(name);
        // Per-channel scratch, padded to whole 16-lane blocks for the blocked kernels.
        int padded = (channels + TensorLayouts.BlockSize - 1) / TensorLayouts.BlockSize * TensorLayouts.BlockSize;
        (_sum, _sumSquares, _dots) = (new double[channels], new double[channels], new double[channels]);
        (_scale, _evalScale, _sd, _k, _b) = (new float[padded], new float[padded], new float[padded], new float[padded], new float[padded]);
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
        var g = Gamma.Value.Span;
        for (int c = 0; c < g.Length; c++) g[c] = (float)Math.Clamp(rng.NextNormal() * 2.0 / 9.0 / 64.0, -0.025, 0.025);
    }

    /// <summary>Normalizes <paramref name="x"/> (any layout) into a layer-owned buffer.</summary>
    public Tensor Forward(Tensor x, LayerMode mode)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4 || x.C != Channels) throw new ArgumentException($"{Name}: input must have {Channels} channels, got [{x.ShapeString}].");
        var y = _outputs.Get(x.N, x.C, x.H, x.W, x.Layout);
        var gamma = Gamma.Value.Span;
        var running = RunningSd.Value.Span;
        if (mode == LayerMode.Training)
        {
            ChannelKernels.Moments(x, _sum, _sumSquares);
            double count = (double)x.N * x.H * x.W;
            for (int c = 0; c < Channels; c++)
            {
                double mean = _sum[c] / count;
                double variance = Math.Max(_sumSquares[c] / count - mean * mean, 0);
                double sd = Math.Sqrt(variance + Epsilon);
                _sd[c] = (float)sd;
                _sum[c] = mean;
                _scale[c] = (float)(gamma[c] / sd);
                running[c] = (float)((1 - Momentum) * running[c] + Momentum * sd);
            }
        }
        else
        {
            for (int c = 0; c < Channels; c++) _scale[c] = gamma[c] / running[c];
        }
        if (mode == LayerMode.Linearized && FusedRelu) ChannelKernels.ScaleGated(x, _scale, _frozen.For(x), gateIsMask: true, y);
        else ChannelKernels.Scale(x, _scale, y, FusedRelu);
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
        var gamma = Gamma.Value.Span;
        var running = RunningSd.Value.Span;
        if (mode == LayerMode.Linearized)
        {
            if (parameterGradients) throw new ArgumentException($"{Name}: a linearized Backward computes no parameter gradients.");
            for (int c = 0; c < Channels; c++) _evalScale[c] = gamma[c] / running[c];
            ChannelKernels.ScaleGated(dy, _evalScale, FusedRelu ? _frozen.For(dy) : null, gateIsMask: true, dx);
            return dx;
        }
        if (_lastMode != mode || _input is null || _output is null || !_input.SameShape(dy) || _input.Layout != dy.Layout)
            throw new InvalidOperationException($"{Name}: Backward in {mode} mode needs a {mode} Forward of the same shape first.");
        var gate = FusedRelu ? _output : null;
        var g = Gamma.Gradient.Span;
        if (mode == LayerMode.Evaluation)
        {
            if (parameterGradients)
            {
                ChannelKernels.GatedDots(dy, gate, _input, _dots);
                for (int c = 0; c < Channels; c++) g[c] = (float)(_dots[c] / running[c]);
            }
            ChannelKernels.ScaleGated(dy, _scale, gate, gateIsMask: false, dx);
            return dx;
        }
        // Training: y = γ·x/sd(x) with sd² = E[x²] − E[x]² + ε. With A = Σ g·x over (N,H,W) and M values,
        // dγ = A/sd and dx = (γ/sd)·g − γ·A/(M·sd³)·(x − μ).
        ChannelKernels.GatedDots(dy, gate, _input, _dots);
        double count = (double)dy.N * dy.H * dy.W;
        for (int c = 0; c < Channels; c++)
        {
            double sd = _sd[c], a = _dots[c];
            double k = gamma[c] * a / (count * sd * sd * sd);
            _k[c] = (float)k;
            _b[c] = (float)(k * _sum[c]);
            if (parameterGradients) g[c] = (float)(a / sd);
        }
        ChannelKernels.BatchNormInputGradient(dy, gate, _input, _scale, _k, _b, dx);
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
