namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// One-step generation of docs/science.md §7.3: x_T ~ N(e^(−T)·mean(X0), s_T²·I) with s_T² = e^(−2T)·v̄ + Λ(1 − e^(−2T))
/// (v̄ = mean per-pixel variance of the training set, unbiased as torch.var), then x = β0 + B·x_T. Hence the
/// generated law is N(μ_G, Σ_G) with μ_G = β0 + e^(−T)·B·mean(X0) and Σ_G = s_T²·B·Bᵀ; the reference code's
/// s_T²·Bᵀ·B (same spectrum, other eigenvectors) is available to show what it changes (§7.8).
/// </summary>
public static class OneStepGenerator
{
    /// <summary>Mean per-pixel variance (denominator n − 1) of a row-major n×d set.</summary>
    public static double MeanPixelVariance(ReadOnlySpan<double> x, int count, int dimension)
    {
        if (count < 2) throw new ArgumentOutOfRangeException(nameof(count), "The variance needs at least 2 points.");
        var mean = LinearDenoiser.ColumnMeans(x, count, dimension);
        double total = 0;
        for (int r = 0; r < count; r++)
            for (int c = 0; c < dimension; c++)
            {
                double dx = x[r * dimension + c] - mean[c];
                total += dx * dx;
            }
        return total / (count - 1) / dimension;
    }

    /// <summary>
    /// The generated law N(μ_G, Σ_G) of <paramref name="denoiser"/> fitted on training set <paramref name="x0"/> (n×d),
    /// with Σ_G = s_T²·B·Bᵀ (<see cref="GeneratedCovariance.Model"/>) or s_T²·Bᵀ·B (<see cref="GeneratedCovariance.ReferenceCode"/>).
    /// </summary>
    public static SpectralGaussian GeneratedLaw(LinearDenoiser denoiser, OrnsteinUhlenbeckJump jump, ReadOnlySpan<double> x0, int count,
        GeneratedCovariance covariance = GeneratedCovariance.Model)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(jump);
        int d = denoiser.Dimension;
        var meanX0 = LinearDenoiser.ColumnMeans(x0, count, d);
        double sT2 = jump.ForwardVariance(MeanPixelVariance(x0, count, d));
        var startMean = new double[d];
        for (int i = 0; i < d; i++) startMean[i] = jump.Decay * meanX0[i];
        var mu = denoiser.Apply(startMean);
        // Σ_G = s_T²·F·Fᵀ through the SVD of the factor F = B (or Bᵀ): near n = d, B is badly conditioned and the
        // eigenvalues of B·Bᵀ would lose the small ones (which decide H² and KL).
        var factor = covariance == GeneratedCovariance.Model ? denoiser.Weights : Transpose(denoiser.Weights, d);
        return SpectralGaussian.FromFactor(mu, factor, sT2, d, denoiser.Rank);
    }

    private static double[] Transpose(double[] m, int d)
    {
        var t = new double[d * d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) t[j * d + i] = m[i * d + j];
        return t;
    }
}
