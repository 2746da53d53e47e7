using MemGen.Tensors;

namespace MemGen.Tests.Tensors;

public class DeterministicRngTests
{
    [Fact]
    public void SameSeedAndStreamGiveSameSequence()
    {
        var a = new DeterministicRng(42, 7);
        var b = new DeterministicRng(42, 7);
        for (int i = 0; i < 100; i++) Assert.Equal(a.NextUInt64(), b.NextUInt64());
    }

    [Fact]
    public void DifferentStreamsDiffer()
    {
        var a = new DeterministicRng(42, 0);
        var b = new DeterministicRng(42, 1);
        int equal = 0;
        for (int i = 0; i < 100; i++) if (a.NextUInt64() == b.NextUInt64()) equal++;
        Assert.Equal(0, equal);
    }

    [Fact]
    public void NormalMomentsMatch()
    {
        var rng = new DeterministicRng(1);
        var x = new float[200_000];
        rng.FillNormal(x);
        double mean = x.Average(v => (double)v);
        double var = x.Average(v => (v - mean) * (v - mean));
        double kurt = x.Average(v => Math.Pow(v - mean, 4)) / (var * var);
        Assert.InRange(mean, -0.01, 0.01);
        Assert.InRange(var, 0.99, 1.01);
        Assert.InRange(kurt, 2.95, 3.05);
    }

    [Fact]
    public void PermutationIsAPermutation()
    {
        var p = new DeterministicRng(3).Permutation(1000);
        Assert.Equal(Enumerable.Range(0, 1000), p.OrderBy(v => v));
        Assert.NotEqual(Enumerable.Range(0, 1000), p);
    }
}
