using System.Text;
using MemGen.Data;
using MemGen.Images;
using MemGen.Results;

namespace MemGen.Analysis;

/// <summary>Similarity of the S1 model's and the S2 model's samples drawn with the same seed and index.</summary>
/// <param name="Sample">Sample index (same seed, same index in both sets).</param>
/// <param name="Cosine">Cosine similarity.</param>
/// <param name="CenteredCosine">Mean-removed cosine similarity.</param>
/// <param name="Distance">l2 distance.</param>
public sealed record SamplePairSimilarity(int Sample, double Cosine, double CenteredCosine, double Distance);

/// <summary>
/// Generalization across models (docs/science.md §5.3): two models trained on disjoint sets S1 and S2 and sampled with the same
/// seed produce nearly the same images when they generalize (similarity near 1) and different ones when they memorize.
/// </summary>
public static class CrossModelSimilarity
{
    /// <summary>Pairs sample i of <paramref name="first"/> with sample i of <paramref name="second"/>.</summary>
    public static IReadOnlyList<SamplePairSimilarity> Measure(ImageSet first, ImageSet second)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.Count != second.Count || first.ImageSize != second.ImageSize)
            throw new ArgumentException($"Sample sets differ: {first.Count}×{first.ImageSize} vs {second.Count}×{second.ImageSize} (same seeds and sizes needed).");
        var result = new SamplePairSimilarity[first.Count];
        for (int i = 0; i < first.Count; i++)
        {
            var a = first.Image(i);
            var b = second.Image(i);
            result[i] = new SamplePairSimilarity(i, ImageStatistics.CosineSimilarity(a, b),
                ImageStatistics.CosineSimilarity(a, b, removeMean: true), ImageStatistics.L2Distance(a, b));
        }
        return result;
    }

    /// <summary>Summary of the plain cosine similarities.</summary>
    public static SimilaritySummary Summarize(IReadOnlyList<SamplePairSimilarity> pairs) =>
        SimilaritySummary.Of(pairs.Select(p => p.Cosine));

    /// <summary>Writes one row per pair as CSV, atomically.</summary>
    public static void WriteCsv(string path, IReadOnlyList<SamplePairSimilarity> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var table = new ResultTable(["sample", "cosine", "centered_cosine", "distance"]);
        foreach (var p in pairs) table.Add(p.Sample, p.Cosine, p.CenteredCosine, p.Distance);
        table.WriteCsv(path);
    }
}

/// <summary>The most similar S2 image of one S1 image.</summary>
/// <param name="Image">Index in S1.</param>
/// <param name="NearestIndex">Index of the most similar image in S2.</param>
/// <param name="Similarity">That similarity.</param>
public sealed record NearestPair(int Image, int NearestIndex, double Similarity);

/// <summary>
/// The reference distribution for <see cref="CrossModelSimilarity"/> (docs/science.md §5.4): for each image of S1 the similarity
/// of its most similar image in S2. Sample pairs more similar than this are not explained by S1 and S2 sharing images.
/// </summary>
public static class NearestPairSimilarity
{
    /// <summary>For each image of <paramref name="first"/>, its most similar image in <paramref name="second"/> (exact search).</summary>
    public static IReadOnlyList<NearestPair> Measure(ImageSet first, ImageSet second, SimilarityMetric metric = SimilarityMetric.Cosine)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (metric == SimilarityMetric.L2) throw new ArgumentException("Nearest-pair similarity needs a cosine metric.", nameof(metric));
        var found = new NearestNeighbourSearch(second, metric).Search(first);
        return Enumerable.Range(0, first.Count).Select(i => new NearestPair(i, found.Index(i), found.Score(i))).ToArray();
    }

    /// <summary>Summary of the similarities.</summary>
    public static SimilaritySummary Summarize(IReadOnlyList<NearestPair> pairs) => SimilaritySummary.Of(pairs.Select(p => p.Similarity));

    /// <summary>Writes one row per S1 image as CSV, atomically.</summary>
    public static void WriteCsv(string path, IReadOnlyList<NearestPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var table = new ResultTable(["image", "nearest_index", "similarity"]);
        foreach (var p in pairs) table.Add(p.Image, p.NearestIndex, p.Similarity);
        table.WriteCsv(path);
    }
}
