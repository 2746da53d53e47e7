using MathNet.Numerics.LinearAlgebra;
using MemGen.Analysis.AdaptiveBasis;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Tests.Denoisers;
using static MemGen.Tests.Analysis.AdaptiveBasis.AdaptiveBasisTestData;

namespace MemGen.Tests.Analysis.AdaptiveBasis;

public class DenoiserJacobianTests
{
    [Fact]
    public void WienerJacobianIsSigmaTimesInverseOfSigmaPlusNoise()
    {
        var (wiener, _, covariance, _) = Wiener(seed: 1);
        int d = Shape.Size;
        const double sigma = 0.1;
        var y = RandomImage(2);
        // Linear denoiser: any step is exact up to float rounding, a large one keeps rounding at ~1e-7.
        var j = DenoiserJacobian.At(wiener, y, Shape, sigma, step: 0.25);
        Assert.Equal(JacobianMethod.CentralDifferences, j.Method);
        var expected = covariance * (covariance + Matrix<double>.Build.DenseIdentity(d) * (sigma * sigma)).Inverse();
        double maxError = 0;
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++)
                maxError = Math.Max(maxError, Math.Abs(j.Matrix[r * d + c] - expected[r, c]));
        Assert.True(maxError < 2e-6, $"max |J − Σ(Σ+σ²I)⁻¹| = {maxError}");
        // f(y) is the denoiser's own output at y.
        Assert.Equal(DenoiserJacobian.Denoise(wiener, y, Shape, sigma), j.Denoised);
    }

    [Fact]
    public void EmpiricalOptimalJacobianIsPosteriorCovarianceOverSigmaSquared()
    {
        // Two training images and y between them at a σ where both weights matter: J = Cov_w(x_i)/σ², a closed form the
        // differences are checked against (the softmax is the smooth, nonlinear case).
        var training = DenoiserTestData.Uniform(3, 1, 8, 8, seed: 3);
        var denoiser = new EmpiricalOptimalDenoiser(training);
        int d = Shape.Size;
        var y = new float[d];
        for (int i = 0; i < d; i++) y[i] = 0.55f * training.Image(0)[i] + 0.45f * training.Image(1)[i];
        double sigma = 0.6;
        var j = DenoiserJacobian.At(denoiser, y, Shape, sigma);
        var logits = Enumerable.Range(0, training.Count).Select(n => -ImageStatistics.SquaredDistance(y, training.Image(n)) / (2 * sigma * sigma)).ToArray();
        double max = logits.Max();
        var w = logits.Select(l => Math.Exp(l - max)).ToArray();
        double total = w.Sum();
        for (int n = 0; n < w.Length; n++) w[n] /= total;
        Assert.True(w.Count(v => v > 0.05) >= 2, "the test point should mix at least two training images");
        var mean = new double[d];
        for (int n = 0; n < w.Length; n++)
            for (int i = 0; i < d; i++) mean[i] += w[n] * training.Image(n)[i];
        double errorSq = 0, normSq = 0;
        for (int r = 0; r < d; r++)
            for (int c = 0; c < d; c++)
            {
                double cov = 0;
                for (int n = 0; n < w.Length; n++) cov += w[n] * (training.Image(n)[r] - mean[r]) * (training.Image(n)[c] - mean[c]);
                double expected = cov / (sigma * sigma);
                errorSq += Math.Pow(j.Matrix[r * d + c] - expected, 2);
                normSq += expected * expected;
            }
        Assert.True(Math.Sqrt(errorSq / normSq) < 1e-3, $"relative error {Math.Sqrt(errorSq / normSq)}");
    }

    [Fact]
    public void NetworkJacobianIsExactAndAgreesWithDifferences()
    {
        using var network = SmallNetwork();
        var denoiser = new NetworkDenoiser(network);
        var shape = new ImageShape(1, 6, 6);
        var y = RandomImage(4, shape.Size);
        var exact = DenoiserJacobian.At(denoiser, y, shape, sigma: 0.2);
        var differences = DenoiserJacobian.At(denoiser, y, shape, sigma: 0.2, JacobianMethodChoice.CentralDifferences);
        Assert.Equal(JacobianMethod.ExactLinearization, exact.Method);
        Assert.Equal(JacobianMethod.CentralDifferences, differences.Method);
        double errorSq = 0, normSq = 0;
        for (int i = 0; i < exact.Matrix.Length; i++)
        {
            errorSq += Math.Pow(exact.Matrix[i] - differences.Matrix[i], 2);
            normSq += exact.Matrix[i] * exact.Matrix[i];
        }
        Assert.True(Math.Sqrt(errorSq / normSq) < 1e-2, $"relative difference {Math.Sqrt(errorSq / normSq)}");
        for (int i = 0; i < y.Length; i++) Assert.Equal(exact.Denoised[i], differences.Denoised[i], 1e-5f);
        // Bias-free: f(y) = J·y to float precision for the exact Jacobian.
        Assert.True(HomogeneityCheck.RelativeError(exact) < 1e-4, $"homogeneity error {HomogeneityCheck.RelativeError(exact)}");
    }

    [Fact]
    public void HomogeneityCheckFlagsAnAffineDenoiser()
    {
        // The Wiener denoiser has a mean: f(y) = μ + A(y − μ) ≠ A·y, and the check must say so.
        var (wiener, _, _, _) = Wiener(seed: 5);
        var j = DenoiserJacobian.At(wiener, RandomImage(6), Shape, 0.1, step: 0.25);
        Assert.True(HomogeneityCheck.RelativeError(j) > 0.1, $"homogeneity error {HomogeneityCheck.RelativeError(j)}");
        // A linear one (the ray projection) passes it.
        var ray = DenoiserJacobian.At(new RayDenoiser(RandomImage(7)), RandomImage(8), Shape, 0.1, step: 0.25);
        Assert.True(HomogeneityCheck.RelativeError(ray) < 1e-5, $"homogeneity error {HomogeneityCheck.RelativeError(ray)}");
    }

    [Fact]
    public void ShuffledWienerEigenvectorsUnshuffleToTheOriginalOnes()
    {
        // The Wiener denoiser of shuffled data at a shuffled image is P·f·Pᵀ: same eigenvalues, eigenvectors P·e_k.
        var images = DenoiserTestData.Uniform(200, 1, 8, 8, seed: 9);
        var shuffle = new PixelShuffleTransform(21);
        var shuffledImages = ImageTransforms.Apply(images, shuffle);
        var original = GaussianDenoiser.FromImages(images);
        var shuffled = GaussianDenoiser.FromImages(shuffledImages);
        var x = RandomImage(10);
        var xs = new float[x.Length];
        shuffle.Apply(x, Shape, xs);
        var a = JacobianSpectrum.Of(DenoiserJacobian.At(original, x, Shape, 0.2, step: 0.25).Matrix, Shape.Size);
        var b = JacobianSpectrum.Of(DenoiserJacobian.At(shuffled, xs, Shape, 0.2, step: 0.25).Matrix, Shape.Size);
        var back = new double[Shape.Size];
        for (int k = 0; k < 8; k++)
        {
            Assert.Equal(a.Eigenvalues[k], b.Eigenvalues[k], 4);
            shuffle.Unshuffle(b.Eigenvector(k), Shape, back);
            double dot = 0;
            for (int i = 0; i < back.Length; i++) dot += back[i] * a.Eigenvector(k)[i];
            Assert.True(Math.Abs(dot) > 0.999, $"eigenvector {k}: |⟨P⁻¹e'_k, e_k⟩| = {Math.Abs(dot)}");
        }
    }
}
