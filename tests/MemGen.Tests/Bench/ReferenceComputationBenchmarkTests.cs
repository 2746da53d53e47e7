using MemGen.Analysis;
using MemGen.Bench;
using MemGen.Cli;

namespace MemGen.Tests.Bench;

public class ReferenceComputationBenchmarkTests
{
    [Fact]
    public void MeasuresPositiveRates()
    {
        var training = ReferenceComputationBenchmark.Synthetic(300, 6, seed: 1);
        var empirical = ReferenceComputationBenchmark.EmpiricalOptimal(training, queries: 8, repeats: 1);
        Assert.Equal(8, empirical.Items);
        Assert.True(empirical.ItemsPerSecond > 0 && empirical.Gflops > 0);
        var search = ReferenceComputationBenchmark.NearestNeighbours(training, queries: 5, SimilarityMetric.Cosine, repeats: 1);
        Assert.Equal(5L * 300, search.Items);
        Assert.True(search.ItemsPerSecond > 0);
    }

    [Fact]
    public void BenchReferenceRejectsBadFlags()
    {
        Assert.Equal(2, Program.BuildRoot().Parse(["bench", "reference", "--train", "1"]).Invoke());
        Assert.Equal(2, Program.BuildRoot().Parse(["bench", "reference", "--queries", "0"]).Invoke());
    }
}
