using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Analysis;
using MemGen.Experiments.Kit;
using MemGen.Images;

namespace MemGen.Experiments.CAlpha;

/// <summary>
/// Settings of <c>memgen experiment calpha</c> ([K24] §3.1, docs/science.md §6): per α a denoiser trained on Cα images,
/// its denoising curve on fresh Cα images on a fine σ grid, and the slope of PSNR_out vs PSNR_in on the straight part
/// of the curve (<see cref="PsnrSlopeFit"/>) against the optimal α/(α+1).
/// </summary>
public sealed record CAlphaSettings
{
    /// <summary>Image side (d = Size²).</summary>
    public int Size { get; init; } = 32;

    /// <summary>The contour regularities α (one network each).</summary>
    public double[] Alphas { get; init; } = [1, 2, 3, 5];

    /// <summary>The backgrounds' exponent β (<c>calpha:…,beta=B</c>); null: β = α, the generator's default.</summary>
    public double? Beta { get; init; }

    /// <summary>The network trained per α.</summary>
    public string Model { get; init; } = "unet:blocks=2,width=16";

    /// <summary>Training images per α.</summary>
    public int TrainingCount { get; init; } = 8192;

    /// <summary>Training budget per network, in images seen.</summary>
    public long TrainingBudget { get; init; } = 32_768;

    /// <summary>Training batch size.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam learning rate (halved half-way).</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Fresh Cα images per α on which the denoising curve is measured.</summary>
    public int TestImages { get; init; } = 128;

    /// <summary>The noise levels of the curves (a fine grid, geometric in σ).</summary>
    public double[] Sigmas { get; init; } = DenoisingCurveOptions.GeometricSigmas(0.005, 0.6, 25);

    /// <summary>σ of the Jacobian whose top eigenvectors are shown (one Cα image per α).</summary>
    public double EigenvectorSigma { get; init; } = 0.1;

    /// <summary>The straight-part rule of the slope fit; the tolerance is in dB.</summary>
    public PsnrSlopeFitOptions Fit { get; init; } = new();

    /// <summary>Seed of every random stream (images, training, noise).</summary>
    public long Seed { get; init; }

    /// <summary>d, pixels per image.</summary>
    public int Dimension => Size * Size;

    /// <summary>The dataset spec of the training images (role 1) or the fresh test images (role 2) of α.</summary>
    public string DataSpec(double alpha, int role)
    {
        int count = role == 1 ? TrainingCount : TestImages;
        long seed = unchecked(Seed * 1_000_003L + role * 1_000L + Array.IndexOf(Alphas, alpha));
        var beta = Beta is double b ? string.Create(CultureInfo.InvariantCulture, $",beta={b:R}") : "";
        return string.Create(CultureInfo.InvariantCulture, $"calpha:alpha={alpha:R},size={Size},n={count},seed={seed}{beta}");
    }

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first invalid setting (by its flag).</summary>
    public void Validate()
    {
        if (Size < 8) throw new InvalidSettingException("size", $"{Size} must be at least 8");
        if ((long)Size * Size > ImageShape.MaxPixels) throw new InvalidSettingException("size", $"{Size} is too large");
        if (Alphas.Length == 0 || Alphas.Any(a => !(a > 0) || !double.IsFinite(a))) throw new InvalidSettingException("alphas", "need positive numbers");
        if (Alphas.Distinct().Count() != Alphas.Length) throw new InvalidSettingException("alphas", "values must be distinct");
        if (Beta is double beta && (!(beta > 0) || !double.IsFinite(beta))) throw new InvalidSettingException("beta", $"{beta} must be positive");
        UnitTraining.CheckRecipe(TrainingCount, TrainingBudget, BatchSize, LearningRate);
        if (TestImages < 1) throw new InvalidSettingException("test-images", $"{TestImages} must be at least 1");
        if (Sigmas.Length < Fit.MinPoints) throw new InvalidSettingException("sigmas", $"need at least {Fit.MinPoints} noise levels for a slope fit");
        if (Sigmas.Any(s => !(s > 0) || !double.IsFinite(s))) throw new InvalidSettingException("sigmas", "noise levels must be positive");
        if (!(EigenvectorSigma > 0) || !double.IsFinite(EigenvectorSigma)) throw new InvalidSettingException("eigen-sigma", $"{EigenvectorSigma} must be positive");
        if (!(Fit.ResidualTolerance > 0) || !double.IsFinite(Fit.ResidualTolerance)) throw new InvalidSettingException("fit-tolerance", $"{Fit.ResidualTolerance} must be positive");
        ExperimentModel.Check(Model, Size);
    }

    /// <summary>The settings as JSON (experiment.json: a re-run with other settings is refused; also shown in the report).</summary>
    public JsonObject ToJson(string preset) => new()
    {
        ["experiment"] = CAlphaExperiment.Name,
        ["preset"] = preset,
        ["size"] = Size,
        ["d"] = Dimension,
        ["alphas"] = new JsonArray([.. Alphas.Select(a => (JsonNode)a)]),
        ["beta"] = Beta is double b ? b : "alpha (generator default)",
        ["model"] = Model,
        ["training_count"] = TrainingCount,
        ["training_budget_images"] = TrainingBudget,
        ["batch_size"] = BatchSize,
        ["learning_rate"] = LearningRate,
        ["test_images"] = TestImages,
        ["sigmas"] = new JsonArray([.. Sigmas.Select(s => (JsonNode)s)]),
        ["eigenvector_sigma"] = EigenvectorSigma,
        ["fit_rule"] = string.Create(CultureInfo.InvariantCulture,
            $"longest run of >= {Fit.MinPoints} consecutive sigmas whose least-squares line passes within {Fit.ResidualTolerance} dB of every point, slope in [{Fit.MinSlope}, {Fit.MaxSlope}]"),
        ["seed"] = Seed,
    };
}
