using MemGen.Analysis;
using MemGen.Data;
using MemGen.Images;
using MemGen.Tensors;
using MemGen.Tests.Denoisers;

namespace MemGen.Tests.Analysis;

public class NearestNeighbourSearchTests
{
    /// <summary>Queries: some exact copies and near-copies of reference images, some fresh images.</summary>
    internal static ImageSet Queries(ImageSet reference, int count, long seed)
    {
        var rng = new DeterministicRng(seed);
        int d = reference.ImageSize;
        var pixels = new float[count * d];
        for (int q = 0; q < count; q++)
        {
            var row = pixels.AsSpan(q * d, d);
            switch (q % 3)
            {
                case 0: reference.Image(rng.NextInt(reference.Count)).CopyTo(row); break;
                case 1:
                    reference.Image(rng.NextInt(reference.Count)).CopyTo(row);
                    for (int j = 0; j < d; j++) row[j] += 0.01f * (float)rng.NextNormal();
                    break;
                default: rng.FillUniform(row); break;
            }
        }
        return new ImageSet(pixels, count, reference.Channels, reference.Height, reference.Width, new Provenance("queries", []));
    }

    private static double Naive(SimilarityMetric metric, ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double ab = 0, aa = 0, bb = 0, ma = 0, mb = 0, l2 = 0;
        if (metric == SimilarityMetric.CenteredCosine)
        {
            for (int j = 0; j < a.Length; j++) { ma += a[j]; mb += b[j]; }
            ma /= a.Length;
            mb /= a.Length;
        }
        for (int j = 0; j < a.Length; j++)
        {
            ab += (a[j] - ma) * (b[j] - mb);
            aa += (a[j] - ma) * (a[j] - ma);
            bb += (b[j] - mb) * (b[j] - mb);
            l2 += (a[j] - (double)b[j]) * (a[j] - (double)b[j]);
        }
        return metric == SimilarityMetric.L2 ? Math.Sqrt(l2) : ab / Math.Sqrt(aa * bb);
    }

    [Theory]
    [InlineData(SimilarityMetric.L2, 7, 4)]
    [InlineData(SimilarityMetric.Cosine, 16, 5)]
    [InlineData(SimilarityMetric.CenteredCosine, 4096, 256)]
    [InlineData(SimilarityMetric.L2, 4096, 256)]
    public void MatchesNaiveLoops(SimilarityMetric metric, int blockRows, int batchRows)
    {
        var reference = DenoiserTestData.Uniform(40, 1, 5, 5, seed: 31);
        var queries = Queries(reference, 13, seed: 32);
        var result = new NearestNeighbourSearch(reference, metric, blockRows, batchRows).Search(queries, k: 2);
        for (int q = 0; q < queries.Count; q++)
        {
            var ranked = Enumerable.Range(0, reference.Count)
                .Select(i => (Index: i, Score: Naive(metric, queries.Image(q), reference.Image(i))))
                .OrderBy(t => metric == SimilarityMetric.L2 ? t.Score : -t.Score).ToArray();
            for (int rank = 0; rank < 2; rank++)
            {
                Assert.Equal(ranked[rank].Index, result.Index(q, rank));
                Assert.Equal(ranked[rank].Score, result.Score(q, rank), 9);
            }
        }
    }

    [Fact]
    public void ExactCopiesHaveZeroDistanceAndUnitSimilarity()
    {
        var reference = DenoiserTestData.Uniform(30, 1, 6, 6, seed: 33);
        var copies = reference.Subset([4, 17], "copies");
        var l2 = new NearestNeighbourSearch(reference, SimilarityMetric.L2).Search(copies);
        var cos = new NearestNeighbourSearch(reference, SimilarityMetric.Cosine).Search(copies);
        Assert.Equal([4, 17], new[] { l2.Index(0), l2.Index(1) });
        Assert.Equal(0.0, l2.Score(0), 12);
        Assert.Equal(1.0, cos.Score(1), 9);
    }

    [Fact]
    public void FewerReferencesThanKLeaveMissingRanks()
    {
        var reference = DenoiserTestData.Uniform(1, 1, 3, 3, seed: 34);
        var result = new NearestNeighbourSearch(reference, SimilarityMetric.L2).Search(reference, k: 2);
        Assert.Equal(0, result.Index(0, 0));
        Assert.Equal(-1, result.Index(0, 1));
        Assert.True(double.IsNaN(result.Score(0, 1)));
    }
}
