using MemGen.Analysis.LinearGaussian;

namespace MemGen.Tests.Analysis.LinearGaussian;

[Collection(MemGen.Tests.TestSupport.BlasThreadsCollection.Name)]
public class LinearGaussianSweepTests
{
    private static readonly LinearGaussianSettings Small = new()
    {
        Dimensions = [4, 6],
        Ratios = [0.5, 1.0, 1.5, 3.0],
        OriginalCount = 300,
        Runs = 6,
        Seed = 3,
    };

    [Fact]
    public void ResultsDoNotDependOnTheThreadCount()
    {
        var one = LinearGaussianSweep.Run(Small with { Threads = 1 });
        var two = LinearGaussianSweep.Run(Small with { Threads = 2 });
        Assert.Equal(2 * 4 * 6, one.Count);
        Assert.Equal(one, two); // records: exact equality of every double
    }

    [Fact]
    public void SeedChangesTheResultsAndRunsDiffer()
    {
        var a = LinearGaussianSweep.Run(Small with { Runs = 2 });
        var b = LinearGaussianSweep.Run(Small with { Runs = 2, Seed = 4 });
        Assert.NotEqual(a[0].Delta, b[0].Delta);
        Assert.NotEqual(a[0].Delta, a[1].Delta); // run 0 vs run 1 of the same (d, n)
    }

    [Fact]
    public void HellingerIsOneUpToNEqualsDAndBelowAfter()
    {
        var results = LinearGaussianSweep.Run(Small with { Runs = 3 });
        foreach (var m in results)
        {
            if (m.TrainingCount <= m.Dimension)
            {
                Assert.Equal(1.0, m.SquaredHellinger);
                Assert.True(double.IsPositiveInfinity(m.KullbackLeibler));
            }
            else
            {
                Assert.InRange(m.SquaredHellinger, 0.0, 1.0 - 1e-9);
                Assert.True(double.IsFinite(m.KullbackLeibler) && m.KullbackLeibler > 0);
            }
            Assert.Equal(m.TrainDistance - m.OriginalDistance, m.Delta);
        }
    }

    [Fact]
    public void JustAboveNEqualsDTheGeneratedLawIsNonSingularInEveryRun()
    {
        // n = d + 4 = 36, seed 0: run 116 has a badly conditioned B whose smallest eigenvalue of s_T²·B·Bᵀ was
        // lost when Σ_G was decomposed as a matrix (rank 31, H² = 1, KL = ∞). Through the SVD of B it is kept.
        var results = LinearGaussianSweep.Run(new LinearGaussianSettings
        {
            Dimensions = [32],
            Ratios = [36.0 / 32],
            Runs = 120,
            OriginalCount = 20,
            Seed = 0,
        });
        Assert.Equal(120, results.Count);
        foreach (var m in results)
        {
            Assert.Equal(32, m.Rank);
            Assert.True(m.SquaredHellinger < 1.0, $"run {m.Run}: H² = {m.SquaredHellinger}");
            Assert.True(double.IsFinite(m.KullbackLeibler), $"run {m.Run}: KL = {m.KullbackLeibler}");
        }
    }

    [Fact]
    public void SummaryCountsRunsWithPositiveDelta()
    {
        // E_TG = TrainSelf − 2·0.25, E_OG = OriginalSelf: cross part −0.5 in every run.
        static LinearGaussianMeasurement M(int n, int run, double eTG, double eOG, double h2, double kl, int rank, double lambda) =>
            new(GeneratedCovariance.Model, 4, n, run, new DeltaTerms(eTG + 0.5, eOG, 0.25, 0), eTG - eOG, h2, kl, rank, lambda);
        var measurements = new List<LinearGaussianMeasurement>
        {
            M(8, 0, 1.0, 0.5, 0.9, 2.0, 4, 1),
            M(8, 1, 1.0, 1.5, 0.8, 4.0, 4, 2),
            M(8, 2, 2.0, 1.0, 0.7, 3.0, 4, 3),
            M(8, 3, 0.0, 1.0, 0.6, 3.0, 4, 6),
            M(2, 0, 0.0, 1.0, 1.0, double.PositiveInfinity, 1, 9),
            M(8, 0, 1.0, 1.0, 0.9, 2.0, 4, 1) with { Covariance = GeneratedCovariance.ReferenceCode },
        };
        var summary = LinearGaussianSummary.Summarize(measurements);
        Assert.Equal(3, summary.Count);
        Assert.Equal(2, summary[0].TrainingCount); // ordered by covariance, then n
        Assert.Equal(GeneratedCovariance.ReferenceCode, summary[2].Covariance);
        Assert.Equal(0.0, summary[2].ProbabilityDeltaPositive); // Δ = 0 is not > 0
        Assert.Equal(1.0, summary[2].Float32UnresolvedFraction);
        Assert.Equal(0.0, summary[2].SignFlippedFraction);
        Assert.True(double.IsPositiveInfinity(summary[0].KullbackLeibler.Mean));
        Assert.Equal(1.0, summary[0].SingularFraction);
        var s = summary[1];
        Assert.Equal(0.5, s.ProbabilityDeltaPositive);
        Assert.Equal(Math.Sqrt(0.25 / 4), s.ProbabilityStandardError, 1e-15);
        Assert.Equal(0.0, s.Delta.Mean, 1e-15);
        Assert.Equal(Math.Sqrt((0.25 + 0.25 + 1 + 1) / 3), s.Delta.Std, 1e-12);
        Assert.Equal(3.0, s.KullbackLeibler.Mean);
        Assert.Equal(0.5, s.SelfPart.Mean, 1e-15);   // mean of (E_TG + 0.5 − E_OG)
        Assert.Equal(-0.5, s.CrossPart.Mean, 1e-15);
        Assert.Equal(3.0, s.LargestEigenvalue.Mean);
        Assert.Equal(2.5, s.LargestEigenvalueMedian); // of 1, 2, 3, 6
        Assert.Equal(0.0, s.Float32UnresolvedFraction);
        // A float32 Δ of the other sign than the exact one counts as flipped.
        var flipped = measurements[0] with { ExactDelta = -1e-9 };
        Assert.True(flipped.SignFlipped);
        Assert.True(flipped.BelowFloat32Resolution); // exact |Δ| = 1e-9 against E_TG = 1
        Assert.False(measurements[0].SignFlipped);
        Assert.False(measurements[0].BelowFloat32Resolution);
    }

    [Fact]
    public void BothCovariancesShareTheFitsAndTheSelfTerms()
    {
        var both = LinearGaussianSweep.Run(Small with { Runs = 2, Covariances = [.. GeneratedCovariances.All] });
        var model = LinearGaussianSweep.Run(Small with { Runs = 2 });
        var byKey = both.ToLookup(m => m.Covariance);
        Assert.Equal(model, byKey[GeneratedCovariance.Model].ToList()); // adding the reference code's law changes nothing of the model's
        foreach (var (m, r) in byKey[GeneratedCovariance.Model].Zip(byKey[GeneratedCovariance.ReferenceCode]))
        {
            Assert.Equal((m.Dimension, m.TrainingCount, m.Run), (r.Dimension, r.TrainingCount, r.Run));
            Assert.Equal(m.Terms.TrainSelf, r.Terms.TrainSelf);
            Assert.Equal(m.Terms.OriginalSelf, r.Terms.OriginalSelf);
            Assert.Equal(m.Rank, r.Rank);
            Assert.Equal(m.LargestEigenvalue, r.LargestEigenvalue, 1e-9 * m.LargestEigenvalue); // same spectrum
            Assert.NotEqual(m.Terms.TrainCross, r.Terms.TrainCross); // other eigenvectors
        }
    }

    [Fact]
    public void TrainingCountsRoundAndDeduplicate()
    {
        var s = new LinearGaussianSettings { Ratios = [0.1, 0.25, 0.26, 1, 4] };
        Assert.Equal([2, 4, 16, 64], s.TrainingCounts(16));
        Assert.Equal("runs", Assert.Throws<InvalidSettingException>(new LinearGaussianSettings { Runs = 0 }.Validate).Setting);
        var std = Assert.Throws<InvalidSettingException>(new LinearGaussianSettings { Std = -1 }.Validate);
        Assert.Equal(("std", "s must be positive"), (std.Setting, std.Problem));
        new LinearGaussianSettings().Validate();
    }
}
