using System.Text;
using MemGen.Data;
using MemGen.Images;
using MemGen.Results;

namespace MemGen.Analysis;

/// <summary>
/// How close one generated sample is to its model's own training set (docs/science.md §5.2): the most similar training image
/// by cosine similarity (plain and mean-removed), the l2-nearest and second-nearest training images, and the
/// Gu et al. ratio ‖x − NN1‖/‖x − NN2‖ (memorized when below 1/3).
/// </summary>
/// <param name="Sample">Index of the sample.</param>
/// <param name="CosineIndex">Training image with the highest cosine similarity (−1 if undefined, e.g. a NaN sample).</param>
/// <param name="Cosine">That similarity.</param>
/// <param name="CenteredCosineIndex">Training image with the highest mean-removed cosine similarity.</param>
/// <param name="CenteredCosine">That similarity.</param>
/// <param name="NearestIndex">The l2-nearest training image.</param>
/// <param name="NearestDistance">‖x − NN1‖.</param>
/// <param name="SecondDistance">‖x − NN2‖ (NaN with a single training image).</param>
/// <param name="Ratio">‖x − NN1‖/‖x − NN2‖ (NaN when undefined).</param>
/// <param name="Memorized">Ratio below <see cref="Memorization.RatioThreshold"/>; null when the ratio is undefined.</param>
public sealed record SampleMemorization(int Sample, int CosineIndex, double Cosine, int CenteredCosineIndex, double CenteredCosine,
    int NearestIndex, double NearestDistance, double SecondDistance, double Ratio, bool? Memorized);

/// <summary>Summary of the memorization measures of a set of samples.</summary>
/// <param name="Count">Number of samples.</param>
/// <param name="Cosine">Similarity to the most similar training image (plain cosine).</param>
/// <param name="CenteredCosine">The same with mean removal.</param>
/// <param name="NearestDistance">l2 distance to the nearest training image.</param>
/// <param name="Ratio">Nearest/second-nearest distance ratio.</param>
/// <param name="FractionMemorized">Fraction of samples (with a defined ratio) below the 1/3 threshold; NaN if none defined.</param>
public sealed record MemorizationSummary(int Count, SimilaritySummary Cosine, SimilaritySummary CenteredCosine,
    SimilaritySummary NearestDistance, SimilaritySummary Ratio, double FractionMemorized);

/// <summary>Memorization measures of generated samples against the training set of the model that made them.</summary>
public static class Memorization
{
    /// <summary>Gu et al.: a sample is memorized when ‖x − NN1‖ &lt; ‖x − NN2‖/3.</summary>
    public const double RatioThreshold = 1.0 / 3.0;

    /// <summary>Measures each sample of <paramref name="samples"/> against <paramref name="training"/> (exact search).</summary>
    public static IReadOnlyList<SampleMemorization> Measure(ImageSet samples, ImageSet training)
    {
        ArgumentNullException.ThrowIfNull(samples);
        ArgumentNullException.ThrowIfNull(training);
        if (samples.ImageSize != training.ImageSize)
            throw new ArgumentException($"Samples have {samples.ImageSize} pixels per image, the training set {training.ImageSize}.");
        var cosine = new NearestNeighbourSearch(training, SimilarityMetric.Cosine).Search(samples);
        var centred = new NearestNeighbourSearch(training, SimilarityMetric.CenteredCosine).Search(samples);
        var l2 = new NearestNeighbourSearch(training, SimilarityMetric.L2).Search(samples, k: 2);
        var result = new SampleMemorization[samples.Count];
        for (int s = 0; s < samples.Count; s++)
        {
            double d1 = l2.Score(s, 0), d2 = l2.Score(s, 1);
            double ratio = Ratio(d1, d2);
            result[s] = new SampleMemorization(s, cosine.Index(s), cosine.Score(s), centred.Index(s), centred.Score(s),
                l2.Index(s), d1, d2, ratio, double.IsNaN(ratio) ? null : ratio < RatioThreshold);
        }
        return result;
    }

    /// <summary>‖x − NN1‖/‖x − NN2‖: 0 for an exact copy of a unique image, NaN when NN2 is missing or both are 0.</summary>
    public static double Ratio(double nearest, double second)
    {
        if (!double.IsFinite(nearest) || !double.IsFinite(second)) return double.NaN;
        if (second == 0) return nearest == 0 ? double.NaN : double.PositiveInfinity;
        return nearest / second;
    }

    /// <summary>Means, medians and the fraction memorized.</summary>
    public static MemorizationSummary Summarize(IReadOnlyList<SampleMemorization> measures)
    {
        ArgumentNullException.ThrowIfNull(measures);
        var defined = measures.Where(m => m.Memorized.HasValue).ToArray();
        return new MemorizationSummary(measures.Count,
            SimilaritySummary.Of(measures.Select(m => m.Cosine)),
            SimilaritySummary.Of(measures.Select(m => m.CenteredCosine)),
            SimilaritySummary.Of(measures.Select(m => m.NearestDistance)),
            SimilaritySummary.Of(measures.Select(m => m.Ratio)),
            defined.Length == 0 ? double.NaN : defined.Count(m => m.Memorized == true) / (double)defined.Length);
    }

    /// <summary>Writes one row per sample as CSV, atomically.</summary>
    public static void WriteCsv(string path, IReadOnlyList<SampleMemorization> measures)
    {
        ArgumentNullException.ThrowIfNull(measures);
        var table = new ResultTable(["sample", "cosine_index", "cosine", "centered_cosine_index", "centered_cosine", "nearest_index", "nearest_distance",
            "second_distance", "ratio", "memorized"]);
        foreach (var m in measures)
            table.Add(m.Sample, m.CosineIndex, m.Cosine, m.CenteredCosineIndex, m.CenteredCosine, m.NearestIndex, m.NearestDistance, m.SecondDistance, m.Ratio,
                m.Memorized switch { true => 1, false => 0, null => null });
        table.WriteCsv(path);
    }
}
