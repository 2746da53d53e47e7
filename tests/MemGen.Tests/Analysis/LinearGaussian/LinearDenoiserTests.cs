using MathNet.Numerics.LinearAlgebra;
using MemGen.Analysis.LinearGaussian;
using MemGen.Tensors;

namespace MemGen.Tests.Analysis.LinearGaussian;

/// <summary>The fitted B and β0 against independent least-squares solves (MathNet QR and SVD pseudo-inverse).</summary>
public class LinearDenoiserTests
{
    private static (double[] X0, double[] XT) Pairs(int n, int d, long seed)
    {
        var truth = new IsotropicGaussianLaw(d, 10, 1);
        var jump = new OrnsteinUhlenbeckJump(2, Math.Exp(-4));
        var rng = new DeterministicRng(seed);
        var x0 = truth.Sample(n, rng);
        return (x0, jump.Forward(x0, rng));
    }

    private static Matrix<double> Rows(double[] x, int n, int d) => Matrix<double>.Build.Dense(n, d, (i, j) => x[i * d + j]);

    [Theory]
    [InlineData(40, 5)]
    [InlineData(12, 10)]
    public void OverdeterminedFitMatchesQrLeastSquaresWithIntercept(int n, int d)
    {
        var (x0, xT) = Pairs(n, d, 1000 + n);
        var fit = LinearDenoiser.Fit(x0, xT, n, d);
        Assert.Equal(d, fit.Rank);
        // Design [1, x_T] (n × (d+1)); solution rows: β0 then Bᵀ.
        var design = Matrix<double>.Build.Dense(n, d + 1, (i, j) => j == 0 ? 1.0 : xT[i * d + j - 1]);
        var solution = design.QR().Solve(Rows(x0, n, d));
        for (int i = 0; i < d; i++)
        {
            Assert.Equal(solution[0, i], fit.Intercept[i], 1e-7 * Math.Max(1, Math.Abs(solution[0, i])));
            for (int j = 0; j < d; j++) Assert.Equal(solution[j + 1, i], fit.Weights[i * d + j], 1e-7 * Math.Max(1, Math.Abs(solution[j + 1, i])));
        }
    }

    [Theory]
    [InlineData(6, 10)]
    [InlineData(10, 10)]
    [InlineData(3, 8)]
    public void UnderdeterminedFitIsTheMinimumNormSolutionAndInterpolates(int n, int d)
    {
        var (x0, xT) = Pairs(n, d, 2000 + n);
        var fit = LinearDenoiser.Fit(x0, xT, n, d);
        Assert.Equal(n - 1, fit.Rank);
        // Independent: centre, then Bᵀ = pinv(XTc)·X0c with a pseudo-inverse from MathNet's SVD (singular values
        // below 1e-8·σ_max dropped: centring leaves one exact zero, which MathNet's own PseudoInverse may keep).
        var a = Rows(xT, n, d);
        var b = Rows(x0, n, d);
        var ca = a - Matrix<double>.Build.Dense(n, d, (_, j) => a.Column(j).Average());
        var cb = b - Matrix<double>.Build.Dense(n, d, (_, j) => b.Column(j).Average());
        var svd = ca.Svd(computeVectors: true);
        var pinv = Matrix<double>.Build.Dense(d, n);
        for (int k = 0; k < svd.S.Count; k++)
            if (svd.S[k] > 1e-8 * svd.S[0]) pinv += svd.VT.Row(k).ToColumnMatrix() * svd.U.Column(k).ToRowMatrix() / svd.S[k];
        var bt = pinv * cb;
        double scale = bt.Enumerate().Max(Math.Abs);
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) Assert.Equal(bt[j, i], fit.Weights[i * d + j], 1e-7 * scale);
        // n ≤ d: the fit passes through every training pair.
        for (int k = 0; k < n; k++)
        {
            var y = fit.Apply(xT.AsSpan(k * d, d));
            for (int i = 0; i < d; i++) Assert.Equal(x0[k * d + i], y[i], 1e-6);
        }
    }

    [Fact]
    public void GeneratedLawMatchesSamplingTheOneStepGenerator()
    {
        int n = 30, d = 3;
        var jump = new OrnsteinUhlenbeckJump(1.0, 0.5);
        var truth = new IsotropicGaussianLaw(d, 2, 1.5);
        var rng = new DeterministicRng(77);
        var x0 = truth.Sample(n, rng);
        var xT = jump.Forward(x0, rng);
        var fit = LinearDenoiser.Fit(x0, xT, n, d);
        var law = OneStepGenerator.GeneratedLaw(fit, jump, x0, n);

        // Sample x_T ~ N(e^(−T)·mean(X0), s_T² I), x = β0 + B·x_T; compare mean and covariance.
        var mean0 = Enumerable.Range(0, d).Select(c => Enumerable.Range(0, n).Average(k => x0[k * d + c])).ToArray();
        double v = Enumerable.Range(0, d).Average(c => Enumerable.Range(0, n).Sum(k => Math.Pow(x0[k * d + c] - mean0[c], 2)) / (n - 1));
        double sT = Math.Sqrt(Math.Exp(-2.0) * v + 0.5 * (1 - Math.Exp(-2.0)));
        int samples = 200_000;
        var sum = new double[d];
        var sum2 = new double[d, d];
        var sampleRng = new DeterministicRng(78);
        var start = new double[d];
        for (int s = 0; s < samples; s++)
        {
            for (int c = 0; c < d; c++) start[c] = Math.Exp(-1.0) * mean0[c] + sT * sampleRng.NextNormal();
            var x = fit.Apply(start);
            for (int i = 0; i < d; i++)
            {
                sum[i] += x[i];
                for (int j = 0; j < d; j++) sum2[i, j] += x[i] * x[j];
            }
        }
        var cov = Densities.Covariance(law);
        for (int i = 0; i < d; i++)
        {
            double m = sum[i] / samples;
            Assert.Equal(law.Mean[i], m, 4 * Math.Sqrt(cov[i, i] / samples));
            for (int j = 0; j < d; j++)
            {
                double c = sum2[i, j] / samples - m * (sum[j] / samples);
                Assert.Equal(cov[i, j], c, 0.02 * Math.Sqrt(cov[i, i] * cov[j, j]));
            }
        }
    }

    [Fact]
    public void WithManyTrainingPointsTheGeneratedLawApproachesThePosteriorMeanLaw()
    {
        // n → ∞: B → b·I with b = e^(−T)s²/(e^(−2T)s² + Λ(1 − e^(−2T))), so Σ_G → s²·b·e^(−T)·I and μ_G → m·1.
        int n = 40_000, d = 4;
        var (x0, xT) = Pairs(n, d, 9);
        var jump = new OrnsteinUhlenbeckJump(2, Math.Exp(-4));
        var law = OneStepGenerator.GeneratedLaw(LinearDenoiser.Fit(x0, xT, n, d), jump, x0, n);
        double a = Math.Exp(-4), expected = a / (a + Math.Exp(-4) * (1 - Math.Exp(-4)));
        foreach (var l in law.Eigenvalues) Assert.Equal(expected, l, 0.03);
        foreach (var mu in law.Mean) Assert.Equal(10, mu, 0.03);
    }

    [Fact]
    public void GeneratedCovarianceIsBBTransposeNotBTransposeB()
    {
        int n = 20, d = 4;
        var (x0, xT) = Pairs(n, d, 5);
        var jump = new OrnsteinUhlenbeckJump(2, Math.Exp(-4));
        var fit = LinearDenoiser.Fit(x0, xT, n, d);
        var cov = Densities.Covariance(OneStepGenerator.GeneratedLaw(fit, jump, x0, n));
        double sT2 = jump.ForwardVariance(OneStepGenerator.MeanPixelVariance(x0, n, d));
        double bbt01 = 0, btb01 = 0;
        for (int k = 0; k < d; k++)
        {
            bbt01 += fit.Weights[0 * d + k] * fit.Weights[1 * d + k];
            btb01 += fit.Weights[k * d + 0] * fit.Weights[k * d + 1];
        }
        Assert.Equal(sT2 * bbt01, cov[0, 1], 1e-9 * Math.Abs(cov[0, 0]));
        Assert.NotEqual(sT2 * btb01, cov[0, 1], 1e-3 * Math.Abs(cov[0, 0]));
    }

    [Fact]
    public void GeneratedLawIsSingularExactlyWhenNIsAtMostD()
    {
        int d = 6;
        var jump = new OrnsteinUhlenbeckJump(2, Math.Exp(-4));
        foreach (int n in new[] { 3, 6, 7, 12 })
        {
            var (x0, xT) = Pairs(n, d, 300 + n);
            var law = OneStepGenerator.GeneratedLaw(LinearDenoiser.Fit(x0, xT, n, d), jump, x0, n);
            Assert.Equal(Math.Min(n - 1, d), law.Rank);
            Assert.Equal(n <= d, law.IsSingular);
            Assert.Equal(d - law.Rank, law.Eigenvalues.Count(l => l == 0));
        }
    }
}
