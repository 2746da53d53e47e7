using System.Text.Json.Serialization;

namespace MemGen.Training;

/// <summary>
/// The training recipe of docs/science.md §2 (defaults are the paper's values) plus run-keeping settings.
/// An "epoch" is <see cref="ImagesPerEpoch"/> images drawn from the training set tiled to that size, rounded up
/// to whole batches; the learning rate is multiplied by <see cref="LearningRateDecay"/> every
/// <see cref="LearningRateDecayEpochs"/> epochs. Each image gets its own σ = <see cref="SigmaMax"/>·u^<see cref="SigmaExponent"/>, u ~ U(0,1),
/// or, by default for noise-conditioned networks, EDM's log-normal σ with EDM's loss weighting (docs/science.md §9.3).
/// </summary>
public sealed record TrainingOptions
{
    /// <summary>Initial Adam learning rate (paper: 1e-3).</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Epochs between learning-rate decays (paper: 100).</summary>
    public int LearningRateDecayEpochs { get; init; } = 100;

    /// <summary>Factor applied at each decay (paper: 0.5, i.e. halving).</summary>
    public double LearningRateDecay { get; init; } = 0.5;

    /// <summary>Images per training step (paper: 512).</summary>
    public int BatchSize { get; init; } = 512;

    /// <summary>Number of epochs (paper: 1000); ignored when <see cref="Budget"/> is set.</summary>
    public int Epochs { get; init; } = 1000;

    /// <summary>Images per epoch: the training set is tiled to this size so small N are not under-trained (paper: 250,000).</summary>
    public int ImagesPerEpoch { get; init; } = 250_000;

    /// <summary>Total images to train on (rounded up to whole batches); when set, it replaces <see cref="Epochs"/>.</summary>
    public long? Budget { get; init; }

    /// <summary>Largest noise level: σ = SigmaMax·u^SigmaExponent (paper: 1).</summary>
    public double SigmaMax { get; init; } = 1.0;

    /// <summary>Exponent of u in σ = SigmaMax·u^SigmaExponent (paper: 2, favouring small σ).</summary>
    public double SigmaExponent { get; init; } = 2.0;

    /// <summary>P_mean of EDM's log-normal noise levels when <see cref="SigmaLogMean"/> is not set (Karras et al. 2022).</summary>
    public const double DefaultSigmaLogMean = -1.2;

    /// <summary>P_std of EDM's log-normal noise levels when <see cref="SigmaLogStd"/> is not set.</summary>
    public const double DefaultSigmaLogStd = 1.2;

    /// <summary>
    /// How σ is drawn: <see cref="Training.SigmaDistribution.Power"/> (σ = SigmaMax·u^SigmaExponent) or
    /// <see cref="Training.SigmaDistribution.LogNormal"/> (ln σ ~ N(SigmaLogMean, SigmaLogStd²)); null: the network's default,
    /// power for blind networks and log-normal for noise-conditioned ones (<see cref="Resolve(Nn.NetworkSpec)"/> writes it out).
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public SigmaDistribution? SigmaDistribution { get; init; }

    /// <summary>P_mean, the mean of ln σ under the log-normal distribution (EDM: −1.2).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? SigmaLogMean { get; init; }

    /// <summary>P_std, the standard deviation of ln σ under the log-normal distribution (EDM: 1.2).</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? SigmaLogStd { get; init; }

    /// <summary>
    /// The weight of each image's squared error: <see cref="Training.LossWeighting.Uniform"/> or EDM's λ(σ)
    /// (<see cref="Training.LossWeighting.Edm"/>, noise-conditioned networks only); null: EDM for noise-conditioned
    /// networks, uniform for blind ones.
    /// </summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public LossWeighting? LossWeighting { get; init; }

    /// <summary>The σ distribution in effect for a network that is (or is not) noise-conditioned.</summary>
    public SigmaDistribution EffectiveSigmaDistribution(bool conditioned) =>
        SigmaDistribution ?? (conditioned ? Training.SigmaDistribution.LogNormal : Training.SigmaDistribution.Power);

    /// <summary>The loss weighting in effect for a network that is (or is not) noise-conditioned.</summary>
    public LossWeighting EffectiveLossWeighting(bool conditioned) =>
        LossWeighting ?? (conditioned ? Training.LossWeighting.Edm : Training.LossWeighting.Uniform);

    /// <summary>Steps between checkpoints; null picks about 20 per run (at most every 10 epochs).</summary>
    public int? CheckpointEvery { get; init; }

    /// <summary>Steps between evaluations at <see cref="EvalSigmas"/>; null means every checkpoint.</summary>
    public int? EvalEvery { get; init; }

    /// <summary>Steps between rows of metrics.csv (the loss is averaged over them).</summary>
    public int LogEvery { get; init; } = 10;

    /// <summary>The fixed noise levels at which train/test PSNR are measured during training.</summary>
    public double[] EvalSigmas { get; init; } = [0.05, 0.1, 0.2, 0.4];

    /// <summary>Images (the first ones of the training and of the test set) used for the PSNR evaluations.</summary>
    public int EvalImages { get; init; } = 64;

    /// <summary>Training steps per epoch: ⌈ImagesPerEpoch / BatchSize⌉.</summary>
    public long StepsPerEpoch => (ImagesPerEpoch + (long)BatchSize - 1) / BatchSize;

    /// <summary>Total training steps: ⌈Budget / BatchSize⌉, or Epochs × StepsPerEpoch.</summary>
    public long TotalSteps => Budget is long budget ? (budget + BatchSize - 1) / BatchSize : Epochs * StepsPerEpoch;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (FirstProblem() is { } p) throw new ArgumentException($"Training setting {p.Name} {p.Rule}.");
    }

    /// <summary>
    /// Throws <see cref="InvalidSettingException"/> for the first invalid setting, named in kebab case (<c>learning-rate</c>,
    /// <c>batch-size</c>, <c>sigma-max</c>, ...), and for a loss weighting that does not fit <paramref name="model"/>.
    /// </summary>
    public void ValidateSettings(Nn.NetworkSpec? model = null)
    {
        if (FirstProblem() is { } p) throw new InvalidSettingException(p.Setting, p.Rule);
        if (model is not null && !model.IsConditioned && LossWeighting == Training.LossWeighting.Edm)
            throw new InvalidSettingException("loss-weighting", $"edm needs a noise-conditioned network (it depends on σ_data), not {model}");
    }

    /// <summary>The first invalid setting: its kebab-case name, its name in words and the rule it breaks; null when all are valid.</summary>
    private (string Setting, string Name, string Rule)? FirstProblem()
    {
        (bool Ok, string Setting, string Name, string Rule)[] checks =
        [
            (LearningRate > 0 && double.IsFinite(LearningRate), "learning-rate", "learning rate", "must be a positive number"),
            (LearningRateDecayEpochs >= 1, "learning-rate-decay-epochs", "learning-rate decay period", "must be at least 1 epoch"),
            (LearningRateDecay > 0 && LearningRateDecay <= 1, "learning-rate-decay", "learning-rate decay factor", "must be in (0, 1]"),
            (BatchSize is >= 1 and < (1 << 20), "batch-size", "batch size", "must be between 1 and 2^20"),
            (Epochs >= 1, "epochs", "epochs", "must be at least 1"),
            (ImagesPerEpoch >= 1, "images-per-epoch", "images per epoch", "must be at least 1"),
            (Budget is null or >= 1, "budget", "budget", "must be at least 1 image"),
            (SigmaMax > 0 && double.IsFinite(SigmaMax), "sigma-max", "sigma max", "must be positive"),
            (SigmaExponent > 0 && double.IsFinite(SigmaExponent), "sigma-exponent", "sigma exponent", "must be positive"),
            (SigmaLogMean is null || double.IsFinite(SigmaLogMean.Value), "sigma-log-mean", "P_mean", "must be a number"),
            (SigmaLogStd is null || (SigmaLogStd > 0 && double.IsFinite(SigmaLogStd.Value)), "sigma-log-std", "P_std", "must be positive"),
            (CheckpointEvery is null or >= 1, "checkpoint-every", "checkpoint interval", "must be at least 1 step"),
            (EvalEvery is null or >= 1, "eval-every", "evaluation interval", "must be at least 1 step"),
            (LogEvery >= 1, "log-every", "log interval", "must be at least 1 step"),
            (EvalSigmas is not null && EvalSigmas.All(s => s > 0 && double.IsFinite(s)), "eval-sigmas", "eval sigmas", "must be positive numbers"),
            (EvalImages >= 1, "eval-images", "eval images", "must be at least 1"),
        ];
        foreach (var c in checks)
            if (!c.Ok) return (c.Setting, c.Name, c.Rule);
        return null;
    }

    /// <summary>
    /// <see cref="Resolve()"/> for training <paramref name="model"/>: for a noise-conditioned network the σ distribution,
    /// its parameters and the loss weighting are written out too (a blind network's stay null, meaning power and uniform,
    /// so configs of blind runs keep their form). Throws <see cref="ArgumentException"/> when the weighting does not fit the model.
    /// </summary>
    public TrainingOptions Resolve(Nn.NetworkSpec model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var resolved = Resolve();
        if (!model.IsConditioned && LossWeighting == Training.LossWeighting.Edm)
            throw new ArgumentException($"Training setting loss weighting edm needs a noise-conditioned network (it depends on σ_data), not {model}.");
        if (!model.IsConditioned) return resolved;
        var distribution = EffectiveSigmaDistribution(conditioned: true);
        return resolved with
        {
            SigmaDistribution = distribution,
            SigmaLogMean = distribution == Training.SigmaDistribution.LogNormal ? SigmaLogMean ?? DefaultSigmaLogMean : SigmaLogMean,
            SigmaLogStd = distribution == Training.SigmaDistribution.LogNormal ? SigmaLogStd ?? DefaultSigmaLogStd : SigmaLogStd,
            LossWeighting = EffectiveLossWeighting(conditioned: true),
        };
    }

    /// <summary>These options with the automatic intervals replaced by concrete values (stored in config.json).</summary>
    public TrainingOptions Resolve()
    {
        Validate();
        int checkpointEvery = CheckpointEvery ?? (int)Math.Clamp(Math.Min(10 * StepsPerEpoch, (TotalSteps + 19) / 20), 1, int.MaxValue);
        return this with { CheckpointEvery = checkpointEvery, EvalEvery = EvalEvery ?? checkpointEvery };
    }
}
