using MemGen.Images;

namespace MemGen.Analysis.AdaptiveBasis;

/// <summary>
/// Summary of the Jacobian measurements of one denoiser at one σ over images and noise draws (the rows of the GAHB
/// study's tables and the curves of its figures). Per-k profiles are medians over the measurements, the compaction curve
/// is their mean; SURE and the true error are means with standard errors, and their paired difference too, so that
/// "SURE matches the true MSE" is a statement with an error bar.
/// </summary>
/// <param name="Denoiser">The denoiser's name.</param>
/// <param name="Sigma">σ.</param>
/// <param name="Count">Measurements summarized (images × draws).</param>
/// <param name="Dimension">d.</param>
/// <param name="MedianEigenvalues">Median λ_k per k.</param>
/// <param name="MedianOracleShrinkage">Median c_k²/(c_k² + σ²) per k.</param>
/// <param name="MedianAbsCoefficients">Median |⟨x, e_k⟩| per k.</param>
/// <param name="MeanCompaction">Mean fraction of ‖x‖² in the first p eigenvectors, p = 1…d.</param>
/// <param name="Trace">tr J.</param>
/// <param name="SumSquaredEigenvalues">Σλ_k².</param>
/// <param name="EigenvaluesAboveHalf">Number of λ_k &gt; ½.</param>
/// <param name="MeanAsymmetry">Mean ‖J − Jᵀ‖/‖J‖.</param>
/// <param name="MaxHomogeneityError">Largest ‖J·y − f(y)‖/‖f(y)‖.</param>
/// <param name="SteinEstimate">SURE of ‖f(y) − x‖².</param>
/// <param name="SquaredError">True ‖f(y) − x‖².</param>
/// <param name="SteinMinusTrue">Paired SURE − true error (its mean should be 0 within a few standard errors).</param>
/// <param name="OracleSquaredError">Error of the oracle shrinkage in the denoiser's own basis.</param>
public sealed record JacobianStudySummary(string Denoiser, double Sigma, int Count, int Dimension, double[] MedianEigenvalues,
    double[] MedianOracleShrinkage, double[] MedianAbsCoefficients, double[] MeanCompaction, MeanEstimate Trace,
    MeanEstimate SumSquaredEigenvalues, MeanEstimate EigenvaluesAboveHalf, double MeanAsymmetry, double MaxHomogeneityError,
    MeanEstimate SteinEstimate, MeanEstimate SquaredError, MeanEstimate SteinMinusTrue, MeanEstimate OracleSquaredError)
{
    /// <summary>Mean per-pixel MSE ‖f(y) − x‖²/d.</summary>
    public double MeanSquaredError => SquaredError.Mean / Dimension;

    /// <summary>Output PSNR of the mean per-pixel MSE, 10·log10(1/MSE) (pixels in [0, 1]).</summary>
    public double Psnr => -10 * Math.Log10(MeanSquaredError);

    /// <summary>Summarizes <paramref name="measurements"/> (at least one; all of the same denoiser, σ and dimension).</summary>
    public static JacobianStudySummary Of(IReadOnlyList<JacobianMeasurement> measurements)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        if (measurements.Count == 0) throw new ArgumentException("Nothing to summarize.", nameof(measurements));
        var first = measurements[0];
        int d = first.Dimension;
        foreach (var m in measurements)
            if (m.Dimension != d || m.Sigma != first.Sigma || m.Denoiser != first.Denoiser)
                throw new ArgumentException($"Summaries are per denoiser and σ: got {m.Denoiser} at σ={m.Sigma} (d={m.Dimension}) with {first.Denoiser} at σ={first.Sigma} (d={d}).");
        double[] PerK(Func<JacobianMeasurement, int, double> value, bool median)
        {
            var result = new double[d];
            var column = new double[measurements.Count];
            for (int k = 0; k < d; k++)
            {
                for (int i = 0; i < column.Length; i++) column[i] = value(measurements[i], k);
                result[k] = median ? ImageStatistics.Median(column) : column.Average();
            }
            return result;
        }
        MeanEstimate Mean(Func<JacobianMeasurement, double> value) => MeanEstimate.Of(measurements.Select(value).ToArray());
        return new JacobianStudySummary(first.Denoiser, first.Sigma, measurements.Count, d,
            PerK((m, k) => m.Eigenvalues[k], median: true),
            PerK((m, k) => m.Shrinkage.OracleShrinkage[k], median: true),
            PerK((m, k) => Math.Abs(m.Shrinkage.Coefficients[k]), median: true),
            PerK((m, k) => m.Shrinkage.Compaction[k], median: false),
            Mean(m => m.Trace), Mean(m => m.SumSquaredEigenvalues), Mean(m => m.EigenvaluesAboveHalf),
            measurements.Average(m => m.Asymmetry), measurements.Max(m => m.HomogeneityError),
            Mean(m => m.SteinEstimate), Mean(m => m.SquaredError), Mean(m => m.SteinEstimate - m.SquaredError),
            Mean(m => m.Shrinkage.OracleSquaredError));
    }
}
