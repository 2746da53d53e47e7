using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Experiments.Kit;
using MemGen.Images;

namespace MemGen.Experiments.Manifold;

/// <summary>
/// Settings of <c>memgen experiment manifold</c> ([K24] §3.2, docs/science.md §4): a network trained on images of a known
/// low-dimensional manifold (disks, k = 5; sinusoids, k = 2; a ray of rescalings of one image, k = 1), compared with the
/// manifold's oracle denoiser and with the line PSNR_in + 10·log10(d/k), and its Jacobian's top eigenvectors compared
/// with the tangent space.
/// </summary>
public sealed record ManifoldSettings
{
    /// <summary>The names of the manifolds.</summary>
    public static IReadOnlyList<string> Kinds { get; } = ["disks", "sinusoids", "ray"];

    /// <summary>disks, sinusoids or ray.</summary>
    public string Kind { get; init; } = "disks";

    /// <summary>Image side (d = Size²; disks need at least 9).</summary>
    public int Size { get; init; } = 16;

    /// <summary>
    /// The dataset spec of the image whose rescalings form the ray (its first image; null: one Cα image, α = 2, of this size).
    /// </summary>
    public string? RaySource { get; init; }

    /// <summary>The network trained on the manifold.</summary>
    public string Model { get; init; } = "unet:blocks=2,width=16";

    /// <summary>Training images (points of the manifold).</summary>
    public int TrainingCount { get; init; } = 8192;

    /// <summary>Training budget, in images seen.</summary>
    public long TrainingBudget { get; init; } = 32_768;

    /// <summary>Training batch size.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam learning rate (halved half-way).</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Fresh manifold images on which the network's PSNR curve is measured.</summary>
    public int TestImages { get; init; } = 128;

    /// <summary>Of those, the first this many are also denoised by the oracle (the disk oracle optimises per image).</summary>
    public int OracleImages { get; init; } = 32;

    /// <summary>Noise levels of the PSNR curves.</summary>
    public double[] Sigmas { get; init; } = DenoisingCurveOptions.GeometricSigmas(0.01, 0.5, 12);

    /// <summary>Points of the manifold (fresh images) at which the Jacobian is measured.</summary>
    public int JacobianPoints { get; init; } = 6;

    /// <summary>σ of the eigenvalue and tangent-space measurement ([K24]: 0.04 for disks).</summary>
    public double JacobianSigma { get; init; } = 0.04;

    /// <summary>The σ at which the number of eigenvalues &gt; ½ is counted.</summary>
    public double[] CountSigmas { get; init; } = DenoisingCurveOptions.GeometricSigmas(0.01, 0.5, 8);

    /// <summary>Seed of every random stream.</summary>
    public long Seed { get; init; }

    /// <summary>d, pixels per image.</summary>
    public int Dimension => Size * Size;

    /// <summary>k, the manifold's dimension.</summary>
    public int ManifoldDimension => Kind switch { "disks" => DiskParameters.Count, "sinusoids" => SinusoidParameters.Count, _ => 1 };

    /// <summary>The source of the ray.</summary>
    public string RaySourceSpec => RaySource ?? string.Create(CultureInfo.InvariantCulture, $"calpha:alpha=2,size={Size},n=1,seed={Seed}");

    /// <summary>The dataset spec of the training images (role 1) or of the fresh images (role 2).</summary>
    public string DataSpec(int role)
    {
        int count = role == 1 ? TrainingCount : Math.Max(TestImages, JacobianPoints);
        long seed = unchecked(Seed * 1_000_003L + role);
        return Kind switch
        {
            "disks" => string.Create(CultureInfo.InvariantCulture, $"disks:size={Size},n={count},seed={seed},aa=exact"),
            "sinusoids" => string.Create(CultureInfo.InvariantCulture, $"sinusoids:size={Size},n={count},seed={seed}"),
            _ => string.Create(CultureInfo.InvariantCulture, $"rescaled:n={count},seed={seed},from={RaySourceSpec}"),
        };
    }

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first invalid setting (by its flag).</summary>
    public void Validate()
    {
        if (!Kinds.Contains(Kind)) throw new InvalidSettingException("kind", $"'{Kind}' is not one of {string.Join(", ", Kinds)}");
        if (Size < (Kind == "disks" ? 9 : 4)) throw new InvalidSettingException("size", $"{Size} is too small for {Kind} (at least {(Kind == "disks" ? 9 : 4)})");
        if ((long)Size * Size > ImageShape.MaxPixels) throw new InvalidSettingException("size", $"{Size} is too large");
        UnitTraining.CheckRecipe(TrainingCount, TrainingBudget, BatchSize, LearningRate);
        if (TestImages < 1) throw new InvalidSettingException("test-images", $"{TestImages} must be at least 1");
        if (OracleImages < 1 || OracleImages > TestImages) throw new InvalidSettingException("oracle-images", $"{OracleImages} must be between 1 and --test-images ({TestImages})");
        if (Sigmas.Length == 0 || Sigmas.Any(s => !(s > 0) || !double.IsFinite(s))) throw new InvalidSettingException("sigmas", "need positive noise levels");
        if (JacobianPoints < 1) throw new InvalidSettingException("jacobian-points", $"{JacobianPoints} must be at least 1");
        if (!(JacobianSigma > 0) || !double.IsFinite(JacobianSigma)) throw new InvalidSettingException("jacobian-sigma", $"{JacobianSigma} must be positive");
        if (CountSigmas.Length == 0 || CountSigmas.Any(s => !(s > 0) || !double.IsFinite(s))) throw new InvalidSettingException("count-sigmas", "need positive noise levels");
        if (Kind == "ray")
        {
            if (DatasetSpec.ParseAs("ray-source", RaySourceSpec).Kind == "rescaled") throw new InvalidSettingException("ray-source", "cannot itself be rescaled");
        }
        ExperimentModel.Check(Model, Size);
    }

    /// <summary>The settings as JSON (experiment.json: a re-run with other settings is refused; also shown in the report).</summary>
    public JsonObject ToJson(string preset) => new()
    {
        ["experiment"] = ManifoldExperiment.Name,
        ["preset"] = preset,
        ["kind"] = Kind,
        ["size"] = Size,
        ["d"] = Dimension,
        ["k"] = ManifoldDimension,
        ["training_data"] = DataSpec(1),
        ["test_data"] = DataSpec(2),
        ["model"] = Model,
        ["training_count"] = TrainingCount,
        ["training_budget_images"] = TrainingBudget,
        ["batch_size"] = BatchSize,
        ["learning_rate"] = LearningRate,
        ["test_images"] = TestImages,
        ["oracle_images"] = OracleImages,
        ["sigmas"] = new JsonArray([.. Sigmas.Select(s => (JsonNode)s)]),
        ["jacobian_points"] = JacobianPoints,
        ["jacobian_sigma"] = JacobianSigma,
        ["count_sigmas"] = new JsonArray([.. CountSigmas.Select(s => (JsonNode)s)]),
        ["seed"] = Seed,
    };
}
