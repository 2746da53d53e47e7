using System.Globalization;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Images;
using MemGen.Tests.Denoisers;

namespace MemGen.Tests.Analysis;

public class MemorizationTests
{
    private static double Cos(ReadOnlySpan<float> a, ReadOnlySpan<float> b, bool centre)
    {
        double ma = 0, mb = 0;
        if (centre) { foreach (var v in a) ma += v; foreach (var v in b) mb += v; ma /= a.Length; mb /= b.Length; }
        double ab = 0, aa = 0, bb = 0;
        for (int j = 0; j < a.Length; j++) { ab += (a[j] - ma) * (b[j] - mb); aa += (a[j] - ma) * (a[j] - ma); bb += (b[j] - mb) * (b[j] - mb); }
        return ab / Math.Sqrt(aa * bb);
    }

    private static double Dist(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int j = 0; j < a.Length; j++) s += (a[j] - (double)b[j]) * (a[j] - (double)b[j]);
        return Math.Sqrt(s);
    }

    [Fact]
    public void MatchesNaiveLoopsAndAppliesTheOneThirdRule()
    {
        var training = DenoiserTestData.Uniform(25, 1, 5, 5, seed: 41);
        var samples = NearestNeighbourSearchTests.Queries(training, 12, seed: 42);
        var measures = Memorization.Measure(samples, training);
        for (int s = 0; s < samples.Count; s++)
        {
            var x = samples.Image(s).ToArray();
            var byCos = Enumerable.Range(0, 25).MaxBy(i => Cos(x, training.Image(i), false));
            var byCentred = Enumerable.Range(0, 25).MaxBy(i => Cos(x, training.Image(i), true));
            var dists = Enumerable.Range(0, 25).Select(i => Dist(x, training.Image(i))).OrderBy(v => v).ToArray();
            var m = measures[s];
            Assert.Equal(byCos, m.CosineIndex);
            Assert.Equal(Cos(x, training.Image(byCos), false), m.Cosine, 9);
            Assert.Equal(byCentred, m.CenteredCosineIndex);
            Assert.Equal(Cos(x, training.Image(byCentred), true), m.CenteredCosine, 9);
            Assert.Equal(dists[0], m.NearestDistance, 9);
            Assert.Equal(dists[1], m.SecondDistance, 9);
            Assert.Equal(dists[0] / dists[1], m.Ratio, 9);
            Assert.Equal(dists[0] / dists[1] < 1.0 / 3, m.Memorized);
            // Queries 0 and 1 (mod 3) are copies / near-copies of training images; 2 (mod 3) are fresh images.
            Assert.Equal(s % 3 != 2, m.Memorized);
        }
        var summary = Memorization.Summarize(measures);
        Assert.Equal(8.0 / 12, summary.FractionMemorized, 12);
        Assert.Equal(measures.Average(m => m.Cosine), summary.Cosine.Mean, 12);
    }

    [Fact]
    public void RatioThresholdIsOneThird()
    {
        // x on the segment between two far-apart training images: ratio = t/(1 − t).
        var pixels = new float[3 * 4];
        for (int j = 0; j < 4; j++) { pixels[j] = 0f; pixels[4 + j] = 1f; pixels[8 + j] = 10f; }
        var training = new ImageSet(pixels, 3, 1, 2, 2, new Provenance("segment", []));
        float[] Point(float t) => [t, t, t, t];
        var samples = new ImageSet([.. Point(0.24f), .. Point(0.26f)], 2, 1, 2, 2, new Provenance("s", []));
        var m = Memorization.Measure(samples, training);
        Assert.True(m[0].Memorized);   // 0.24/0.76 < 1/3
        Assert.False(m[1].Memorized);  // 0.26/0.74 > 1/3
        Assert.Equal(0.24 / 0.76, m[0].Ratio, 6);
    }

    [Fact]
    public void SingleTrainingImageLeavesRatioUndefined()
    {
        var training = DenoiserTestData.Uniform(1, 1, 3, 3, seed: 43);
        var m = Memorization.Measure(training, training);
        Assert.Null(m[0].Memorized);
        Assert.True(double.IsNaN(m[0].Ratio));
        Assert.True(double.IsNaN(Memorization.Summarize(m).FractionMemorized));
    }

    [Fact]
    public void CsvHasHeaderAndOneRowPerSample()
    {
        var training = DenoiserTestData.Uniform(10, 1, 3, 3, seed: 44);
        var measures = Memorization.Measure(training.Subset([2, 5], "copies"), training);
        var path = Path.Combine(Path.GetTempPath(), $"memgen-mem-{Guid.NewGuid():N}.csv");
        try
        {
            Memorization.WriteCsv(path, measures);
            var lines = File.ReadAllLines(path);
            Assert.Equal(3, lines.Length);
            Assert.StartsWith("sample,cosine_index,cosine", lines[0]);
            var cells = lines[2].Split(',');
            Assert.Equal("5", cells[5]);
            Assert.Equal(0.0, double.Parse(cells[6], CultureInfo.InvariantCulture), 12);
            Assert.Equal("1", cells[9]);
        }
        finally { File.Delete(path); }
    }
}

public class CrossModelSimilarityTests
{
    [Fact]
    public void PairsSamplesByIndex()
    {
        var a = DenoiserTestData.Uniform(6, 1, 4, 4, seed: 45);
        var b = DenoiserTestData.Uniform(6, 1, 4, 4, seed: 46);
        var pairs = CrossModelSimilarity.Measure(a, b);
        for (int i = 0; i < 6; i++)
        {
            Assert.Equal(ImageStatistics.CosineSimilarity(a.Image(i), b.Image(i)), pairs[i].Cosine, 12);
            Assert.Equal(ImageStatistics.L2Distance(a.Image(i), b.Image(i)), pairs[i].Distance, 12);
        }
        var self = CrossModelSimilarity.Measure(a, a);
        Assert.All(self, p => Assert.Equal(1.0, p.Cosine, 9));
        Assert.Equal(1.0, CrossModelSimilarity.Summarize(self).Median, 9);
        Assert.Throws<ArgumentException>(() => CrossModelSimilarity.Measure(a, a.Subset([0], "one")));
    }

    [Fact]
    public void NearestPairMatchesNaiveMaximum()
    {
        var s1 = DenoiserTestData.Uniform(7, 1, 4, 4, seed: 47);
        var s2 = DenoiserTestData.Uniform(9, 1, 4, 4, seed: 48);
        var pairs = NearestPairSimilarity.Measure(s1, s2);
        for (int i = 0; i < 7; i++)
        {
            var best = Enumerable.Range(0, 9).Select(j => ImageStatistics.CosineSimilarity(s1.Image(i), s2.Image(j))).Max();
            Assert.Equal(best, pairs[i].Similarity, 9);
        }
    }

    [Fact]
    public void SummaryStatistics()
    {
        var s = SimilaritySummary.Of([1.0, 3.0, double.NaN, 2.0, 10.0]);
        Assert.Equal(4, s.Count);
        Assert.Equal(4.0, s.Mean, 12);
        Assert.Equal(2.5, s.Median, 12);
        Assert.Equal(1.0, s.Min);
        Assert.Equal(10.0, s.Max);
    }
}

public class AnalysisJsonTests
{
    [Fact]
    public void SummariesSerializeWithNaNAsNull()
    {
        var training = DenoiserTestData.Uniform(1, 1, 3, 3, seed: 43);
        var summary = Memorization.Summarize(Memorization.Measure(training, training)); // single image: ratio undefined
        using var json = System.Text.Json.JsonDocument.Parse(AnalysisJson.Serialize(summary));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, json.RootElement.GetProperty("fraction_memorized").ValueKind);
        Assert.Equal(1.0, json.RootElement.GetProperty("cosine").GetProperty("mean").GetDouble(), 9);
        Assert.Equal(1, json.RootElement.GetProperty("count").GetInt32());
    }
}
