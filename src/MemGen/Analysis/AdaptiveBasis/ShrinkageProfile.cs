namespace MemGen.Analysis.AdaptiveBasis;

/// <summary>
/// The shrinkage picture of a denoiser's adaptive basis at one point ([K24] §3, docs/science.md §5): the clean image's
/// coefficients c_k = ⟨x, e_k⟩ in the eigenbasis e_k of (J + Jᵀ)/2, the oracle shrinkage c_k²/(c_k² + σ²) — the factor
/// that minimizes the expected error of shrinking the noisy coefficient ⟨y, e_k⟩ when x is known, i.e. the best any
/// denoiser can do in this fixed basis — its error Σ_k σ²·c_k²/(c_k² + σ²), and the compaction curve: the fraction of
/// ‖x‖² held by the first p eigenvectors, p = 1…d (1 at p = d, the basis being orthonormal).
/// </summary>
/// <param name="Sigma">Noise level σ.</param>
/// <param name="Coefficients">c_k, in the order of the eigenvalues (descending).</param>
/// <param name="OracleShrinkage">c_k²/(c_k² + σ²) (1 where c_k = σ = 0).</param>
/// <param name="OracleSquaredError">Σ_k σ²·c_k²/(c_k² + σ²): the expected ‖f(y) − x‖² of the oracle shrinkage in this basis.</param>
/// <param name="Compaction">Σ_{k ≤ p} c_k² / ‖x‖² for p = 1…d (entry p − 1; NaN for x = 0).</param>
public sealed record ShrinkageProfile(double Sigma, double[] Coefficients, double[] OracleShrinkage, double OracleSquaredError, double[] Compaction)
{
    /// <summary>The profile of the clean image <paramref name="clean"/> in the eigenbasis of <paramref name="spectrum"/> at noise <paramref name="sigma"/>.</summary>
    public static ShrinkageProfile Of(JacobianSpectrum spectrum, ReadOnlySpan<float> clean, double sigma)
    {
        ArgumentNullException.ThrowIfNull(spectrum);
        if (!(sigma >= 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), "σ must be finite and non-negative.");
        var c = spectrum.Coefficients(clean);
        return FromCoefficients(c, sigma);
    }

    /// <summary>The profile of coefficients <paramref name="coefficients"/> of an image in some orthonormal basis.</summary>
    public static ShrinkageProfile FromCoefficients(double[] coefficients, double sigma)
    {
        ArgumentNullException.ThrowIfNull(coefficients);
        int d = coefficients.Length;
        double s2 = sigma * sigma, error = 0, total = 0;
        var shrinkage = new double[d];
        for (int k = 0; k < d; k++)
        {
            double c2 = coefficients[k] * coefficients[k];
            shrinkage[k] = c2 + s2 > 0 ? c2 / (c2 + s2) : 1;
            error += c2 + s2 > 0 ? s2 * c2 / (c2 + s2) : 0;
            total += c2;
        }
        var compaction = new double[d];
        double running = 0;
        for (int k = 0; k < d; k++)
        {
            running += coefficients[k] * coefficients[k];
            compaction[k] = total > 0 ? running / total : double.NaN;
        }
        return new ShrinkageProfile(sigma, coefficients, shrinkage, error, compaction);
    }
}
