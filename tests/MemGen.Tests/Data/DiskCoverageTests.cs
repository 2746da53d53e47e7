using MemGen.Analysis.Manifolds;
using MemGen.Data;
using MemGen.Images;
using Xunit.Abstractions;

namespace MemGen.Tests.Data;

public class DiskCoverageTests(ITestOutputHelper output)
{
    private const int Size = 24;
    private static readonly DiskParameters Disk = new(11.3, 12.6, 6.65, 1, 0); // fg − bg = 1: pixels are covered fractions; no edge tangent to a pixel side (the area is only C¹ there)

    [Fact]
    public void AreasAddUpToTheDiskAndMatchClosedForms()
    {
        var image = new float[Size * Size];
        Disks.Render(Disk, Size, Disks.ExactArea, image);
        Assert.Equal(Math.PI * Disk.Radius * Disk.Radius, image.Sum(v => (double)v), 4); // float pixels: ~1e-5
        Assert.Equal(1, DiskCoverage.PixelFraction(Disk, 11, 12));
        Assert.Equal(0, DiskCoverage.PixelFraction(Disk, 0, 0));
        // A quarter of the disk, and the half-plane limit of a huge disk whose edge cuts a pixel in two.
        Assert.Equal(Math.PI * 4 / 4, DiskCoverage.Area(0, 0, 2, 0, 5, 0, 5), 12);
        Assert.Equal(Math.PI * 4 / 2, DiskCoverage.Area(0, 0, 2, -5, 5, 0, 3), 12);
        Assert.Equal(0.5, DiskCoverage.Area(-1e4 + 0.5, 0.5, 1e4, 0, 1, 0, 1), 4);
        // The circular segment above the chord y = h: r²·acos(h/r) − h·√(r² − h²).
        double r = 3, hh = 1.2;
        Assert.Equal(r * r * Math.Acos(hh / r) - hh * Math.Sqrt(r * r - hh * hh), DiskCoverage.Area(0, 0, r, -10, 10, hh, 10), 12);
    }

    [Fact]
    public void ExactAreasAreTheLimitOfSupersampling()
    {
        var exact = new float[Size * Size];
        var sampled = new float[Size * Size];
        Disks.Render(Disk, Size, Disks.ExactArea, exact);
        Disks.Render(Disk, Size, 64, sampled);
        double max = exact.Zip(sampled, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(max < 0.01, $"max |exact − 64×64 supersampled| = {max}");
        Assert.True(max > 0, "the two renderers should not be the same code");
    }

    [Fact]
    public void ExactTangentsAreTheDerivativesOfExactAreaImages()
    {
        var p = Disk with { Foreground = 0.9, Background = 0.2 };
        var t = Disks.ExactTangents(p, Size);
        int d = Size * Size;
        // Independent reference: central differences of the exact-area renderer (C¹, and C² away from edges tangent to a
        // pixel side, which this disk has none of).
        const double h = 1e-3;
        var plus = new float[d];
        var minus = new float[d];
        for (int k = 0; k < 5; k++)
        {
            Disks.Render(p.Shifted(k, h), Size, Disks.ExactArea, plus);
            Disks.Render(p.Shifted(k, -h), Size, Disks.ExactArea, minus);
            for (int i = 0; i < d; i++) Assert.Equal((plus[i] - minus[i]) / (2 * h), t[k * d + i], 2e-3);
        }
        // Closed-form totals: d(area)/dr is the perimeter, a translation keeps the area.
        double Sum(int k) => Enumerable.Range(0, d).Sum(i => (double)t[k * d + i]);
        Assert.Equal(0.7 * 2 * Math.PI * p.Radius, Sum(2), 4);
        Assert.Equal(0, Sum(0), 5);
        Assert.Equal(0, Sum(1), 5);
        Assert.Equal(Math.PI * p.Radius * p.Radius, Sum(3), 4);
        // Arc length of a whole circle, and of a quarter.
        Assert.Equal(2 * Math.PI * 3, DiskCoverage.ArcLength(0, 0, 3, -5, 5, -5, 5), 12);
        Assert.Equal(Math.PI * 3 / 2, DiskCoverage.ArcLength(0, 0, 3, 0, 5, 0, 5), 12);
    }

    [Fact]
    public void SupersampledTangentsSpanTheExactTangentSpaceWhenTheStepIsSmall()
    {
        var p = new DiskParameters(9.4, 10.2, 5.3, 0.8, 0.3);
        var exact = Array.ConvertAll(Disks.ExactTangents(p, 20), v => (double)v);
        var fine = PrincipalAngles.Cosines(Disks.Tangents(p, 20, step: 0.1, supersample: 64), 5, exact, 5);
        var halfPixel = PrincipalAngles.Cosines(Disks.Tangents(p, 20), 5, exact, 5);
        output.WriteLine("step 0.1, F 64: cosines " + string.Join(", ", fine.Select(c => c.ToString("F5"))));
        output.WriteLine("step 0.5, F 16 (default): cosines " + string.Join(", ", halfPixel.Select(c => c.ToString("F5"))));
        Assert.Equal(5, fine.Length);
        Assert.True(fine.Min() > 0.999, $"smallest principal cosine {fine.Min()}");
        // The default half-pixel step smooths the edge: the same kind of span, tilted by up to ~20°.
        Assert.InRange(halfPixel.Min(), 0.9, 0.97);
        Assert.True(halfPixel.Average() > 0.97, $"mean principal cosine {halfPixel.Average()}");
    }

    [Fact]
    public void SpecSelectsExactAreas()
    {
        var set = DatasetLoader.Load("disks:size=12,n=3,seed=4,aa=exact");
        var direct = Disks.Generate(3, 12, 4, Disks.ExactArea);
        Assert.Equal(direct.Images.Pixels, set.Pixels);
        Assert.Contains("aa=exact", direct.Images.Provenance.Source);
        var hard = Disks.Generate(3, 12, 4);
        Assert.NotEqual(hard.Images.Pixels, set.Pixels);
        Assert.Equal(hard.Parameters, direct.Parameters);
        Assert.Throws<DataFormatException>(() => DatasetSpec.Parse("disks:size=12,n=3,seed=4,aa=smooth"));
    }
}
