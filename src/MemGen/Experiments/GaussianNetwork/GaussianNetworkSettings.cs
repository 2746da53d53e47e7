using System.Globalization;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Sampling;

namespace MemGen.Experiments.GaussianNetwork;

/// <summary>
/// Settings of the nonlinear variant of docs/science.md §7 (<c>memgen experiment gaussian-network</c>): isotropic Gaussian
/// images N(m·1, s²I) of Size×Size pixels, one network trained per training-set size n = ratio·d and run, sampled with
/// Algorithm 1, compared with the per-pixel KDE metric against its training set and a fresh original set.
/// </summary>
public sealed record GaussianNetworkSettings
{
    /// <summary>Image side; d = Size² pixels (one channel).</summary>
    public int Size { get; init; } = 8;

    /// <summary>m, the mean of every pixel of the true law (image scale [0,1]).</summary>
    public double Mean { get; init; } = 0.5;

    /// <summary>s, the standard deviation of every pixel of the true law.</summary>
    public double Std { get; init; } = 0.1;

    /// <summary>The n/d values; n = max(2, round(ratio·d)).</summary>
    public double[] Ratios { get; init; } = [0.25, 0.5, 1, 2, 4];

    /// <summary>R: independent runs per n (fresh training set, network, samples and original set each).</summary>
    public int Runs { get; init; } = 2;

    /// <summary>N of the original set drawn fresh from the true law per run (docs/science.md §7: 10^4).</summary>
    public int OriginalCount { get; init; } = 10_000;

    /// <summary>Samples generated per network (the generated set G).</summary>
    public int SampleCount { get; init; } = 256;

    /// <summary>The network trained per (n, run).</summary>
    public string Model { get; init; } = "bfcnn:layers=5,width=32";

    /// <summary>
    /// A second network trained on the same training sets (same seeds) and measured the same way, shown beside
    /// <see cref="Model"/> in the report (e.g. a noise-conditioned <c>unet-cond</c> beside a blind one); null: none.
    /// </summary>
    public string? CompareModel { get; init; }

    /// <summary>The models trained per (n, run): <see cref="Model"/>, then <see cref="CompareModel"/> if given.</summary>
    public IReadOnlyList<string> Models => CompareModel is null ? [Model] : [Model, CompareModel];

    /// <summary>Training budget per network, in images seen.</summary>
    public long TrainingBudget { get; init; } = 32_768;

    /// <summary>Training batch size.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Adam learning rate.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>
    /// The sampler (a <see cref="SamplerSpec"/>; default Algorithm 1, code variant — growing step and a final denoising
    /// step, so samples carry no residual noise — at most 2000 steps), started at each run's training mean.
    /// </summary>
    public string Sampler { get; init; } = "algorithm1:variant=code,max_steps=2000";

    /// <summary>Seed of every random stream (data, training, sampling).</summary>
    public long Seed { get; init; }

    /// <summary>d, pixels per image.</summary>
    public int Dimension => Size * Size;

    /// <summary>The training-set sizes, ascending and distinct.</summary>
    public int[] TrainingCounts => [.. Ratios.Select(r => Math.Max(2, (int)Math.Round(r * Dimension))).Distinct().Order()];

    /// <summary>The parsed sampler spec.</summary>
    public SamplerSpec SamplerSpec => SamplerSpec.Parse(Sampler);

    /// <summary>Throws <see cref="InvalidSettingException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Size < 2) throw new InvalidSettingException("size", $"{Size} must be at least 2");
        if ((long)Size * Size > ImageShape.MaxPixels) throw new InvalidSettingException("size", $"{Size} must be at most {(int)Math.Sqrt(ImageShape.MaxPixels)}");
        if (!(Std > 0) || !double.IsFinite(Std)) throw new InvalidSettingException("std", $"{Std} must be positive");
        if (!double.IsFinite(Mean)) throw new InvalidSettingException("mean", $"{Mean} must be a number");
        if (Ratios.Length == 0 || Ratios.Any(r => !(r > 0) || !double.IsFinite(r))) throw new InvalidSettingException("ratios", "need positive numbers");
        if (Runs < 1) throw new InvalidSettingException("runs", $"{Runs} must be at least 1");
        if (OriginalCount < 2) throw new InvalidSettingException("original-count", $"{OriginalCount} must be at least 2");
        if (SampleCount < 2) throw new InvalidSettingException("samples", $"{SampleCount} must be at least 2");
        if (TrainingBudget < 1) throw new InvalidSettingException("budget", $"{TrainingBudget} must be at least 1 image");
        if (BatchSize < 1) throw new InvalidSettingException("batch", $"{BatchSize} must be at least 1");
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new InvalidSettingException("lr", $"{LearningRate} must be positive");
        CheckModel("model", Model);
        if (CompareModel is not null)
        {
            CheckModel("compare-model", CompareModel);
            if (NetworkSpec.Parse(CompareModel) == NetworkSpec.Parse(Model)) throw new InvalidSettingException("compare-model", $"{CompareModel} is the same network as --model");
        }
        SamplerSpec.ParseAs("sampler", Sampler);
    }

    private void CheckModel(string setting, string model)
    {
        NetworkSpec spec;
        try
        {
            spec = NetworkSpec.Parse(model);
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException(setting, e.Message, e);
        }
        if (Size % spec.SizeDivisor != 0)
            throw new InvalidSettingException(setting, string.Create(CultureInfo.InvariantCulture, $"{spec} needs an image side divisible by {spec.SizeDivisor}, size is {Size}"));
    }
}
