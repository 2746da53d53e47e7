using MemGen.Analysis.LinearGaussian;
using MemGen.Tensors;

namespace MemGen.Tests.Analysis.LinearGaussian;

/// <summary>The model's s_T²·B·Bᵀ and the reference code's s_T²·Bᵀ·B (docs/science.md §7.3, §7.8) against dense products.</summary>
public class GeneratedCovarianceTests
{
    private static (LinearDenoiser Fit, OrnsteinUhlenbeckJump Jump, double[] X0) Fitted(int n, int d, long seed)
    {
        var truth = new IsotropicGaussianLaw(d, 10, 1);
        var jump = new OrnsteinUhlenbeckJump(2, Math.Exp(-4));
        var rng = new DeterministicRng(seed);
        var x0 = truth.Sample(n, rng);
        return (LinearDenoiser.Fit(x0, jump.Forward(x0, rng), n, d), jump, x0);
    }

    [Theory]
    [InlineData(5, 8)]   // n ≤ d: rank n − 1
    [InlineData(9, 8)]   // just above d: the interpolation peak
    [InlineData(40, 6)]
    public void BTransposeBAndBBTransposeHaveEqualSpectraAndTheirOwnEigenvectors(int n, int d)
    {
        var (fit, jump, x0) = Fitted(n, d, 100 + n);
        var model = OneStepGenerator.GeneratedLaw(fit, jump, x0, n, GeneratedCovariance.Model);
        var reference = OneStepGenerator.GeneratedLaw(fit, jump, x0, n, GeneratedCovariance.ReferenceCode);
        double sT2 = jump.ForwardVariance(OneStepGenerator.MeanPixelVariance(x0, n, d));
        var b = fit.Weights;

        // Dense products by plain loops: s_T²·B·Bᵀ and s_T²·Bᵀ·B.
        var bbt = new double[d, d];
        var btb = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++)
                {
                    bbt[i, j] += sT2 * b[i * d + k] * b[j * d + k];
                    btb[i, j] += sT2 * b[k * d + i] * b[k * d + j];
                }
        var covModel = Densities.Covariance(model);
        var covReference = Densities.Covariance(reference);
        double scale = model.Eigenvalues.Max(), tol = 1e-9 * scale;
        double differ = 0;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
            {
                Assert.Equal(bbt[i, j], covModel[i, j], tol);
                Assert.Equal(btb[i, j], covReference[i, j], tol);
                differ = Math.Max(differ, Math.Abs(bbt[i, j] - btb[i, j]));
            }
        Assert.True(differ > 1e-3 * scale, "B is not symmetric, so the two covariances must differ");

        Assert.Equal(model.Rank, reference.Rank);
        Assert.Equal(Math.Min(n - 1, d), model.Rank);
        for (int k = 0; k < d; k++) Assert.Equal(model.Eigenvalues[k], reference.Eigenvalues[k], tol);
        // Same mean: only the covariance changes.
        Assert.Equal(model.Mean, reference.Mean);
        // Same spectrum, hence the same singular pattern and H² = 1 for n ≤ d in both.
        var truth = new IsotropicGaussianLaw(d, 10, 1);
        if (n <= d)
        {
            Assert.Equal(1.0, GaussianDivergences.SquaredHellinger(model, truth));
            Assert.Equal(1.0, GaussianDivergences.SquaredHellinger(reference, truth));
        }
    }

    [Fact]
    public void NamesRoundTrip()
    {
        foreach (var c in GeneratedCovariances.All) Assert.Equal(c, GeneratedCovariances.Parse(c.Name()));
        Assert.Null(GeneratedCovariances.Parse("btb"));
        Assert.Equal("Bᵀ·B: the reference code's law, not the model's", GeneratedCovariance.ReferenceCode.Label());
        Assert.Equal(KernelSumPrecision.Float32, KernelSumPrecisions.Parse("float32"));
        Assert.Null(KernelSumPrecisions.Parse("half"));
    }
}
