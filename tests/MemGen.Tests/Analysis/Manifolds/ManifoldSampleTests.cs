using MemGen.Analysis.AdaptiveBasis;
using MemGen.Analysis.Manifolds;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;

namespace MemGen.Tests.Analysis.Manifolds;

public class ManifoldSampleTests
{
    [Fact]
    public void EachKindBringsItsDimensionTangentsAndOracle()
    {
        var disks = ManifoldSample.FromSpec(DatasetSpec.Parse("disks:size=12,n=3,seed=2,aa=exact"));
        Assert.Equal((5, 3), (disks.Dimension, disks.Images.Count));
        Assert.IsType<DiskManifoldDenoiser>(disks.Oracle);
        var p = Disks.Generate(3, 12, 2, Disks.ExactArea).Parameters[1];
        Assert.Equal(Array.ConvertAll(Disks.ExactTangents(p, 12), v => (double)v), disks.TangentsOf(1));

        var sinusoids = ManifoldSample.FromSpec(DatasetSpec.Parse("sinusoids:size=8,n=4,seed=3,amp=0.4|take=2"));
        Assert.Equal((2, 2), (sinusoids.Dimension, sinusoids.Images.Count));
        Assert.Equal(Sinusoids.Tangents(Sinusoids.Draw(3, 1, 0.4), 8), sinusoids.TangentsOf(1));

        var ray = ManifoldSample.FromSpec(DatasetSpec.Parse("rescaled:n=3,seed=1,index=2,from=disks:size=10,n=4,seed=5"));
        Assert.Equal((1, "ray"), (ray.Dimension, ray.Kind));
        var x0 = DatasetLoader.Load("disks:size=10,n=4,seed=5").Image(2).ToArray();
        Assert.Equal(Array.ConvertAll(x0, v => (double)v), ray.TangentsOf(0));
        Assert.Equal("ray-oracle", ray.Oracle.Name);

        Assert.Throws<DataFormatException>(() => ManifoldSample.FromSpec(DatasetSpec.Parse("disks:size=12,n=3,seed=2|shuffle=1")));
        Assert.Throws<DataFormatException>(() => ManifoldSample.FromSpec(DatasetSpec.Parse("calpha:alpha=2,size=8,n=2,seed=1")));
    }

    [Fact]
    public void OracleJacobianTopEigenvectorsSpanTheTangentSpace()
    {
        var sample = ManifoldSample.FromSpec(DatasetSpec.Parse("sinusoids:size=8,n=3,seed=7"));
        var m = JacobianStudy.Measure(sample.Oracle, sample.Images.Image(0), new ImageShape(1, 8, 8), 0.02, seed: 1,
            options: new() { Top = 2, PowersOfTwo = false, DifferenceStep = 0.01 });
        Assert.All(sample.TangentCosines(0, m), c => Assert.True(c > 1 - 1e-6, $"cosine {c}"));
        Assert.Throws<ArgumentException>(() => sample.TangentCosines(0, m with { EigenvectorIndices = [0, 3] }));
    }
}
