using System.Globalization;
using System.Text.Json.Serialization;
using System.Text.Json;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Images;

namespace MemGen.Experiments.Transition;

/// <summary>The regime a pair of models trained on disjoint sets of size N is in (docs/science.md §5.5).</summary>
public enum TransitionRegime
{
    /// <summary>Samples are copies of their own training images; the S1 and S2 models produce different images.</summary>
    Memorizing,

    /// <summary>Neither clearly memorizing nor clearly generalizing.</summary>
    Transitional,

    /// <summary>The networks barely denoise (Algorithm 1 stops within <see cref="TransitionPoint.MinimumSteps"/> steps): undertrained, no verdict.</summary>
    Undetermined,

    /// <summary>The S1 and S2 models produce nearly the same image from the same seed, closer to each other than to any training image.</summary>
    Generalizing,
}

/// <summary>
/// Memorization and cross-model measures of one kind of denoiser (trained networks, or the empirical optimal denoisers)
/// for one N: the S1 model's samples against S1, the S2 model's against S2, and S1 vs S2 samples of the same seed.
/// Similarities are cosine similarities; "centered" ones remove each image's mean first.
/// </summary>
/// <param name="CrossCosine">Per seed: cosine similarity of the S1 and S2 samples.</param>
/// <param name="CrossCenteredCosine">Per seed: mean-removed cosine similarity of the S1 and S2 samples.</param>
/// <param name="NearestCosineS1">Per S1 sample: cosine similarity to its most similar S1 image.</param>
/// <param name="NearestCosineS2">Per S2 sample: cosine similarity to its most similar S2 image.</param>
/// <param name="NearestCenteredCosineS1">Per S1 sample: mean-removed cosine similarity to its most similar S1 image.</param>
/// <param name="NearestCenteredCosineS2">Per S2 sample: the same against S2.</param>
/// <param name="RatioS1">Per S1 sample: ‖x − NN1‖/‖x − NN2‖ in S1 (NaN when S1 has one image).</param>
/// <param name="RatioS2">Per S2 sample: the same in S2.</param>
/// <param name="Diverged">Samples (of both models) that did not converge.</param>
/// <param name="MedianSteps">Median number of Algorithm 1 steps per sample (both models).</param>
public sealed record FamilyMeasures(
    double[] CrossCosine, double[] CrossCenteredCosine,
    double[] NearestCosineS1, double[] NearestCosineS2, double[] NearestCenteredCosineS1, double[] NearestCenteredCosineS2,
    double[] RatioS1, double[] RatioS2, int Diverged, double MedianSteps)
{
    /// <summary>Summary of the S1–S2 mean-removed cosine similarities.</summary>
    [JsonIgnore] public SimilaritySummary Cross => SimilaritySummary.Of(CrossCenteredCosine);

    /// <summary>Summary of the S1–S2 plain cosine similarities.</summary>
    [JsonIgnore] public SimilaritySummary CrossPlain => SimilaritySummary.Of(CrossCosine);

    /// <summary>Summary of the similarity (mean-removed cosine) of every sample, of both models, to its nearest own training image.</summary>
    [JsonIgnore] public SimilaritySummary Nearest => SimilaritySummary.Of(NearestCenteredCosineS1.Concat(NearestCenteredCosineS2));

    /// <summary>The same with plain cosine similarity.</summary>
    [JsonIgnore] public SimilaritySummary NearestPlain => SimilaritySummary.Of(NearestCosineS1.Concat(NearestCosineS2));

    /// <summary>Fraction of samples (both models) memorized by the Gu et al. rule (ratio &lt; 1/3); NaN when no ratio is defined (N = 1).</summary>
    [JsonIgnore]
    public double FractionMemorized
    {
        get
        {
            var defined = RatioS1.Concat(RatioS2).Where(r => !double.IsNaN(r)).ToArray();
            return defined.Length == 0 ? double.NaN : defined.Count(r => r < Memorization.RatioThreshold) / (double)defined.Length;
        }
    }

    /// <summary>Collects the measures from the analysis results.</summary>
    public static FamilyMeasures From(IReadOnlyList<SamplePairSimilarity> cross, IReadOnlyList<SampleMemorization> s1, IReadOnlyList<SampleMemorization> s2, int diverged, double medianSteps) => new(
        [.. cross.Select(c => c.Cosine)], [.. cross.Select(c => c.CenteredCosine)],
        [.. s1.Select(m => m.Cosine)], [.. s2.Select(m => m.Cosine)],
        [.. s1.Select(m => m.CenteredCosine)], [.. s2.Select(m => m.CenteredCosine)],
        [.. s1.Select(m => m.Ratio)], [.. s2.Select(m => m.Ratio)], diverged, medianSteps);
}

/// <summary>A denoising curve in numbers: output PSNR on training and on test images at each σ.</summary>
/// <param name="TrainPsnr">Mean output PSNR on training images per σ.</param>
/// <param name="TestPsnr">Mean output PSNR on held-out test images per σ.</param>
public sealed record CurveValues(double[] TrainPsnr, double[] TestPsnr)
{
    /// <summary>Mean over σ of train − test PSNR.</summary>
    [JsonIgnore] public double Gap => TrainPsnr.Zip(TestPsnr, (a, b) => a - b).Average();

    /// <summary>The values of a measured curve.</summary>
    public static CurveValues From(DenoisingCurve curve) => new([.. curve.TrainPsnr], [.. curve.TestPsnr]);
}

/// <summary>
/// Everything measured for one N: denoising curves of both networks and of the empirical optimal denoiser of S1,
/// sample measures of the networks and of the empirical optimal denoisers, the S1–S2 nearest-pair reference
/// distribution, and the verdict. Saved as n-N/point.json; its presence marks the N as finished.
/// </summary>
/// <param name="N">Images per training subset.</param>
/// <param name="Sigmas">Noise levels of the curves.</param>
/// <param name="CurveS1">The S1 network's denoising curve (train = S1).</param>
/// <param name="CurveS2">The S2 network's denoising curve (train = S2).</param>
/// <param name="CurveOptimal">The empirical optimal denoiser of S1 (train = S1).</param>
/// <param name="Network">Sample measures of the trained networks.</param>
/// <param name="Optimal">Sample measures of the empirical optimal denoisers (the pure memorizers).</param>
/// <param name="NearestPairCosine">Per S1 image: cosine similarity to its most similar S2 image (reference).</param>
/// <param name="NearestPairCenteredCosine">Per S1 image: the same, mean removed.</param>
/// <param name="TrainingSeconds">Training time of the S1 and S2 networks together (all sessions).</param>
/// <param name="SearchPairsPerSecond">Rate of the exact nearest-neighbour searches (query × reference image pairs per second, all metrics).</param>
/// <param name="HeldOutNearestCenteredCosine">Per held-out test image: mean-removed cosine similarity to its most similar S1 image, then to its most
/// similar S2 image (the sample-quality reference: how close a real unseen image is to the training set).</param>
/// <param name="SampleSpectrum">Radially averaged power spectrum of the S1 and S2 networks' samples (<see cref="RadialPowerSpectrum"/>).</param>
/// <param name="TrainingSpectrum">The same of the S1 and S2 training images.</param>
/// <param name="SampleIntensity">Brightness and contrast of the S1 and S2 networks' samples (<see cref="ImageIntensity"/>).</param>
/// <param name="TrainingIntensity">The same of the S1 and S2 training images.</param>
public sealed record TransitionPoint(
    int N, double[] Sigmas, CurveValues CurveS1, CurveValues CurveS2, CurveValues CurveOptimal,
    FamilyMeasures Network, FamilyMeasures Optimal, double[] NearestPairCosine, double[] NearestPairCenteredCosine,
    double TrainingSeconds, double SearchPairsPerSecond = double.NaN,
    double[]? HeldOutNearestCenteredCosine = null, double[]? SampleSpectrum = null, double[]? TrainingSpectrum = null,
    ImageIntensity? SampleIntensity = null, ImageIntensity? TrainingIntensity = null)
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>Threshold on the fraction memorized above which a model pair counts as memorizing.</summary>
    public const double MemorizedFractionForMemorizing = 0.5;

    /// <summary>Threshold on the fraction memorized below which a model pair can count as generalizing.</summary>
    public const double MemorizedFractionForGeneralizing = 0.1;

    /// <summary>Samples at least this similar (mean-removed cosine) to a training image count as copies: the de-duplication threshold (docs/science.md §2.5, §5.2), above which two pool images never are.</summary>
    public const double CopySimilarity = 0.95;

    /// <summary>Samples that stop after fewer Algorithm 1 steps (median) come from a network that barely denoises: no verdict.</summary>
    public const double MinimumSteps = 5;

    /// <summary>
    /// Samples whose median similarity to the nearest training image is this much below that of held-out images are not
    /// images of the data (noise, smudges): no verdict, whatever the two networks agree on.
    /// </summary>
    public const double OffManifoldMargin = 0.25;

    /// <summary>The criterion of <see cref="Regime"/> in words (shown in the report).</summary>
    public const string Criterion =
        "Let A = median similarity of the S1 and S2 networks' samples of the same seed, B = median similarity of each sample to the most " +
        "similar image of its own training set (both mean-removed cosine similarities), and F = fraction of samples that are copies of a " +
        "training image: ‖x − NN1‖ < ‖x − NN2‖/3 (Gu et al.) or similarity ≥ 0.95 to it (the de-duplication threshold; this also catches " +
        "copies whose brightness or contrast drifted, and N = 1, where there is no second neighbour). " +
        "Memorizing: F ≥ 0.5 and A < B. Generalizing: F < 0.1 and A ≥ B (the two models agree more with each other than with any " +
        "training image, docs/science.md §5.5). Transitional: anything else. Undetermined: the networks barely denoise (Algorithm 1 stops within " +
        "5 steps, the samples are the initial noise), or their samples are not images of the data (B more than 0.25 below the median similarity of " +
        "held-out test images to their nearest training image); such networks are undertrained and agreeing 'samples' mean nothing.";

    /// <summary>Median similarity of a held-out image to its nearest training image (NaN when not measured).</summary>
    [JsonIgnore] public double HeldOutNearestMedian => HeldOutNearestCenteredCosine is { Length: > 0 } h ? SimilaritySummary.Of(h).Median : double.NaN;

    /// <summary>
    /// High-frequency power of the networks' samples relative to their training images (<see cref="RadialPowerSpectrum.HighFrequencyRatio"/>):
    /// about 1 when samples have the data's fine detail, well below 1 when they are blurry.
    /// </summary>
    [JsonIgnore]
    public double HighFrequencyRatio => SampleSpectrum is { } a && TrainingSpectrum is { } b ? RadialPowerSpectrum.HighFrequencyRatio(a, b) : double.NaN;

    /// <summary>Mean pixel value of the networks' samples over that of their training images (1 = as bright; NaN when not measured).</summary>
    [JsonIgnore]
    public double IntensityRatio => SampleIntensity is { } a && TrainingIntensity is { } b ? a.MeanRatio(b) : double.NaN;

    /// <summary>Contrast (pixel standard deviation) of the networks' samples over that of their training images (1 = as much; NaN when not measured).</summary>
    [JsonIgnore]
    public double ContrastRatio => SampleIntensity is { } a && TrainingIntensity is { } b ? a.ContrastRatio(b) : double.NaN;

    /// <summary>Whether the networks' samples are far less similar to the training set than held-out images are (<see cref="OffManifoldMargin"/>).</summary>
    [JsonIgnore] public bool IsOffManifold => double.IsFinite(HeldOutNearestMedian) && Network.Nearest.Median < HeldOutNearestMedian - OffManifoldMargin;

    /// <summary>Whether the point holds every measurement of this MemGen version (points of older versions are measured again).</summary>
    [JsonIgnore]
    public bool IsComplete => HeldOutNearestCenteredCosine is not null && SampleSpectrum is not null && TrainingSpectrum is not null &&
        SampleIntensity is not null && TrainingIntensity is not null;

    /// <summary>Mean PSNR gap (train − test, averaged over σ) of the S1 and S2 networks.</summary>
    [JsonIgnore] public double PsnrGap => (CurveS1.Gap + CurveS2.Gap) / 2;

    /// <summary>
    /// F of <see cref="Criterion"/> for the networks: the fraction of samples that are copies of a training image, by the
    /// Gu et al. ratio rule or by a similarity of at least <see cref="CopySimilarity"/> to the nearest training image.
    /// </summary>
    [JsonIgnore]
    public double FractionMemorized => CopyFraction(Network);

    /// <summary>F for the given family (see <see cref="FractionMemorized"/>).</summary>
    public static double CopyFraction(FamilyMeasures family)
    {
        ArgumentNullException.ThrowIfNull(family);
        var ratios = family.RatioS1.Concat(family.RatioS2).ToArray();
        var similarities = family.NearestCenteredCosineS1.Concat(family.NearestCenteredCosineS2).ToArray();
        if (similarities.Length == 0) return double.NaN;
        return similarities.Where((s, i) => s >= CopySimilarity || ratios[i] < Memorization.RatioThreshold).Count() / (double)similarities.Length;
    }

    /// <summary>The regime by <see cref="Criterion"/>.</summary>
    [JsonIgnore]
    public TransitionRegime Regime
    {
        get
        {
            double a = Network.Cross.Median, b = Network.Nearest.Median, f = FractionMemorized;
            if (Network.MedianSteps < MinimumSteps || IsOffManifold) return TransitionRegime.Undetermined;
            if (f >= MemorizedFractionForMemorizing && a < b) return TransitionRegime.Memorizing;
            if (f < MemorizedFractionForGeneralizing && a >= b) return TransitionRegime.Generalizing;
            return TransitionRegime.Transitional;
        }
    }

    /// <summary>A plain-language paragraph: the regime and the numbers behind it.</summary>
    [JsonIgnore]
    public string Verdict
    {
        get
        {
            double a = Network.Cross.Median, b = Network.Nearest.Median, f = FractionMemorized, r = SimilaritySummary.Of(NearestPairCenteredCosine).Median;
            string regime = Regime switch
            {
                TransitionRegime.Memorizing => "memorizing: the networks reproduce their own training images, and the S1 and S2 networks give different images for the same seed",
                TransitionRegime.Generalizing => "generalizing: the S1 and S2 networks, trained on disjoint images, produce nearly the same image from the same seed, and it is not a copy of a training image",
                TransitionRegime.Undetermined => Network.MedianSteps < MinimumSteps
                    ? Inv($"undetermined: the networks barely denoise (Algorithm 1 stops after {Network.MedianSteps:F0} steps, the samples are the initial noise); train longer (--budget)")
                    : Inv($"undetermined: the samples are not images of the data (median similarity {b:F3} to the nearest training image, held-out images {HeldOutNearestMedian:F3}); train longer (--budget)"),
                _ => "transitional: the samples are neither clear copies of training images nor shared by the two networks",
            };
            string quality = double.IsFinite(HeldOutNearestMedian)
                ? Inv($" Sample quality: held-out images have median similarity {HeldOutNearestMedian:F3} to their nearest training image (B − that = {b - HeldOutNearestMedian:+0.000;−0.000}); the samples carry {HighFrequencyRatio:P0} of the training images' high-frequency power, {IntensityRatio:P0} of their mean brightness and {ContrastRatio:P0} of their contrast.")
                : "";
            return Inv($"N = {N}: {regime}. Median S1–S2 similarity A = {a:F3} vs median similarity to the nearest training image B = {b:F3}; ") +
                Inv($"{f:P0} of samples are copies of a training image; PSNR gap (train − test) {PsnrGap:F2} dB. ") +
                Inv($"Reference: the median similarity of an S1 image to its nearest S2 image is {r:F3}") +
                (Regime != TransitionRegime.Memorizing && a > r ? ", below A, so the agreement of the two networks is not explained by S1 and S2 holding similar images." : ".") +
                Inv($" The empirical optimal denoisers (pure memorizers) give A = {Optimal.Cross.Median:F3}, B = {Optimal.Nearest.Median:F3}") +
                Inv($", {CopyFraction(Optimal):P0} copies.") + quality;
        }
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>Serializes to indented JSON (NaN written as "NaN").</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Reads a point written by <see cref="ToJson"/>; null when the file is missing or unreadable (then the N is redone).</summary>
    public static TransitionPoint? TryLoad(string path)
    {
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize<TransitionPoint>(File.ReadAllText(path), s_json);
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>Writes <see cref="ToJson"/> atomically.</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, ToJson() + "\n");
}
