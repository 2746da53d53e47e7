namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// Divergences between a generated law N(μ, Σ) (a <see cref="SpectralGaussian"/>) and the true law
/// N(m·1, s²I) of docs/science.md §7.6, computed in Σ's eigenbasis with log-determinants.
/// </summary>
public static class GaussianDivergences
{
    /// <summary>
    /// Squared Hellinger distance H² = 1 − ∫sqrt(p·q) ∈ [0, 1]:
    /// log BC = ¼·log det Σ + ¼·log det(s²I) − ½·log det((Σ + s²I)/2) − ⅛·δᵀ((Σ + s²I)/2)⁻¹δ, δ = μ − m·1.
    /// Exactly 1 when Σ is singular (the two laws are mutually singular).
    /// </summary>
    public static double SquaredHellinger(SpectralGaussian generated, IsotropicGaussianLaw truth)
    {
        Check(generated, truth);
        if (generated.IsSingular) return 1.0;
        int d = generated.Dimension;
        double s2 = truth.Std * truth.Std;
        var w = generated.ToEigenbasis(Offset(generated, truth));
        double logBc = 0;
        for (int i = 0; i < d; i++)
        {
            double l = generated.Eigenvalues[i], avg = 0.5 * (l + s2);
            logBc += 0.25 * Math.Log(l) + 0.25 * Math.Log(s2) - 0.5 * Math.Log(avg) - 0.125 * w[i] * w[i] / avg;
        }
        return Math.Clamp(-double.ExpM1(logBc), 0.0, 1.0);
    }

    /// <summary>
    /// KL(generated ‖ true) = ½·[tr(Σ)/s² + ‖δ‖²/s² − d + d·log s² − log det Σ]; +∞ when Σ is singular.
    /// </summary>
    public static double KullbackLeibler(SpectralGaussian generated, IsotropicGaussianLaw truth)
    {
        Check(generated, truth);
        if (generated.IsSingular) return double.PositiveInfinity;
        int d = generated.Dimension;
        double s2 = truth.Std * truth.Std;
        var delta = Offset(generated, truth);
        double trace = 0, logDet = 0, dist2 = 0;
        for (int i = 0; i < d; i++)
        {
            trace += generated.Eigenvalues[i];
            logDet += Math.Log(generated.Eigenvalues[i]);
            dist2 += delta[i] * delta[i];
        }
        return 0.5 * (trace / s2 + dist2 / s2 - d + d * Math.Log(s2) - logDet);
    }

    private static double[] Offset(SpectralGaussian g, IsotropicGaussianLaw truth)
    {
        var delta = new double[g.Dimension];
        for (int i = 0; i < delta.Length; i++) delta[i] = g.Mean[i] - truth.Mean;
        return delta;
    }

    private static void Check(SpectralGaussian g, IsotropicGaussianLaw truth)
    {
        ArgumentNullException.ThrowIfNull(g);
        ArgumentNullException.ThrowIfNull(truth);
        if (g.Dimension != truth.Dimension) throw new ArgumentException($"Dimensions differ: {g.Dimension} vs {truth.Dimension}.");
    }
}
