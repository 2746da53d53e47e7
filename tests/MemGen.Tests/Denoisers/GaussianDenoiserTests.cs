using MathNet.Numerics.LinearAlgebra;
using MemGen.Denoisers;
using MemGen.Tensors;

namespace MemGen.Tests.Denoisers;

public class GaussianDenoiserTests
{
    [Fact]
    public void MatchesClosedFormWienerFilter()
    {
        var images = DenoiserTestData.Uniform(40, 1, 3, 3, seed: 11);
        var denoiser = GaussianDenoiser.FromImages(images);
        // Independent reference: mean and covariance by loops, (Σ + σ²I)⁻¹ by MathNet.
        int n = images.Count, d = 9;
        var mu = Vector<double>.Build.Dense(d, j => Enumerable.Range(0, n).Average(i => (double)images.Image(i)[j]));
        var cov = Matrix<double>.Build.Dense(d, d, (a, b) =>
            Enumerable.Range(0, n).Sum(i => (images.Image(i)[a] - mu[a]) * (images.Image(i)[b] - mu[b])) / (n - 1));
        var y = DenoiserTestData.Noisy(DenoiserTestData.Uniform(3, 1, 3, 3, seed: 12), 0.2f, seed: 13);
        float[] sigmas = [0.05f, 0.2f, 0.7f];
        var output = y.ZerosLike();
        denoiser.Denoise(y, output, sigmas);
        for (int i = 0; i < 3; i++)
        {
            var yi = Vector<double>.Build.Dense(d, j => y.Item(i)[j]);
            var expected = mu + cov * (cov + Matrix<double>.Build.DenseIdentity(d) * (sigmas[i] * (double)sigmas[i])).Inverse() * (yi - mu);
            for (int j = 0; j < d; j++) Assert.Equal(expected[j], output.Item(i)[j], 4);
        }
        // Eigenvalues descending and matching MathNet's.
        var reference = cov.Evd().EigenValues.Select(c => c.Real).OrderByDescending(v => v).ToArray();
        for (int k = 0; k < d; k++) Assert.Equal(reference[k], denoiser.Eigenvalues[k], 6);
    }

    [Fact]
    public void ZeroSigmaIsIdentityOnFullRankData()
    {
        var images = DenoiserTestData.Uniform(100, 1, 2, 2, seed: 14);
        var denoiser = GaussianDenoiser.FromImages(images);
        var y = DenoiserTestData.Noisy(images, 0.1f, seed: 15);
        var output = y.ZerosLike();
        denoiser.Denoise(y, output, new float[images.Count]);
        for (int i = 0; i < y.Length; i++) Assert.Equal(y.Data[i], output.Data[i], 4);
    }
}

public class SimpleDenoiserTests
{
    [Fact]
    public void IdentityCopies()
    {
        var y = DenoiserTestData.Noisy(DenoiserTestData.Uniform(2, 1, 3, 3, seed: 1), 0.5f, seed: 2);
        var output = y.ZerosLike();
        new IdentityDenoiser().Denoise(y, output, [0f, 0f]);
        Assert.Equal(y.Data, output.Data);
    }

    [Fact]
    public void RayOracleHasMseSigmaSquaredPerImage()
    {
        // Clean images are rescalings of x0; after projection only the noise along the ray remains: ‖e‖² ≈ σ².
        var x0 = DenoiserTestData.Uniform(1, 1, 8, 8, seed: 3).Pixels;
        var denoiser = new RayDenoiser(x0);
        int n = 400;
        const float sigma = 0.1f;
        var clean = new Tensor(n, 1, 8, 8);
        var rng = new DeterministicRng(4);
        for (int i = 0; i < n; i++)
        {
            float a = (float)rng.NextUniform(0.2, 1.0);
            for (int j = 0; j < 64; j++) clean.Item(i)[j] = a * x0[j];
        }
        var noisy = clean.Clone();
        for (int i = 0; i < noisy.Length; i++) noisy.Data[i] += sigma * (float)rng.NextNormal();
        var output = noisy.ZerosLike();
        denoiser.Denoise(noisy, output, new float[n]);
        double sumSquared = 0;
        for (int i = 0; i < noisy.Length; i++) sumSquared += Math.Pow(output.Data[i] - clean.Data[i], 2);
        double perImage = sumSquared / n;
        Assert.InRange(perImage / (sigma * sigma), 0.85, 1.15);
    }
}

public class GaussianDenoiserBlockTests
{
    [Fact]
    public void CovarianceAccumulatesOverRowBlocks()
    {
        // 5000 images (> one block of 2048 rows): the eigenvalues must match a direct double-precision covariance.
        var images = DenoiserTestData.Uniform(5000, 1, 2, 2, seed: 16);
        var denoiser = GaussianDenoiser.FromImages(images);
        var mean = new double[4];
        for (int i = 0; i < 5000; i++) for (int j = 0; j < 4; j++) mean[j] += images.Image(i)[j] / 5000.0;
        var cov = MathNet.Numerics.LinearAlgebra.Matrix<double>.Build.Dense(4, 4, (a, b) =>
        {
            double s = 0;
            for (int i = 0; i < 5000; i++) s += (images.Image(i)[a] - mean[a]) * (images.Image(i)[b] - mean[b]);
            return s / 4999;
        });
        var expected = cov.Evd().EigenValues.Select(c => c.Real).OrderByDescending(v => v).ToArray();
        for (int k = 0; k < 4; k++) Assert.Equal(expected[k], denoiser.Eigenvalues[k], 6);
    }
}
