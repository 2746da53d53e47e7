using MemGen.Compute;
using MemGen.Images;
using MemGen.Machine;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Training;

/// <summary>The outcome of one training step.</summary>
/// <param name="Loss">Batch loss: Σ_pixels (r(y) − σz)² (times λ(σ) under EDM weighting), averaged over the batch.</param>
/// <param name="GradientIsFinite">False when a gradient held NaN or ±∞ (the optimizer step was then skipped).</param>
public readonly record struct StepOutcome(double Loss, bool GradientIsFinite)
{
    /// <summary>True when the loss and the gradients are finite and the weights were updated.</summary>
    public bool IsFinite => double.IsFinite(Loss) && GradientIsFinite;
}

/// <summary>
/// One training step of docs/science.md §2 as a pure function of (state, step): the batch of step s
/// (<see cref="BatchSchedule"/>), its noise (<see cref="NoiseSchedule"/>), the residual <see cref="Loss"/>
/// Σ (r(y) − σz)² / B with gradient 2(r − σz)/B (for a noise-conditioned network r(y; σ), and by default each image
/// weighted by EDM's λ(σ), docs/science.md §9.3), and an Adam update at the learning rate of step s's epoch.
/// All buffers are allocated once. The batch and its noise are assembled on the host and copied to the network's
/// backend once per step; forward, loss, backward and Adam run there.
/// </summary>
public sealed class Trainer
{
    private readonly ImageSet _train;
    private readonly BatchSchedule _batches;
    private readonly NoiseSchedule _noise;
    private readonly StepLearningRate _schedule;
    private readonly ComputeBackend _backend;
    private readonly int[] _indices;
    private readonly float[] _sigmas;
    private readonly Tensor _clean, _scaledNoise; // host
    private readonly Tensor _cleanOnBackend, _target, _noisy, _gradient; // the backend's memory (the host tensors themselves on a host backend)
    private readonly Tensor? _weights; // per-image loss weights in the backend's memory (EDM weighting only)
    private readonly EdmPreconditioning _preconditioning;

    /// <summary>Creates the trainer; <paramref name="options"/> must be resolved (<see cref="TrainingOptions.Resolve()"/>).</summary>
    public Trainer(DenoisingNetwork network, ImageSet train, TrainingOptions options, long seed)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (train.Count < 1) throw new ArgumentException("The training set is empty.");
        if (train.Channels != network.Channels)
            throw new ArgumentException($"The network takes {network.Channels}-channel images, the training set has {train.Channels}.");
        network.CheckImageSize(train.Height, train.Width);
        MemoryBudget.Require(MemoryBudget.Sum(network.Spec.ActivationBytes(options.BatchSize, train.Height, train.Width, training: true),
                MemoryBudget.Product(4, options.BatchSize, train.ImageSize, sizeof(float))),
            $"training {network.Spec} on {train.Height}×{train.Width} images in batches of {options.BatchSize}");
        Network = network;
        Options = options;
        _train = train;
        _backend = network.Backend;
        Optimizer = new Adam(network.Parameters, _backend);
        _batches = new BatchSchedule(seed, train.Count, options.BatchSize, options.StepsPerEpoch);
        bool conditioned = network.IsConditioned;
        _noise = NoiseSchedule.For(options, conditioned, seed);
        if (options.EffectiveLossWeighting(conditioned) == LossWeighting.Edm)
        {
            if (!conditioned) throw new ArgumentException($"EDM loss weighting needs a noise-conditioned network, not {network.Spec}.");
            _preconditioning = new EdmPreconditioning(network.Spec.SigmaData);
            _weights = _backend.Zeros(options.BatchSize);
        }
        _schedule = new StepLearningRate(options.LearningRate, options.LearningRateDecayEpochs, options.LearningRateDecay);
        int b = options.BatchSize;
        _indices = new int[b];
        _sigmas = new float[b];
        _clean = new Tensor(b, train.Channels, train.Height, train.Width);
        _scaledNoise = _clean.ZerosLike();
        bool host = _backend.Holds(_clean);
        _cleanOnBackend = host ? _clean : _backend.ToBackend(_clean);
        _target = host ? _scaledNoise : _backend.ToBackend(_scaledNoise);
        _noisy = _target.ZerosLike();
        _gradient = _target.ZerosLike();
    }

    /// <summary>The network being trained.</summary>
    public DenoisingNetwork Network { get; }

    /// <summary>Its optimizer (checkpointed with the weights).</summary>
    public Adam Optimizer { get; }

    /// <summary>The recipe.</summary>
    public TrainingOptions Options { get; }

    /// <summary>The (zero-based) epoch step <paramref name="step"/> belongs to.</summary>
    public long EpochOf(long step) => step / Options.StepsPerEpoch;

    /// <summary>The learning rate of step <paramref name="step"/>.</summary>
    public double LearningRateAt(long step) => _schedule.At((int)Math.Min(EpochOf(step), int.MaxValue));

    /// <summary>
    /// The training-set index of the first image of the last step's batch that holds NaN or ±∞ pixels, or null
    /// (to tell bad data from a too-high learning rate when a loss is not finite).
    /// </summary>
    public int? NonFiniteImageInBatch()
    {
        int d = _clean.ItemLength;
        for (int i = 0; i < Options.BatchSize; i++)
            foreach (float v in _clean.Data.AsSpan(i * d, d))
                if (!float.IsFinite(v)) return _indices[i];
        return null;
    }

    /// <summary>
    /// Runs step <paramref name="step"/> (zero-based): forward in training mode, loss, backward, and, when everything
    /// is finite, the Adam update. Returns the batch loss.
    /// </summary>
    public StepOutcome Step(long step)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(step);
        int b = Options.BatchSize;
        _batches.IndicesFor(step, _indices);
        for (int i = 0; i < b; i++) _train.Image(_indices[i]).CopyTo(_clean.Item(i));
        _noise.Fill(step, _sigmas, _scaledNoise);
        if (!ReferenceEquals(_clean, _cleanOnBackend))
        {
            _clean.Storage.CopyTo(_cleanOnBackend.Storage);
            _scaledNoise.Storage.CopyTo(_target.Storage);
        }
        _backend.Add(_cleanOnBackend, _target, _noisy);

        var residual = Network.Forward(_noisy, _sigmas, training: true);
        if (!residual.SameShape(_noisy) || residual.Layout != TensorLayout.Nchw)
            throw new InvalidOperationException($"{Network.Spec} returned a residual of shape [{residual.ShapeString}] {residual.Layout} for input [{_noisy.ShapeString}].");
        double loss;
        if (_weights is null)
        {
            loss = Loss.Evaluate(_backend, residual, _target, _gradient);
        }
        else
        {
            _weights.CopyFrom(Array.ConvertAll(_sigmas, s => (float)_preconditioning.LossWeight(s)));
            loss = Loss.EvaluateWeighted(_backend, residual, _target, _weights, _gradient);
        }
        if (!double.IsFinite(loss)) return new StepOutcome(loss, GradientIsFinite: false);

        Network.Backward(_gradient);
        bool gradientFinite = double.IsFinite(Optimizer.GradientSquaredNorm());
        if (gradientFinite) Optimizer.Step(LearningRateAt(step));
        return new StepOutcome(loss, gradientFinite);
    }
}
