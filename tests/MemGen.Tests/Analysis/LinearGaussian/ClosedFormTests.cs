using MemGen.Analysis.LinearGaussian;
using MemGen.Tensors;

namespace MemGen.Tests.Analysis.LinearGaussian;

/// <summary>The closed forms of docs/science.md §7.4 and §7.6 against numerical integration (d = 1, 2) and Monte-Carlo (d = 3).</summary>
public class ClosedFormTests
{
    private static SpectralGaussian FullRank1D() =>
        SpectralGaussian.FromCovariance([0.3], [0.64], 1);

    private static SpectralGaussian FullRank2D() =>
        SpectralGaussian.FromCovariance([0.2, -0.1], [0.5, 0.2, 0.2, 0.3], 2);

    // Rank 1 in 2-D: all mass on the line through μ along (1, 2)/√5, variance 0.8 along it.
    private static SpectralGaussian Singular2D() =>
        SpectralGaussian.FromCovariance([0.1, 0.4], [0.8 / 5, 1.6 / 5, 1.6 / 5, 3.2 / 5], 2);

    private static double[] Points(int count, int d, long seed)
    {
        var rng = new DeterministicRng(seed);
        var x = new double[count * d];
        for (int i = 0; i < x.Length; i++) x[i] = 0.7 * rng.NextNormal();
        return x;
    }

    [Theory]
    [InlineData(1, 7, 0.4)]
    [InlineData(2, 5, 0.5)]
    public void SelfOverlapMatchesQuadrature(int d, int n, double eps)
    {
        var x = Points(n, d, 11 + d);
        double closed = Math.Exp(KernelDensityOverlaps.LogSelfOverlap(x, n, d, eps));
        double numeric = Densities.Integrate(d, -6, 6, d == 1 ? 4000 : 400, p => Math.Pow(Densities.Smoothed(p, x, n, eps), 2));
        Assert.Equal(numeric, closed, numeric * 1e-6);
    }

    [Fact]
    public void SelfOverlapMatchesMonteCarloIn3D()
    {
        int d = 3, n = 6;
        double eps = 0.45;
        var x = Points(n, d, 5);
        double closed = Math.Exp(KernelDensityOverlaps.LogSelfOverlap(x, n, d, eps));
        // ∫p² = E_{y ~ p}[p(y)]: sample the mixture.
        var rng = new DeterministicRng(99);
        int samples = 200_000;
        double sum = 0, sum2 = 0;
        var y = new double[d];
        for (int s = 0; s < samples; s++)
        {
            int k = rng.NextInt(n);
            for (int c = 0; c < d; c++) y[c] = x[k * d + c] + eps * rng.NextNormal();
            double v = Densities.Smoothed(y, x, n, eps);
            sum += v;
            sum2 += v * v;
        }
        double mean = sum / samples, se = Math.Sqrt((sum2 / samples - mean * mean) / samples);
        Assert.InRange(closed, mean - 4 * se, mean + 4 * se);
    }

    [Fact]
    public void SelfOverlapOfLargeSetMatchesNaivePairSum()
    {
        // 700 points cross the 512-point blocks of the implementation.
        int d = 4, n = 700;
        double eps = 0.6;
        var x = Points(n, d, 3);
        for (int i = 0; i < x.Length; i++) x[i] += 10; // far from the origin: the centring matters
        double sum = 0;
        for (int k = 0; k < n; k++)
            for (int l = 0; l < n; l++)
            {
                double r2 = 0;
                for (int c = 0; c < d; c++) r2 += Math.Pow(x[k * d + c] - x[l * d + c], 2);
                sum += Math.Exp(-r2 / (4 * eps * eps));
            }
        double naive = -2 * Math.Log(n) - 0.5 * d * Math.Log(4 * Math.PI * eps * eps) + Math.Log(sum);
        Assert.Equal(naive, KernelDensityOverlaps.LogSelfOverlap(x, n, d, eps), 1e-10);
    }

    [Fact]
    public void CrossOverlapMatchesQuadratureIn1DAnd2D()
    {
        foreach (var (g, d) in new[] { (FullRank1D(), 1), (FullRank2D(), 2) })
        {
            int n = 5;
            double eps = 0.35;
            var x = Points(n, d, 21 + d);
            var cov = Densities.Covariance(g);
            double closed = Math.Exp(KernelDensityOverlaps.LogCrossOverlap(g, x, n, eps));
            double numeric = Densities.Integrate(d, -6, 6, d == 1 ? 4000 : 400,
                p => Densities.Gaussian(p, g.Mean, cov) * Densities.Smoothed(p, x, n, eps));
            Assert.Equal(numeric, closed, numeric * 1e-6);
        }
    }

    [Fact]
    public void CrossOverlapWithSingularGaussianMatchesLineIntegral()
    {
        var g = Singular2D();
        Assert.True(g.IsSingular);
        Assert.Equal(1, g.Rank);
        int n = 4;
        double eps = 0.3;
        var x = Points(n, 2, 8);
        // p_G lives on μ + t·u with t ~ N(0, 0.8): ∫p_G·p_S = ∫ φ(t; 0, 0.8)·p_S(μ + t·u) dt.
        double ux = 1 / Math.Sqrt(5), uy = 2 / Math.Sqrt(5);
        double numeric = Densities.Integrate(1, -8, 8, 8000, t =>
            Math.Exp(-t[0] * t[0] / 1.6) / Math.Sqrt(2 * Math.PI * 0.8) *
            Densities.Smoothed([g.Mean[0] + t[0] * ux, g.Mean[1] + t[0] * uy], x, n, eps));
        double closed = Math.Exp(KernelDensityOverlaps.LogCrossOverlap(g, x, n, eps));
        Assert.Equal(numeric, closed, numeric * 1e-6);
    }

    [Fact]
    public void CrossOverlapMatchesMonteCarloIn3D()
    {
        var g = SpectralGaussian.FromCovariance([0.1, 0.0, -0.2], [0.6, 0.1, 0.0, 0.1, 0.4, 0.05, 0.0, 0.05, 0.3], 3);
        int n = 6, d = 3;
        double eps = 0.4;
        var x = Points(n, d, 31);
        double closed = Math.Exp(KernelDensityOverlaps.LogCrossOverlap(g, x, n, eps));
        // ∫p_G·p_S = E_{y ~ p_G}[p_S(y)], y = μ + U·diag(√λ)·z.
        var rng = new DeterministicRng(7);
        int samples = 200_000;
        double sum = 0, sum2 = 0;
        var y = new double[d];
        var z = new double[d];
        for (int s = 0; s < samples; s++)
        {
            for (int k = 0; k < d; k++) z[k] = Math.Sqrt(g.Eigenvalues[k]) * rng.NextNormal();
            for (int i = 0; i < d; i++)
            {
                y[i] = g.Mean[i];
                for (int k = 0; k < d; k++) y[i] += g.Eigenvectors[i * d + k] * z[k];
            }
            double v = Densities.Smoothed(y, x, n, eps);
            sum += v;
            sum2 += v * v;
        }
        double mean = sum / samples, se = Math.Sqrt((sum2 / samples - mean * mean) / samples);
        Assert.InRange(closed, mean - 4 * se, mean + 4 * se);
    }

    [Fact]
    public void IntegratedSquaredDistanceMatchesQuadratureIn1DAnd2D()
    {
        // E = ∫(p_G − p_S)² = ∫p_G² + ∫p_S² − 2∫p_G p_S; the study drops ∫p_G² (common to E_TG and E_OG).
        foreach (var (g, d) in new[] { (FullRank1D(), 1), (FullRank2D(), 2) })
        {
            int n = 6;
            double eps = KernelDensityOverlaps.KernelWidth(0.7, n, d);
            var x = Points(n, d, 41 + d);
            var cov = Densities.Covariance(g);
            double closed = Math.Exp(g.LogSelfOverlap()) + Math.Exp(KernelDensityOverlaps.LogSelfOverlap(x, n, d, eps))
                            - 2 * Math.Exp(KernelDensityOverlaps.LogCrossOverlap(g, x, n, eps));
            double numeric = Densities.Integrate(d, -6, 6, d == 1 ? 4000 : 400,
                p => Math.Pow(Densities.Gaussian(p, g.Mean, cov) - Densities.Smoothed(p, x, n, eps), 2));
            Assert.Equal(numeric, closed, Math.Abs(numeric) * 1e-6);
        }
    }

    [Fact]
    public void HellingerAndKullbackLeiblerMatchQuadratureIn1DAnd2D()
    {
        foreach (var (g, d) in new[] { (FullRank1D(), 1), (FullRank2D(), 2) })
        {
            var truth = new IsotropicGaussianLaw(d, 0.1, 0.9);
            var cov = Densities.Covariance(g);
            var truthCov = new double[d, d];
            for (int i = 0; i < d; i++) truthCov[i, i] = 0.81;
            var truthMean = Enumerable.Repeat(0.1, d).ToArray();
            double bc = Densities.Integrate(d, -8, 8, d == 1 ? 8000 : 600,
                p => Math.Sqrt(Densities.Gaussian(p, g.Mean, cov) * Densities.Gaussian(p, truthMean, truthCov)));
            double kl = Densities.Integrate(d, -8, 8, d == 1 ? 8000 : 600, p =>
            {
                double pg = Densities.Gaussian(p, g.Mean, cov), pt = Densities.Gaussian(p, truthMean, truthCov);
                return pg > 1e-300 ? pg * Math.Log(pg / pt) : 0;
            });
            Assert.Equal(1 - bc, GaussianDivergences.SquaredHellinger(g, truth), 1e-6);
            Assert.Equal(kl, GaussianDivergences.KullbackLeibler(g, truth), 1e-5);
        }
    }

    [Fact]
    public void SingularGeneratedLawHasHellingerOneAndInfiniteKl()
    {
        var truth = new IsotropicGaussianLaw(2, 0.1, 0.9);
        Assert.Equal(1.0, GaussianDivergences.SquaredHellinger(Singular2D(), truth));
        Assert.True(double.IsPositiveInfinity(GaussianDivergences.KullbackLeibler(Singular2D(), truth)));
        Assert.True(double.IsPositiveInfinity(Singular2D().LogSelfOverlap()));
    }

    [Fact]
    public void IdenticalLawsHaveZeroDivergence()
    {
        var g = SpectralGaussian.FromCovariance([0.5, 0.5, 0.5], [4, 0, 0, 0, 4, 0, 0, 0, 4], 3);
        var truth = new IsotropicGaussianLaw(3, 0.5, 2);
        Assert.Equal(0, GaussianDivergences.SquaredHellinger(g, truth), 1e-14);
        Assert.Equal(0, GaussianDivergences.KullbackLeibler(g, truth), 1e-12);
    }
}
