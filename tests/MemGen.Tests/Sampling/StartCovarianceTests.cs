using MathNet.Numerics.LinearAlgebra;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Sampling;
using MemGen.Tensors;

namespace MemGen.Tests.Sampling;

/// <summary>The Gaussian start y0 = m + (Σ + σ0²I)^½·z, against a naive covariance and the closed-form flow of Gaussian data.</summary>
public class StartCovarianceTests
{
    private const int Side = 4, D = Side * Side;

    /// <summary>Images of N(μ, Σ) with Σ = Q·diag(λ)·Qᵀ, λ from 0.25 to 4: the leading variances exceed σ0² = 1, as Fashion-MNIST's do.</summary>
    private static (ImageSet Images, Vector<double> Mean, Matrix<double> Covariance) Law(int count)
    {
        var rng = new DeterministicRng(17);
        var mean = Vector<double>.Build.Dense(D, _ => 0.3 + 0.1 * rng.NextNormal());
        var q = Matrix<double>.Build.Dense(D, D, (_, _) => rng.NextNormal()).QR().Q;
        var lambda = Vector<double>.Build.Dense(D, k => 0.25 + 3.75 * k / (D - 1));
        var root = q * Matrix<double>.Build.DenseOfDiagonalVector(lambda.PointwiseSqrt());
        var pixels = new float[count * D];
        var z = Vector<double>.Build.Dense(D);
        for (int i = 0; i < count; i++)
        {
            for (int j = 0; j < D; j++) z[j] = rng.NextNormal();
            var x = mean + root * z;
            for (int j = 0; j < D; j++) pixels[i * D + j] = (float)x[j];
        }
        var covariance = q * Matrix<double>.Build.DenseOfDiagonalVector(lambda) * q.Transpose();
        return (new ImageSet(pixels, count, 1, Side, Side, new Provenance("gaussian", [])), mean, covariance);
    }

    /// <summary>Σ of the images by the textbook double loop (the reference for the blocked product).</summary>
    private static Matrix<double> NaiveCovariance(ImageSet images)
    {
        int n = images.Count;
        var mean = new double[D];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < D; j++) mean[j] += images.Image(i)[j] / (double)n;
        return Matrix<double>.Build.Dense(D, D, (a, b) =>
        {
            double s = 0;
            for (int i = 0; i < n; i++) s += (images.Image(i)[a] - mean[a]) * (images.Image(i)[b] - mean[b]);
            return s / (n - 1);
        });
    }

    [Fact]
    public void ShapeIsTheSymmetricRootOfCovariancePlusNoise()
    {
        var (images, _, _) = Law(200);
        var start = StartCovariance.Of(images);
        const double sigma0 = 0.7;
        // Shape is linear: its matrix A has the shaped unit vectors as columns; A must be symmetric with A·A = Σ + σ0²I.
        var a = Matrix<double>.Build.Dense(D, D);
        for (int j = 0; j < D; j++)
        {
            var e = new float[D];
            e[j] = 1;
            start.Shape(e, sigma0);
            for (int i = 0; i < D; i++) a[i, j] = e[i];
        }
        var target = NaiveCovariance(images) + Matrix<double>.Build.DenseIdentity(D) * (sigma0 * sigma0);
        Assert.True((a - a.Transpose()).Enumerate().Max(Math.Abs) < 1e-5, "A is not symmetric");
        double error = (a * a - target).Enumerate().Max(Math.Abs) / target.Enumerate().Max(Math.Abs);
        Assert.True(error < 1e-5, $"A·A differs from Σ + σ0²I by {error} (relative)");
        Assert.Equal(NaiveCovariance(images).Trace(), start.TotalVariance, 6);
    }

    [Fact]
    public void ASingleImageGivesThePlainStart()
    {
        // One image: Σ = 0, so (Σ + σ0²I)^½·z = σ0·z, the start of every sampler without a covariance.
        var (images, _, _) = Law(1);
        var spec = SamplerSpec.Parse("flow:heun,steps=3,sigma_max=0.8");
        var plain = spec.Create(SamplingStart.MeanOf(images, "one"), 4);
        var shaped = spec.Create(SamplingStart.GaussianOf(images, "one"), 4);
        var denoiser = new EmpiricalOptimalDenoiser(images);
        var a = plain.Sample(denoiser, 4, 1, Side, Side, seed: 3).Samples;
        var b = shaped.Sample(denoiser, 4, 1, Side, Side, seed: 3).Samples;
        for (int i = 0; i < 4 * D; i++) Assert.Equal(a.Data[i], b.Data[i], 5);
    }

    [Fact]
    public void GaussianStartGivesTheFlowTheDataCovariance()
    {
        // Exact Wiener denoiser of N(μ, Σ), probability flow from σmax = 1. The flow maps the component of variance λ + 1
        // at σ = 1 onto λ, so from the plain start m + z (variance 1) it returns Σ(Σ + I)⁻¹ — at most 0.8 where λ = 4 —
        // and from the Gaussian start the data's own Σ.
        var (images, mean, covariance) = Law(4000);
        var denoiser = new GaussianDenoiser(mean.ToArray(), covariance.ToColumnMajorArray());
        var spec = SamplerSpec.Parse("flow:heun,steps=60,sigma_max=1,sigma_min=0.002");
        const int count = 1500;
        Matrix<double> SampleCovariance(SamplingStart start)
        {
            var samples = spec.Create(start, 500).Sample(denoiser, count, 1, Side, Side, seed: 8).Samples;
            var x = Matrix<double>.Build.Dense(count, D, (i, j) => samples.Item(i)[j]);
            var m = x.ColumnSums() / count;
            var centred = x - Matrix<double>.Build.Dense(count, D, (_, j) => m[j]);
            return centred.TransposeThisAndMultiply(centred) / (count - 1);
        }
        double Relative(Matrix<double> c, Matrix<double> target) => (c - target).FrobeniusNorm() / target.FrobeniusNorm();
        var shrunk = covariance * (covariance + Matrix<double>.Build.DenseIdentity(D)).Inverse();

        var plain = SampleCovariance(SamplingStart.MeanOf(images, "mean"));
        var gaussian = SampleCovariance(SamplingStart.GaussianOf(images, "gaussian"));
        // Relative Frobenius error of a covariance estimate from 1500 samples in d = 16 is about √(d/n) ≈ 0.1.
        Assert.True(Relative(plain, shrunk) < 0.2, $"plain start: {Relative(plain, shrunk)} from Σ(Σ + I)⁻¹");
        Assert.True(Relative(plain, covariance) > 0.5, $"plain start: only {Relative(plain, covariance)} from Σ");
        Assert.True(Relative(gaussian, covariance) < 0.2, $"Gaussian start: {Relative(gaussian, covariance)} from Σ");
    }
}
