using MemGen.Analysis;
using MemGen.Analysis.AdaptiveBasis;
using MemGen.Analysis.Manifolds;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Tensors;
using Xunit.Abstractions;

namespace MemGen.Tests.Denoisers;

public class ManifoldOracleDenoiserTests(ITestOutputHelper output)
{
    /// <summary>‖f(x + σz) − x‖²/σ² over draws z (one per (image, draw)): its mean is k at small σ for a k-dimensional manifold.</summary>
    private static MeanEstimate NormalizedError(IDenoiser denoiser, ImageSet clean, double sigma, int draws, long seed)
    {
        int d = clean.ImageSize;
        var noisy = new Tensor(clean.Count * draws, clean.Channels, clean.Height, clean.Width);
        for (int i = 0; i < clean.Count; i++)
            for (int r = 0; r < draws; r++)
            {
                var y = noisy.Item(i * draws + r);
                new DeterministicRng(seed, i * draws + r).FillNormal(y, 0f, (float)sigma);
                for (int j = 0; j < d; j++) y[j] += clean.Image(i)[j];
            }
        var denoised = noisy.ZerosLike();
        denoiser.Denoise(noisy, denoised, Enumerable.Repeat((float)sigma, noisy.Shape[0]).ToArray());
        var errors = Enumerable.Range(0, noisy.Shape[0])
            .Select(n => ImageStatistics.SquaredDistance(denoised.Item(n), clean.Image(n / draws)) / (sigma * sigma)).ToArray();
        return MeanEstimate.Of(errors);
    }

    private void AssertManifoldDimension(string what, MeanEstimate error, int k, int d, double sigma)
    {
        double psnrIn = ImageStatistics.InputPsnr(sigma), psnrOut = -10 * Math.Log10(error.Mean * sigma * sigma / d);
        output.WriteLine($"{what}: E‖f(y) − x‖²/σ² = {error.Mean:F3} ± {error.StandardError:F3} (k = {k}); PSNR {psnrIn:F1} → {psnrOut:F2} dB, oracle line {ManifoldOracle.Psnr(psnrIn, d, k):F2} dB");
        Assert.True(error.StandardError < 0.25 * k, $"{what}: too few draws (standard error {error.StandardError})");
        Assert.True(Math.Abs(error.Mean - k) < 4 * error.StandardError, $"{what}: {error} vs k = {k}");
    }

    private static ImageSet Images(params float[][] images)
    {
        int side = (int)Math.Sqrt(images[0].Length);
        return new ImageSet([.. images.SelectMany(x => x)], images.Length, 1, side, side, new Provenance("test", []));
    }

    [Fact]
    public void RayOracleKeepsOneNoiseDimension()
    {
        var x0 = new float[64];
        new DeterministicRng(1).FillUniform(x0);
        var clean = Images(x0.Select(v => 0.6f * v).ToArray(), x0.Select(v => 0.9f * v).ToArray());
        AssertManifoldDimension("ray", NormalizedError(new RayDenoiser(x0), clean, 0.02, 100, seed: 2), 1, 64, 0.02);
    }

    [Fact]
    public void SinusoidOracleIsTheProjectionOntoTheDiskInItsPlane()
    {
        const int size = 10, d = 100;
        var oracle = new SinusoidManifoldDenoiser(size, amplitude: 0.5);
        var set = Sinusoids.Generate(6, size, seed: 3, amplitude: 0.5);
        // Points of the manifold are fixed points.
        var output = new Tensor(6, 1, size, size);
        oracle.Denoise(Tensor.FromArray(set.Pixels, 6, 1, size, size), output, new float[6]);
        for (int i = 0; i < set.Pixels.Length; i++) Assert.Equal(set.Pixels[i], output.Data[i], 1e-6f);
        // Interior points (amplitude away from 0 and 0.5): MSE 2σ².
        var interior = Images(Enumerable.Range(0, 4).Select(i =>
        {
            var x = new float[d];
            Sinusoids.Render(new SinusoidParameters(0.15 + 0.05 * i, 1.3 * i), size, 3, 2, x);
            return x;
        }).ToArray());
        AssertManifoldDimension("sinusoids", NormalizedError(oracle, interior, 0.01, 40, seed: 4), 2, d, 0.01);
        // A point beyond the rim (amplitude 0.8 > 0.5) goes to the rim at the same phase.
        var far = new float[d];
        var rim = new float[d];
        Sinusoids.Render(new SinusoidParameters(0.8, 0.7), size, 3, 2, far);
        Sinusoids.Render(new SinusoidParameters(0.5, 0.7), size, 3, 2, rim);
        var denoised = new Tensor(1, 1, size, size);
        oracle.Denoise(Tensor.FromArray(far, 1, 1, size, size), denoised, [0f]);
        for (int i = 0; i < d; i++) Assert.Equal(rim[i], denoised.Data[i], 1e-5f);
    }

    [Fact]
    public void SinusoidOracleRimSearchIsTheNearestRimPointWhenThePlaneIsNotIsotropic()
    {
        // fx = 2.5 on 10 pixels: cos θ and sin θ are neither orthogonal nor of equal norm, so the rim point is searched.
        const int size = 10, d = 100;
        var oracle = new SinusoidManifoldDenoiser(size, fx: 2.5, fy: 1, amplitude: 0.3);
        var y = new float[d];
        new DeterministicRng(5).FillUniform(y, -0.5f, 1.5f);
        var denoised = new Tensor(1, 1, size, size);
        oracle.Denoise(Tensor.FromArray(y, 1, 1, size, size), denoised, [0f]);
        double found = ImageStatistics.SquaredDistance(denoised.Data, y);
        var candidate = new float[d];
        double brute = double.PositiveInfinity;
        for (int k = 0; k < 20_000; k++) // brute force over the rim and a few amplitudes inside
            foreach (double a in (ReadOnlySpan<double>)[0.3, 0.29, 0.2])
            {
                Sinusoids.Render(new SinusoidParameters(a, 2 * Math.PI * k / 20_000), size, 2.5, 1, candidate);
                brute = Math.Min(brute, ImageStatistics.SquaredDistance(candidate, y));
            }
        Assert.True(found <= brute + 1e-6, $"oracle {found} vs brute force {brute}");
        Assert.True(found > 0.5 * brute, "sanity");
    }

    [Fact]
    public void SinusoidOracleJacobianProjectsOntoThePlane()
    {
        const int size = 8;
        var oracle = new SinusoidManifoldDenoiser(size);
        var x = new float[64];
        Sinusoids.Render(new SinusoidParameters(0.25, 2.0), size, 3, 2, x);
        // Linear inside the disk: a large difference step keeps float rounding at ~1e-6.
        var m = JacobianStudy.Measure(oracle, x, new ImageShape(1, size, size), 0.02, seed: 6,
            options: new() { Top = 2, PowersOfTwo = false, DifferenceStep = 0.01 });
        Assert.Equal(1, m.Eigenvalues[0], 1e-4);
        Assert.Equal(1, m.Eigenvalues[1], 1e-4);
        Assert.True(Math.Abs(m.Eigenvalues[2]) < 1e-4, $"third eigenvalue {m.Eigenvalues[2]}");
        Assert.Equal(2, m.EigenvaluesAboveHalf);
        var cosines = PrincipalAngles.Cosines(m.Eigenvectors, 2, Sinusoids.Tangents(new SinusoidParameters(0.25, 2.0), size), 2);
        Assert.All(cosines, c => Assert.True(c > 1 - 1e-6, $"cosine {c}"));
    }

    private static readonly DiskParameters[] InteriorDisks =
    [
        new(6.2, 7.1, 3.6, 0.8, 0.2), new(7.4, 6.3, 4.1, 0.25, 0.85), new(6.9, 7.6, 3.3, 0.7, 0.3), new(7.1, 6.8, 4.4, 0.3, 0.75),
    ];

    private static ImageSet DiskImages(int size, int supersample) => Images(InteriorDisks.Select(p =>
    {
        var x = new float[size * size];
        Disks.Render(p, size, supersample, x);
        return x;
    }).ToArray());

    [Fact]
    public void DiskOracleFindsTheParametersOfACleanDisk()
    {
        var oracle = new DiskManifoldDenoiser(14);
        var clean = DiskImages(14, Disks.ExactArea);
        for (int i = 0; i < InteriorDisks.Length; i++)
        {
            var p = oracle.Fit(clean.Image(i));
            var q = InteriorDisks[i];
            for (int k = 0; k < 5; k++) Assert.True(Math.Abs(p[k] - q[k]) < 1e-4, $"disk {i}, parameter {k}: {p[k]} vs {q[k]}");
        }
    }

    [Fact]
    public void ExactAreaDiskOracleKeepsFiveNoiseDimensions()
    {
        var oracle = new DiskManifoldDenoiser(14);
        AssertManifoldDimension("disks (exact areas)", NormalizedError(oracle, DiskImages(14, Disks.ExactArea), 0.005, 50, seed: 7), 5, 196, 0.005);
    }

    [Fact]
    public void HardEdgeDiskOracleKeepsTwoNoiseDimensionsAtSmallSigma()
    {
        // A hard edge moves only when it crosses a pixel centre, which costs (fg − bg)² ≫ σ²: only fg and bg follow the noise.
        var oracle = new DiskManifoldDenoiser(14, supersample: 1);
        AssertManifoldDimension("disks (hard edge)", NormalizedError(oracle, DiskImages(14, 1), 0.005, 12, seed: 8), 2, 196, 0.005);
    }

    [Fact]
    public void DiskOracleJacobianSpansTheTangentSpace()
    {
        const int size = 12;
        var p = new DiskParameters(5.8, 6.3, 3.4, 0.8, 0.2);
        var x = new float[size * size];
        Disks.Render(p, size, Disks.ExactArea, x);
        var m = JacobianStudy.Measure(new DiskManifoldDenoiser(size), x, new ImageShape(1, size, size), 0.005, seed: 9,
            options: new() { Top = 5, PowersOfTwo = false });
        output.WriteLine("eigenvalues " + string.Join(", ", m.Eigenvalues.Take(8).Select(l => l.ToString("F3"))));
        Assert.All(m.Eigenvalues.Take(5), l => Assert.InRange(l, 0.9, 1.1));
        Assert.True(Math.Abs(m.Eigenvalues[5]) < 0.1, $"sixth eigenvalue {m.Eigenvalues[5]}");
        Assert.Equal(5, m.EigenvaluesAboveHalf);
        var cosines = PrincipalAngles.Cosines(Disks.ExactTangents(p, size), 5, m.Eigenvectors, 5);
        output.WriteLine("principal cosines " + string.Join(", ", cosines.Select(c => c.ToString("F4"))));
        Assert.True(cosines.Min() > 0.98, $"smallest principal cosine {cosines.Min()}");
    }
}
