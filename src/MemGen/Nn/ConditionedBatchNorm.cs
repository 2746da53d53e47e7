using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// The normalization of a noise-conditioned network (docs/science.md §9.3): batch norm with affine γ ("<c>name.gamma</c>",
/// 1 at initialization) and β ("<c>name.beta</c>", 0), running mean and sd ("<c>name.running_mean</c>",
/// "<c>name.running_sd</c>"), then FiLM, a per-image, per-channel scale and shift (s, t) = film(emb) from the noise-level
/// embedding by a linear layer E → 2C ("<c>name.film</c>", zero at initialization, so the untrained network ignores σ
/// here), then SiLU: y = silu((γ·x̂ + β)·(1 + s) + t). All of it runs in one backend pass
/// (<see cref="ConditionedNormKernels"/>). Call <see cref="Condition"/> with the batch's embedding before
/// <see cref="Forward"/>; the backward pass leaves the embedding's gradient in <see cref="EmbeddingGradient"/>.
/// </summary>
public sealed class ConditionedBatchNorm
{
    private readonly ComputeBackend _backend;
    private readonly ConditionedNormKernels _kernels;
    private readonly TensorCache _outputs;
    private readonly FrozenMask _frozen;
    private readonly Dictionary<int, Tensor> _filmGradients = [];
    private Tensor? _film, _input, _embeddingGradient;
    private LayerMode? _lastMode;

    /// <summary>Creates the layer for <paramref name="channels"/> channels and an embedding of width <paramref name="embedding"/>.</summary>
    public ConditionedBatchNorm(string name, int channels, int embedding, ComputeBackend backend)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentNullException.ThrowIfNull(backend);
        _backend = backend;
        Name = name;
        Channels = channels;
        Gamma = new Parameter(name + ".gamma", Filled(backend, channels, 1f));
        Beta = new Parameter(name + ".beta", backend.Zeros(channels));
        RunningMean = new NamedTensor(name + ".running_mean", backend.Zeros(channels));
        RunningSd = new NamedTensor(name + ".running_sd", Filled(backend, channels, 1f));
        Film = new Linear(name + ".film", embedding, 2 * channels, backend);
        _kernels = backend.ConditionedNorm(channels);
        _outputs = new TensorCache(backend);
        _frozen = new FrozenMask(name, backend);
    }

    /// <summary>Layer name.</summary>
    public string Name { get; }

    /// <summary>Channels C.</summary>
    public int Channels { get; }

    /// <summary>γ.</summary>
    public Parameter Gamma { get; }

    /// <summary>β.</summary>
    public Parameter Beta { get; }

    /// <summary>The FiLM projection of the embedding: [N, E] → [N, 2C] = (s | t).</summary>
    public Linear Film { get; }

    /// <summary>Running mean.</summary>
    public NamedTensor RunningMean { get; }

    /// <summary>Running sd.</summary>
    public NamedTensor RunningSd { get; }

    /// <summary>γ, β, then the FiLM weight and bias.</summary>
    public IEnumerable<Parameter> Parameters => [Gamma, Beta, .. Film.Parameters];

    /// <summary>Running mean, then running sd.</summary>
    public IEnumerable<NamedTensor> Buffers => [RunningMean, RunningSd];

    /// <summary>The gradient of the loss with respect to the embedding rows, [N, E], after a Backward with parameter gradients.</summary>
    public Tensor EmbeddingGradient => _embeddingGradient ?? throw new InvalidOperationException($"{Name}: no backward pass with parameter gradients yet.");

    /// <summary>Computes this batch's FiLM coefficients from the embedding [N, E].</summary>
    public void Condition(Tensor embedding)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        _film = Film.Forward(embedding, LayerMode.Training);
    }

    /// <summary>Normalizes, modulates and activates <paramref name="x"/> into a layer-owned buffer (linearized: multiplies by the frozen derivative).</summary>
    public Tensor Forward(Tensor x, LayerMode mode)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4 || x.C != Channels) throw new ArgumentException($"{Name}: input must have {Channels} channels, got [{x.ShapeString}].");
        var y = _outputs.Get(x.N, x.C, x.H, x.W, x.Layout);
        if (mode == LayerMode.Linearized)
        {
            _backend.Mask(x, _frozen.For(x), y);
            return y;
        }
        var film = RequireFilm(x.N);
        if (mode == LayerMode.Training) _kernels.TrainingForward(x, Gamma.Value, Beta.Value, film, RunningMean.Value, RunningSd.Value, y);
        else _kernels.EvaluationForward(x, Gamma.Value, Beta.Value, film, RunningMean.Value, RunningSd.Value, y);
        (_input, _lastMode) = (x, mode);
        return y;
    }

    /// <summary>
    /// Back-propagates <paramref name="dy"/> through the last Forward in <paramref name="mode"/>; dx is computed in place
    /// (overwrites and returns <paramref name="dy"/>). With <paramref name="parameterGradients"/> (not linearized) it writes
    /// dγ, dβ and the FiLM layer's gradients, and the embedding's gradient into <see cref="EmbeddingGradient"/>.
    /// </summary>
    public Tensor Backward(Tensor dy, LayerMode mode, bool parameterGradients)
    {
        ArgumentNullException.ThrowIfNull(dy);
        if (mode == LayerMode.Linearized)
        {
            if (parameterGradients) throw new ArgumentException($"{Name}: a linearized Backward computes no parameter gradients.");
            _backend.Mask(dy, _frozen.For(dy), dy);
            return dy;
        }
        if (_lastMode != mode || _input is null || !_input.SameShape(dy) || _input.Layout != dy.Layout)
            throw new InvalidOperationException($"{Name}: Backward in {mode} mode needs a {mode} Forward of the same shape first.");
        var film = RequireFilm(dy.N);
        Tensor? filmGradient = null;
        if (parameterGradients && !_filmGradients.TryGetValue(dy.N, out filmGradient))
        {
            filmGradient = _backend.Zeros(dy.N, 2 * Channels);
            _filmGradients.Add(dy.N, filmGradient);
        }
        _kernels.Backward(mode == LayerMode.Training, dy, _input, Gamma.Value, Beta.Value, film, RunningMean.Value, RunningSd.Value,
            parameterGradients ? Gamma.Gradient : null, parameterGradients ? Beta.Gradient : null, filmGradient, dy);
        if (filmGradient is not null) _embeddingGradient = Film.Backward(filmGradient, parameterGradients: true, inputGradient: true);
        return dy;
    }

    /// <summary>Freezes the layer's derivative at the last (evaluation) Forward for linearized passes.</summary>
    public void FreezeMask()
    {
        if (_input is null || _lastMode != LayerMode.Evaluation) throw new InvalidOperationException($"{Name}: FreezeMask needs an evaluation Forward first.");
        var (input, film) = (_input, RequireFilm(_input.N));
        _frozen.Freeze(input, d => _kernels.Derivative(input, Gamma.Value, Beta.Value, film, RunningMean.Value, RunningSd.Value, d));
    }

    /// <summary>Drops the cached buffers.</summary>
    public void ReleaseBuffers()
    {
        _outputs.Clear();
        _filmGradients.Clear();
        Film.ReleaseBuffers();
        (_film, _input, _embeddingGradient, _lastMode) = (null, null, null, null);
    }

    private Tensor RequireFilm(int n) => _film is { } f && f.Shape[0] == n
        ? f
        : throw new InvalidOperationException($"{Name}: no FiLM coefficients for a batch of {n}; call Condition with the batch's embedding first.");

    private static Tensor Filled(ComputeBackend backend, int length, float value)
    {
        var t = backend.Zeros(length);
        var values = new float[length];
        Array.Fill(values, value);
        t.CopyFrom(values);
        return t;
    }
}
