using MathNet.Numerics.LinearAlgebra;
using MemGen.Denoisers;
using MemGen.Sampling;
using MemGen.Tensors;

namespace MemGen.Tests.Sampling;

/// <summary>
/// EDM's Heun sampler against closed forms: for Gaussian data N(μ, Σ) and its exact Wiener denoiser the sampler is a linear
/// map, diagonal in Σ's eigenbasis, so each sample and the output covariance follow from the schedule alone.
/// </summary>
public class EdmSamplerTests
{
    private const int Side = 4, D = Side * Side;

    private static (Vector<double> Mean, Matrix<double> Covariance) Law()
    {
        var rng = new DeterministicRng(97);
        var mean = Vector<double>.Build.Dense(D, _ => 0.5 + 0.1 * rng.NextNormal());
        var q = Matrix<double>.Build.Dense(D, D, (_, _) => rng.NextNormal()).QR().Q;
        var lambda = Vector<double>.Build.Dense(D, k => 0.004 + 0.036 * k / (D - 1));
        return (mean, q * Matrix<double>.Build.DenseOfDiagonalVector(lambda) * q.Transpose());
    }

    /// <summary>
    /// The gain g(λ) of the whole deterministic sampler on an eigen-direction of variance λ, written from the paper's
    /// equations in double: with a(σ) = σ/(λ + σ²) the slope of dy/dσ per unit of y − μ, a Heun step from σ to σ' multiplies
    /// by 1 + (σ' − σ)/2·(a(σ) + a(σ')·(1 + (σ' − σ)·a(σ))), and the last step into σ = 0 by λ/(λ + σ_{N−1}²).
    /// </summary>
    private static double Gain(double lambda, IReadOnlyList<double> schedule)
    {
        double a(double s) => s / (lambda + s * s);
        double g = 1;
        for (int i = 0; i + 1 < schedule.Count; i++)
        {
            double s = schedule[i], next = schedule[i + 1], ds = next - s;
            g *= next == 0 ? lambda / (lambda + s * s) : 1 + ds / 2 * (a(s) + a(next) * (1 + ds * a(s)));
        }
        return g;
    }

    [Fact]
    public void ScheduleIsEdmsRhoInterpolationEndingAtZero()
    {
        var o = new EdmSamplerOptions { Steps = 5, Rho = 7, MaxSigma = 80f, MinSigma = 0.002f };
        var s = o.Schedule();
        Assert.Equal(6, s.Length);
        Assert.Equal(80, s[0], 4);
        Assert.Equal(0.002f, s[4], 6);
        Assert.Equal(0, s[5]);
        double mid = Math.Pow((Math.Pow(80, 1 / 7.0) + Math.Pow((double)0.002f, 1 / 7.0)) / 2, 7); // i = 2 of N − 1 = 4
        Assert.Equal(mid, s[2], 9);
    }

    [Fact]
    public void EachSampleIsTheClosedFormLinearMapOfItsStart()
    {
        var (mean, covariance) = Law();
        var denoiser = new GaussianDenoiser(mean.ToArray(), covariance.ToColumnMajorArray());
        var options = new EdmSamplerOptions { Steps = 12, MaxSigma = 5f, MinSigma = 0.002f, MeanValue = 0.5f, BatchSize = 3 };
        var result = new EdmSampler(options).Sample(denoiser, 5, 1, Side, Side, seed: 3, firstIndex: 7);
        var evd = covariance.Evd(Symmetricity.Symmetric);
        var gains = Vector<double>.Build.Dense(D, k => Gain(evd.EigenValues[k].Real, options.Schedule()));
        for (int n = 0; n < 5; n++)
        {
            var z = new float[D];
            new DeterministicRng(3, 7 + n).FillNormal(z, 0f, 5f); // the start's noise: stream (seed, sample index)
            var v0 = Vector<double>.Build.Dense(D, j => 0.5 + (double)z[j] - mean[j]);
            var expected = mean + evd.EigenVectors * (gains.PointwiseMultiply(evd.EigenVectors.TransposeThisAndMultiply(v0)));
            var actual = result.Samples.Item(n);
            for (int j = 0; j < D; j++) Assert.True(Math.Abs(expected[j] - actual[j]) < 2e-4, $"sample {n} pixel {j}: {actual[j]} vs {expected[j]}");
        }
    }

    [Fact]
    public void OutputCovarianceIsTheClosedFormOfTheDiscreteSampler()
    {
        var (mean, covariance) = Law();
        var denoiser = new GaussianDenoiser(mean.ToArray(), covariance.ToColumnMajorArray());
        // EDM's defaults (18 steps, ρ = 7, σ from 80 to 0.002): tuned for data of sd 0.5, they overshoot this data's
        // variances (sd 0.06–0.2) by 15–22%, and the closed form predicts exactly that.
        var options = new EdmSamplerOptions { BatchSize = 500 };
        const int count = 1500;
        var result = new EdmSampler(options).Sample(denoiser, count, 1, Side, Side, seed: 8);
        Assert.Equal(0, result.DivergedCount);
        var (m, c) = Moments(result.Samples, count);
        // Cov = V·diag(g(λ)²·σmax²)·Vᵀ (the start is m + σmax·z, the sampler linear).
        var evd = covariance.Evd(Symmetricity.Symmetric);
        var variance = Vector<double>.Build.Dense(D, k => Math.Pow(Gain(evd.EigenValues[k].Real, options.Schedule()) * 80, 2));
        var exact = evd.EigenVectors * Matrix<double>.Build.DenseOfDiagonalVector(variance) * evd.EigenVectors.Transpose();
        double predicted = (exact - covariance).FrobeniusNorm() / covariance.FrobeniusNorm();
        Assert.InRange(predicted, 0.1, 0.3);
        // Sampling error of a covariance estimate: relative Frobenius ≈ √(d/n) ≈ 0.1; allow 0.15 (smaller than the bias).
        double error = (c - exact).FrobeniusNorm() / exact.FrobeniusNorm();
        Assert.True(error < 0.15, $"covariance vs closed form: {error} (closed form vs Σ: {predicted})");
        Assert.True((m - mean).AbsoluteMaximum() < 5 * Math.Sqrt(0.05 / count), $"mean error {(m - mean).AbsoluteMaximum()}");
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(30.0)]
    public void WithEnoughStepsTheSamplesHaveTheDataCovariance(double churn)
    {
        var (mean, covariance) = Law();
        var denoiser = new GaussianDenoiser(mean.ToArray(), covariance.ToColumnMajorArray());
        // 60 steps: the closed form is within 1% of Σ (deterministic); churn re-noises and re-denoises along the way.
        var options = new EdmSamplerOptions { Steps = 60, Churn = churn, BatchSize = 500 };
        if (churn == 0)
        {
            var evd = covariance.Evd(Symmetricity.Symmetric);
            for (int k = 0; k < D; k++)
            {
                double lambda = evd.EigenValues[k].Real, g = Gain(lambda, options.Schedule());
                Assert.InRange(g * g * 80 * 80 / lambda, 0.99, 1.02);
            }
        }
        const int count = 1500;
        var result = new EdmSampler(options).Sample(denoiser, count, 1, Side, Side, seed: 8);
        Assert.Equal(0, result.DivergedCount);
        var (m, c) = Moments(result.Samples, count);
        double error = (c - covariance).FrobeniusNorm() / covariance.FrobeniusNorm();
        Assert.True(error < 0.2, $"covariance vs Σ: {error}");
        Assert.True((m - mean).AbsoluteMaximum() < 5 * Math.Sqrt(0.04 / count), $"mean error {(m - mean).AbsoluteMaximum()}");
    }

    private static (Vector<double> Mean, Matrix<double> Covariance) Moments(Tensor samples, int count)
    {
        var x = Matrix<double>.Build.Dense(count, D, (i, j) => samples.Item(i)[j]);
        var m = x.ColumnSums() / count;
        var centred = x - Matrix<double>.Build.Dense(count, D, (_, j) => m[j]);
        return (m, centred.TransposeThisAndMultiply(centred) / (count - 1));
    }

    [Fact]
    public void ANonBlindDenoiserIsToldTheScheduleAndSamplesDoNotDependOnTheBatch()
    {
        var recorder = new RecordingShrink();
        var options = new EdmSamplerOptions { Steps = 4, MaxSigma = 2f, MinSigma = 0.1f, BatchSize = 2 };
        var a = new EdmSampler(options).Sample(recorder, 3, 1, 2, 2, seed: 1);
        var s = options.Schedule();
        // Per batch: σ_0, σ_1 (Heun), σ_1, σ_2, σ_2, σ_3, then σ_3 into σ = 0 (no correction).
        double[] expected = [s[0], s[1], s[1], s[2], s[2], s[3], s[3]];
        Assert.Equal(2 * expected.Length, recorder.Calls.Count);
        for (int i = 0; i < expected.Length; i++) Assert.Equal((float)expected[i], recorder.Calls[i]);
        var b = new EdmSampler(options with { BatchSize = 3 }).Sample(new RecordingShrink(), 3, 1, 2, 2, seed: 1);
        Assert.Equal(a.Samples.Data, b.Samples.Data);
        var churned = new EdmSampler(options with { Churn = 4 }).Sample(new RecordingShrink(), 3, 1, 2, 2, seed: 1);
        Assert.NotEqual(a.Samples.Data, churned.Samples.Data);
    }

    [Fact]
    public void SpecParsesRoundTripsAndBuildsTheSampler()
    {
        var spec = SamplerSpec.Parse("edm:steps=30,rho=5,sigma_max=40,s_churn=10,s_tmax=inf");
        Assert.Equal(SamplerKind.Edm, spec.Kind);
        Assert.Equal(30, spec.Edm!.Steps);
        Assert.Equal(5, spec.Edm.Rho);
        Assert.Equal(40f, spec.Edm.MaxSigma);
        Assert.Equal(0.002f, spec.Edm.MinSigma);
        Assert.Equal(spec, SamplerSpec.Parse(spec.ToString()));
        Assert.Equal("edm-heun", (string)spec.ToJson()["algorithm"]!);
        var sampler = spec.Create(SamplingStart.Constant(0.3f), batchSize: 4);
        Assert.IsType<EdmSampler>(sampler);
        Assert.Equal(spec, sampler.Spec);
        Assert.Equal(18, SamplerSpec.Parse("edm").Edm!.Steps);
    }

    /// <summary>f(y; σ) = y/(1 + σ²): records the σ of the first row of every call.</summary>
    private sealed class RecordingShrink : IDenoiser
    {
        public List<float> Calls { get; } = [];

        public string Name => "recording";

        public bool IsBlind => false;

        public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
        {
            Calls.Add(sigmas[0]);
            for (int n = 0; n < noisy.N; n++)
            {
                var y = noisy.Item(n);
                var f = denoised.Item(n);
                for (int j = 0; j < y.Length; j++) f[j] = y[j] / (1 + sigmas[n] * sigmas[n]);
            }
        }
    }
}
