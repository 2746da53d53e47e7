using MemGen.Data;
using MemGen.Images;

namespace MemGen.Tests.Data;

public class DisjointSplitTests
{
    private const string PoolSpec = "disks:size=12,n=50,seed=3";

    [Fact]
    public void FirstNLastNAndHeldOutMiddleAreDisjoint()
    {
        var pool = DatasetLoader.Load(PoolSpec);
        var split = DisjointSplit.Create(pool, 20, 7);
        Assert.Equal(Enumerable.Range(0, 20), split.Manifest.S1Indices);
        Assert.Equal(Enumerable.Range(30, 20), split.Manifest.S2Indices);
        Assert.Equal(Enumerable.Range(20, 7), split.Manifest.TestIndices);
        Assert.Empty(split.Manifest.S1Indices.Intersect(split.Manifest.S2Indices).Concat(split.Manifest.TestIndices.Intersect(split.Manifest.S1Indices.Concat(split.Manifest.S2Indices))));
        Assert.Equal(pool.Image(30).ToArray(), split.S2.Image(0).ToArray());
        Assert.Equal(pool.Image(20).ToArray(), split.Test.Image(0).ToArray());
        Assert.Equal(PoolSpec, split.Manifest.PoolSpec);
        Assert.Equal(split.Manifest.PoolSpec, split.Manifest.TestSpec);
        Assert.NotEqual(split.Manifest.S1Sha256, split.Manifest.S2Sha256);
        Assert.Equal(64, split.Manifest.S1Sha256.Length);
    }

    [Fact]
    public void RefusesNAboveHalfThePoolAndOversizedTestSets()
    {
        var pool = DatasetLoader.Load(PoolSpec);
        var e = Assert.Throws<DataFormatException>(() => DisjointSplit.Create(pool, 26, 0));
        Assert.Contains("more than half of the pool (50 images)", e.Message);
        Assert.Contains("N ≤ 25", e.Message);
        Assert.Throws<DataFormatException>(() => DisjointSplit.Create(pool, 0, 0));
        Assert.Contains("held-out", Assert.Throws<DataFormatException>(() => DisjointSplit.Create(pool, 25, 1)).Message);
        var full = DisjointSplit.Create(pool, 25, 0);
        Assert.Equal(0, full.Test.Count);
    }

    [Fact]
    public void SeparateTestSetIsRecordedInTheManifest()
    {
        var pool = DatasetLoader.Load(PoolSpec);
        var test = DatasetLoader.Load("disks:size=12,n=10,seed=99");
        var split = DisjointSplit.Create(pool, 25, test, 10);
        Assert.Equal("disks:size=12,n=10,seed=99", split.Manifest.TestSpec);
        Assert.Equal(test.Pixels, split.Test.Pixels);
        Assert.Throws<DataFormatException>(() => DisjointSplit.Create(pool, 25, test, 11));
        Assert.Throws<DataFormatException>(() => DisjointSplit.Create(pool, 25, DatasetLoader.Load("disks:size=14,n=10,seed=1"), 1));
    }

    [Fact]
    public void ManifestRoundTripsAndReproducesTheSplitWithHashChecks()
    {
        using var dir = new TempFolder();
        var split = DisjointSplit.Create(DatasetLoader.Load(PoolSpec + "|take=40"), 10, 5);
        var path = dir.File("split.json");
        split.Manifest.Save(path);
        var loaded = SplitManifest.Load(path);
        Assert.Equal(split.Manifest.S2Indices, loaded.S2Indices);
        Assert.Equal(split.Manifest.TestSha256, loaded.TestSha256);
        Assert.Equal(PoolSpec + "|take=40", loaded.PoolSpec);
        var again = DisjointSplit.FromManifest(loaded);
        Assert.Equal(split.S1.Pixels, again.S1.Pixels);
        Assert.Equal(split.Test.Pixels, again.Test.Pixels);
        var tampered = loaded with { S2Sha256 = new string('0', 64) };
        Assert.Contains("S2", Assert.Throws<DataFormatException>(() => DisjointSplit.FromManifest(tampered)).Message);
        File.WriteAllText(path, "{ not json");
        Assert.Contains(path, Assert.Throws<DataFormatException>(() => SplitManifest.Load(path)).Message);
    }

    [Fact]
    public void HashDependsOnPixelsAndShape()
    {
        var a = new ImageSet([0.1f, 0.2f, 0.3f, 0.4f], 1, 1, 2, 2, new Provenance("a", []));
        var b = new ImageSet([0.1f, 0.2f, 0.3f, 0.4f], 1, 1, 1, 4, new Provenance("a", []));
        var c = new ImageSet([0.1f, 0.2f, 0.3f, 0.41f], 1, 1, 2, 2, new Provenance("a", []));
        Assert.NotEqual(SplitManifest.Hash(a), SplitManifest.Hash(b));
        Assert.NotEqual(SplitManifest.Hash(a), SplitManifest.Hash(c));
        Assert.Equal(SplitManifest.Hash(a), SplitManifest.Hash(new ImageSet([0.1f, 0.2f, 0.3f, 0.4f], 1, 1, 2, 2, new Provenance("other", []))));
    }
}
