using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Data;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Sampling;
using MemGen.Training;

namespace MemGen.Experiments.Transition;

/// <summary>
/// Everything that determines a transition experiment (docs/science.md §2, §3, §5): the data, the subset sizes N, the network,
/// the training budget, the sampler and the measurements. Same settings ⇒ same subsets, weights, samples and numbers.
/// </summary>
public sealed record TransitionSettings
{
    /// <summary>Dataset spec of the pool S1 and S2 are drawn from (S1 = first N, S2 = last N; see <see cref="DisjointSplit"/>).</summary>
    public string Data { get; init; } = "fashion-mnist:train|resize=16|dedup";

    /// <summary>
    /// Dataset spec of the held-out test images (e.g. <c>fashion-mnist:test|resize=16</c>); null takes them from the pool,
    /// between S1 and S2.
    /// </summary>
    public string? TestData { get; init; }

    /// <summary>Training-set sizes N per subset, strictly increasing.</summary>
    public int[] Sizes { get; init; } = [1, 10, 100, 1000];

    /// <summary>The network, e.g. <c>unet:blocks=2,width=32</c>.</summary>
    public string Model { get; init; } = "unet:blocks=2,width=32";

    /// <summary>Images each model trains on (the training set tiled to this size, as the paper's fixed epoch budget).</summary>
    public long Budget { get; init; } = 40_000;

    /// <summary>
    /// Budgets for particular sizes N that replace <see cref="Budget"/> for them (null or empty: every model gets
    /// <see cref="Budget"/>). Memorizing a handful of images takes few steps; a model at large N needs many more to put
    /// its samples on the image manifold, so a study spends its time there.
    /// </summary>
    public IReadOnlyDictionary<int, long>? BudgetBySize { get; init; }

    /// <summary>The training images of each model trained on N images.</summary>
    public long BudgetFor(int n) => BudgetBySize is not null && BudgetBySize.TryGetValue(n, out var b) ? b : Budget;

    /// <summary>
    /// The budget as text, <c>40000</c> or <c>40000,1000=200000,10000=600000</c> (a default, then N=images for sizes
    /// that get another budget); <see cref="WithBudget"/> reads it back.
    /// </summary>
    public string BudgetText => string.Join(",", new[] { Budget.ToString(CultureInfo.InvariantCulture) }
        .Concat((BudgetBySize ?? new Dictionary<int, long>()).OrderBy(p => p.Key).Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Key}={p.Value}"))));

    /// <summary>These settings with the budget of <paramref name="text"/> (see <see cref="BudgetText"/>).</summary>
    /// <exception cref="InvalidSettingException">The text is not a budget.</exception>
    public TransitionSettings WithBudget(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        if (!long.TryParse(parts[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out long all))
            throw new InvalidSettingException("budget", $"'{text}' does not start with a number of images (e.g. 40000 or 40000,10000=600000)");
        var bySize = new SortedDictionary<int, long>();
        foreach (var part in parts.Skip(1))
        {
            var kv = part.Split('=', 2);
            if (kv.Length != 2 || !int.TryParse(kv[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out int n)
                || !long.TryParse(kv[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long b))
                throw new InvalidSettingException("budget", $"'{part}' is not N=images (e.g. 10000=600000)");
            if (!bySize.TryAdd(n, b)) throw new InvalidSettingException("budget", $"N = {n} is given twice");
        }
        return this with { Budget = all, BudgetBySize = bySize.Count == 0 ? null : bySize };
    }

    /// <summary>
    /// These settings with other <paramref name="sizes"/>: per-size budgets of sizes no longer run are dropped (a preset's
    /// budget for N = 1000 does not apply to a run of N = 10000 alone); the others are kept.
    /// </summary>
    public TransitionSettings WithSizes(int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        var kept = BudgetBySize?.Where(p => sizes.Contains(p.Key)).ToDictionary(p => p.Key, p => p.Value);
        return this with { Sizes = sizes, BudgetBySize = kept is { Count: > 0 } ? new SortedDictionary<int, long>(kept) : null };
    }

    /// <summary>Images per training step.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// The largest training noise level: σ = TrainingSigmaMax·u², u uniform (docs/science.md §2.1: 1). Larger values let a
    /// sampler start where the noise dominates every principal component of the data (§3.4).
    /// </summary>
    public double TrainingSigmaMax { get; init; } = 1.0;

    /// <summary>Initial Adam learning rate; halved at each quarter of the budget.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Learning-rate halvings over the budget (the budget is split into this many + 1 equal "epochs").</summary>
    public int LearningRateHalvings { get; init; } = 3;

    /// <summary>K, samples drawn from each model (same seeds for every model).</summary>
    public int Samples { get; init; } = 64;

    /// <summary>Held-out test images, and the most images of each set used for the denoising curves (docs/science.md §5.1: 300).</summary>
    public int EvalImages { get; init; } = 300;

    /// <summary>
    /// The sampler (a <see cref="SamplerSpec"/>; default Algorithm 1, code variant, at most 2000 steps). Every model starts
    /// from the mean image of S1 ∪ S2 plus the seed's noise.
    /// </summary>
    public string Sampler { get; init; } = "algorithm1:variant=code,max_steps=2000";

    /// <summary>The values <see cref="Start"/> accepts.</summary>
    public static IReadOnlyList<string> StartNames { get; } = ["mean", "gaussian"];

    /// <summary>
    /// The start of every sample: "mean" (y0 = m + σ0·z, m the mean image of S1 ∪ S2) or "gaussian"
    /// (y0 = m + (Σ + σ0²I)^½·z with Σ the covariance of S1 ∪ S2; docs/science.md §3.4).
    /// </summary>
    public string Start { get; init; } = "mean";

    /// <summary>Rows (seeds) shown in each image grid of the report.</summary>
    public int GridRows { get; init; } = 8;

    /// <summary>Seeds network initialization, batch order, training noise, curve noise and the sampler.</summary>
    public long Seed { get; init; }

    /// <summary>The parsed network spec.</summary>
    public NetworkSpec Network => NetworkSpec.Parse(Model);

    /// <summary>The parsed sampler spec.</summary>
    public SamplerSpec SamplerSpec => SamplerSpec.Parse(Sampler);

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        DatasetSpec.ParseAs("data", Data);
        if (TestData is not null) DatasetSpec.ParseAs("test-data", TestData);
        if (Sizes is null || Sizes.Length == 0) throw new InvalidSettingException("sizes", "give at least one N");
        if (Sizes[0] < 1) throw new InvalidSettingException("sizes", $"N must be at least 1, got {Sizes[0]}");
        for (int i = 1; i < Sizes.Length; i++)
            if (Sizes[i] <= Sizes[i - 1]) throw new InvalidSettingException("sizes", $"must be strictly increasing, but {Sizes[i]} follows {Sizes[i - 1]}");
        try
        {
            _ = Network;
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException("model", e.Message, e);
        }
        if (Budget < 1) throw new InvalidSettingException("budget", $"must be at least 1 image, got {Budget}");
        foreach (var (n, b) in BudgetBySize ?? new Dictionary<int, long>())
        {
            if (b < 1) throw new InvalidSettingException("budget", $"must be at least 1 image, got {b} for N = {n}");
            if (!Sizes.Contains(n)) throw new InvalidSettingException("budget", $"gives a budget for N = {n}, which is not one of the sizes ({string.Join(", ", Sizes)})");
        }
        if (BatchSize < 1) throw new InvalidSettingException("batch-size", $"must be at least 1, got {BatchSize}");
        if (!(TrainingSigmaMax > 0) || !double.IsFinite(TrainingSigmaMax))
            throw new InvalidSettingException("train-sigma-max", $"must be positive, got {TrainingSigmaMax}");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new InvalidSettingException("learning-rate", $"must be positive, got {LearningRate}");
        if (LearningRateHalvings < 0) throw new InvalidSettingException("learning-rate-halvings", $"must not be negative, got {LearningRateHalvings}");
        if (Samples < 1) throw new InvalidSettingException("samples", $"must be at least 1, got {Samples}");
        if (EvalImages < 1) throw new InvalidSettingException("eval-images", $"must be at least 1, got {EvalImages}");
        if (GridRows < 1) throw new InvalidSettingException("grid-rows", $"must be at least 1, got {GridRows}");
        SamplerSpec.ParseAs("sampler", Sampler);
        if (!StartNames.Contains(Start)) throw new InvalidSettingException("start", $"must be {string.Join(" or ", StartNames)}, got '{Start}'");
    }

    /// <summary>
    /// The training recipe of the models trained on <paramref name="n"/> images: docs/science.md §2 noise and Adam, the
    /// budget for that size, the learning rate halved evenly over it.
    /// </summary>
    public TrainingOptions TrainingOptions(int n) => new()
    {
        LearningRate = LearningRate,
        BatchSize = BatchSize,
        SigmaMax = TrainingSigmaMax,
        Budget = BudgetFor(n),
        ImagesPerEpoch = (int)Math.Clamp(BudgetFor(n) / (LearningRateHalvings + 1), 1, int.MaxValue),
        LearningRateDecayEpochs = 1,
        LearningRateDecay = LearningRateHalvings == 0 ? 1.0 : 0.5,
        EvalImages = 32,
        EvalSigmas = [0.05, 0.1, 0.2, 0.4],
    };

    /// <summary>The settings as JSON (experiment.json; also shown in the report).</summary>
    public JsonObject ToJson(string preset)
    {
        var json = new JsonObject
        {
            ["experiment"] = "transition",
            ["preset"] = preset,
            ["data"] = Data,
            ["test_data"] = TestData,
            ["sizes"] = new JsonArray(Sizes.Select(n => (JsonNode)n).ToArray()),
            ["model"] = Network.ToString(),
            ["budget_images_per_model"] = Budget,
            ["batch_size"] = BatchSize,
            ["learning_rate"] = LearningRate,
            ["learning_rate_halvings"] = LearningRateHalvings,
            ["samples"] = Samples,
            ["eval_images"] = EvalImages,
            ["sampler"] = SamplerRecord(),
            ["grid_rows"] = GridRows,
            ["seed"] = Seed,
        };
        // Only when set, so the identity of runs with the default noise range (or one budget for every size) is what it always was.
        if (TrainingSigmaMax != 1.0) json["training_sigma_max"] = TrainingSigmaMax;
        if (BudgetBySize is not null)
            json["budget_images_by_size"] = new JsonObject(BudgetBySize.OrderBy(p => p.Key)
                .Select(p => KeyValuePair.Create(p.Key.ToString(CultureInfo.InvariantCulture), (JsonNode?)p.Value)));
        return json;
    }

    /// <summary>
    /// The settings recorded in <paramref name="json"/> by <see cref="ToJson"/> (an experiment.json): the inverse of ToJson,
    /// so <c>FromJson(s.ToJson(p)).ToJson(p)</c> is <c>s.ToJson(p)</c>. Keys that older runs did not record take their
    /// defaults. Throws <see cref="FormatException"/> naming the key that is missing or malformed.
    /// </summary>
    public static TransitionSettings FromJson(JsonObject json)
    {
        ArgumentNullException.ThrowIfNull(json);
        var d = new TransitionSettings();
        T Get<T>(JsonNode? parent, string key, T fallback, bool required = false)
        {
            var node = parent?[key];
            if (node is null)
                return required ? throw new FormatException($"'{key}' is missing") : fallback;
            try
            {
                return node.GetValue<T>();
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new FormatException($"'{key}' is not a {typeof(T).Name}: {node.ToJsonString()}", e);
            }
        }
        var sizes = json["sizes"] as JsonArray ?? throw new FormatException("'sizes' is missing or not a list");
        var sampler = json["sampler"] as JsonObject;
        SortedDictionary<int, long>? bySize = null;
        if (json["budget_images_by_size"] is JsonObject budgets)
        {
            bySize = [];
            foreach (var (key, value) in budgets)
            {
                if (!int.TryParse(key, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n))
                    throw new FormatException($"'budget_images_by_size' has the key '{key}', not a size N");
                bySize[n] = Get<long>(budgets, key, 0, required: true);
            }
        }
        return new TransitionSettings
        {
            Data = Get(json, "data", d.Data, required: true),
            TestData = Get<string?>(json, "test_data", null),
            Sizes = [.. sizes.Select(v => v is JsonValue value && value.TryGetValue<int>(out int n) ? n : throw new FormatException($"'sizes' holds {v?.ToJsonString() ?? "null"}, not a size N"))],
            Model = Get(json, "model", d.Model, required: true),
            Budget = Get(json, "budget_images_per_model", d.Budget),
            BudgetBySize = bySize,
            BatchSize = Get(json, "batch_size", d.BatchSize),
            TrainingSigmaMax = Get(json, "training_sigma_max", d.TrainingSigmaMax),
            LearningRate = Get(json, "learning_rate", d.LearningRate),
            LearningRateHalvings = Get(json, "learning_rate_halvings", d.LearningRateHalvings),
            Samples = Get(json, "samples", d.Samples),
            EvalImages = Get(json, "eval_images", d.EvalImages),
            Sampler = Get(sampler, "spec", d.Sampler),
            Start = sampler?["start_covariance"] is null ? "mean" : "gaussian",
            GridRows = Get(json, "grid_rows", d.GridRows),
            Seed = Get(json, "seed", d.Seed),
        };
    }

    private JsonObject SamplerRecord()
    {
        var json = SamplerSpec.ToJson();
        json["spec"] = SamplerSpec.ToString();
        json["start_mean"] = "mean image of S1 ∪ S2";
        // Only when set, so the identity of runs with the plain start is what it always was.
        if (Start != "mean") json["start_covariance"] = "covariance of S1 ∪ S2";
        return json;
    }

    private string BudgetDescription => BudgetBySize is null
        ? string.Create(CultureInfo.InvariantCulture, $"{Budget:N0} training images per model")
        : "training images per model " + string.Join(", ", Sizes.Select(n => string.Create(CultureInfo.InvariantCulture, $"{BudgetFor(n):N0} at N = {n}")));

    /// <summary>A short description for progress lines and the report subtitle.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{Data} · N ∈ {{{string.Join(", ", Sizes)}}} · {Network} · {BudgetDescription} · K = {Samples} samples");
}
