using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Data;
using MemGen.Experiments.Transition;
using MemGen.Nn;
using MemGen.Sampling;

namespace MemGen.Experiments.Gahb;

/// <summary>
/// Everything that determines an adaptive-basis (GAHB) study (docs/science.md §5.6, [K24] §3): where the networks come from
/// (a finished transition run, or trained here with the transition experiment's recipe), the noise levels, the test
/// images, the shuffled-pixel control and the trajectory comparison. Same settings ⇒ same networks, noise and numbers.
/// </summary>
public sealed record GahbSettings
{
    /// <summary>
    /// A finished <c>memgen experiment transition</c> run directory whose networks (n-N/s1, n-N/s2) are analyzed; null trains
    /// them here. With it, the data, model and training recipe are those of that run (the settings below are ignored).
    /// </summary>
    public string? From { get; init; }

    /// <summary>Dataset spec of the pool (S1 = first N, S2 = last N, held-out test images between; as the transition experiment).</summary>
    public string Data { get; init; } = "fashion-mnist:train|resize=16|dedup";

    /// <summary>Dataset spec of the held-out test images; null takes them from the pool, between S1 and S2.</summary>
    public string? TestData { get; init; }

    /// <summary>Training-set sizes N, strictly increasing; null (only with <see cref="From"/>) takes every size of that run.</summary>
    public int[]? Sizes { get; init; } = [1, 10, 1000];

    /// <summary>The network, e.g. <c>unet:blocks=2,width=32</c>.</summary>
    public string Model { get; init; } = "unet:blocks=2,width=32";

    /// <summary>Images each network trains on.</summary>
    public long Budget { get; init; } = 40_000;

    /// <summary>Images per training step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Initial Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Learning-rate halvings over the budget.</summary>
    public int LearningRateHalvings { get; init; } = 3;

    /// <summary>
    /// Noise levels σ of the Jacobians, increasing: roughly geometric over [K24]'s range 0.02…0.6 and holding 0.15 and 0.3,
    /// where [K24] quotes eigenvalues of the normal and the shuffled networks.
    /// </summary>
    public double[] Sigmas { get; init; } = [0.02, 0.04, 0.08, 0.15, 0.3, 0.6];

    /// <summary>K, held-out test images x the Jacobians are taken at (y = x + σz).</summary>
    public int Images { get; init; } = 2;

    /// <summary>Noise draws z per image and σ (SURE is compared with the true error averaged over images and draws).</summary>
    public int Draws { get; init; } = 2;

    /// <summary>M, the top eigenvectors kept and shown (plus k = 2^j beyond).</summary>
    public int Top { get; init; } = 16;

    /// <summary>Held-out test images of the denoising-PSNR comparison of the normal and the shuffled-pixel networks.</summary>
    public int PsnrImages { get; init; } = 100;

    /// <summary>
    /// Seed of the pixel permutation of the shuffled-pixel control (<c>shuffle=SEED</c>): the same architecture and recipe
    /// trained on the same S1 of the largest N under that permutation; null: no control.
    /// </summary>
    public long? ShuffleSeed { get; init; } = 1;

    /// <summary>The sampler of the trajectory comparison (a <see cref="SamplerSpec"/>).</summary>
    public string Sampler { get; init; } = "algorithm1:variant=code,beta=0.5,max_steps=2000";

    /// <summary>Every this many steps an iterate of each trajectory is kept; 0: no trajectory comparison.</summary>
    public int SaveEvery { get; init; } = 1;

    /// <summary>Seeds (samples) of the trajectory comparison: the S1 and S2 networks of each N from the same seeds.</summary>
    public int Trajectories { get; init; } = 4;

    /// <summary>Seeds the networks (when trained here), the noise draws and the sampler.</summary>
    public long Seed { get; init; }

    /// <summary>The parsed network spec.</summary>
    public NetworkSpec Network => NetworkSpec.Parse(Model);

    /// <summary>The parsed sampler spec.</summary>
    public SamplerSpec SamplerSpec => SamplerSpec.Parse(Sampler);

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (From is not null)
        {
            if (From.Length == 0) throw new InvalidSettingException("from", "give a run directory");
            var file = Path.Combine(From, Kit.RunDirectory.ExperimentFile);
            if (!File.Exists(file)) throw new InvalidSettingException("from", $"{From} holds no {Kit.RunDirectory.ExperimentFile} (not a transition run)");
        }
        else
        {
            if (Sizes is null) throw new InvalidSettingException("sizes", "give the sizes N to train (or --from a transition run)");
            Training(Sizes).Validate();
        }
        if (Sizes is not null)
        {
            if (Sizes.Length == 0) throw new InvalidSettingException("sizes", "give at least one N");
            for (int i = 1; i < Sizes.Length; i++)
                if (Sizes[i] <= Sizes[i - 1]) throw new InvalidSettingException("sizes", $"must be strictly increasing, but {Sizes[i]} follows {Sizes[i - 1]}");
        }
        if (Sigmas is null || Sigmas.Length == 0) throw new InvalidSettingException("sigmas", "give at least one σ");
        foreach (var s in Sigmas)
            if (!(s > 0) || !double.IsFinite(s)) throw new InvalidSettingException("sigmas", $"σ must be positive and finite, got {s}");
        for (int i = 1; i < Sigmas.Length; i++)
            if (Sigmas[i] <= Sigmas[i - 1]) throw new InvalidSettingException("sigmas", $"must be strictly increasing, but {Sigmas[i]} follows {Sigmas[i - 1]}");
        if (Images < 1) throw new InvalidSettingException("images", $"must be at least 1, got {Images}");
        if (Draws < 1) throw new InvalidSettingException("draws", $"must be at least 1, got {Draws}");
        if (Top < 1) throw new InvalidSettingException("top", $"must be at least 1, got {Top}");
        if (PsnrImages < 1) throw new InvalidSettingException("psnr-images", $"must be at least 1, got {PsnrImages}");
        if (SaveEvery < 0) throw new InvalidSettingException("save-every", $"must not be negative, got {SaveEvery}");
        if (Trajectories < 1) throw new InvalidSettingException("trajectories", $"must be at least 1, got {Trajectories}");
        SamplerSpec.ParseAs("sampler", Sampler);
    }

    /// <summary>
    /// The transition experiment's settings that train this study's networks of <paramref name="sizes"/> (the same
    /// layout, split and recipe, so <c>--from</c> a transition run and training here give the same kind of networks).
    /// </summary>
    internal TransitionSettings Training(int[] sizes) => new()
    {
        Data = Data,
        TestData = TestData,
        Sizes = sizes,
        Model = Model,
        Budget = Budget,
        BatchSize = BatchSize,
        LearningRate = LearningRate,
        LearningRateHalvings = LearningRateHalvings,
        EvalImages = Math.Max(Images, PsnrImages),
        Sampler = Sampler,
        Seed = Seed,
    };

    /// <summary>The settings as JSON (experiment.json; also shown in the report). With <paramref name="source"/>, the from run's identity.</summary>
    public JsonObject ToJson(string preset, JsonObject? source = null)
    {
        var json = new JsonObject
        {
            ["experiment"] = GahbExperiment.Name,
            ["preset"] = preset,
            ["from"] = From is null ? null : Path.GetFullPath(From),
        };
        if (source is not null) json["from_run"] = source.DeepClone();
        else
        {
            json["data"] = Data;
            json["test_data"] = TestData;
            json["model"] = Network.ToString();
            json["budget_images_per_model"] = Budget;
            json["batch_size"] = BatchSize;
            json["learning_rate"] = LearningRate;
            json["learning_rate_halvings"] = LearningRateHalvings;
        }
        json["sizes"] = Sizes is null ? null : new JsonArray(Sizes.Select(n => (JsonNode)n).ToArray());
        json["sigmas"] = new JsonArray(Sigmas.Select(s => (JsonNode)s).ToArray());
        json["images"] = Images;
        json["draws"] = Draws;
        json["top"] = Top;
        json["psnr_images"] = PsnrImages;
        json["shuffle_seed"] = ShuffleSeed;
        json["sampler"] = SamplerSpec.ToString();
        json["save_every"] = SaveEvery;
        json["trajectories"] = Trajectories;
        json["seed"] = Seed;
        return json;
    }

    /// <summary>A short description for progress lines and the report subtitle.</summary>
    public string Describe(TransitionSettings training) => string.Create(CultureInfo.InvariantCulture,
        $"{training.Data} · N ∈ {{{string.Join(", ", training.Sizes)}}} · {training.Network} · σ ∈ {{{string.Join(", ", Sigmas)}}} · {Images} images × {Draws} draws")
        + (From is null ? "" : $" · networks of {Path.GetFullPath(From)}");
}
