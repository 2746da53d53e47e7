using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Analysis.AdaptiveBasis;

/// <summary>
/// Everything [K24]'s adaptive-basis study reads off one Jacobian: a denoiser at y = x + σz for one clean image x and one
/// noise draw z (docs/science.md §5).
/// </summary>
/// <param name="Denoiser">The denoiser's name.</param>
/// <param name="Image">Index of the clean image (as given by the caller).</param>
/// <param name="Draw">Index of the noise draw.</param>
/// <param name="Sigma">σ.</param>
/// <param name="Method">How J was obtained.</param>
/// <param name="Eigenvalues">λ_k of (J + Jᵀ)/2, descending.</param>
/// <param name="Shrinkage">Coefficients ⟨x, e_k⟩, oracle shrinkage, its error and the compaction curve.</param>
/// <param name="Trace">tr J (effective dimensionality).</param>
/// <param name="SumSquaredEigenvalues">Σλ_k².</param>
/// <param name="Asymmetry">‖J − Jᵀ‖_F / ‖J‖_F.</param>
/// <param name="HomogeneityError">‖J·y − f(y)‖ / ‖f(y)‖ (≈ 0 only for bias-free denoisers; reported, not assumed).</param>
/// <param name="SteinEstimate">SURE: ‖y − f(y)‖² − dσ² + 2σ²·tr J.</param>
/// <param name="SquaredError">The true ‖f(y) − x‖².</param>
/// <param name="EigenvaluesAboveHalf">The number of λ_k &gt; ½.</param>
/// <param name="EigenvectorIndices">0-based indices k of the kept eigenvectors (<see cref="JacobianStudyOptions.KeptEigenvectors"/>).</param>
/// <param name="Eigenvectors">The kept eigenvectors, row-major (one per row, unit norm, in pixel order C×H×W).</param>
/// <param name="Noisy">y.</param>
/// <param name="Denoised">f(y).</param>
public sealed record JacobianMeasurement(string Denoiser, int Image, int Draw, double Sigma, JacobianMethod Method, double[] Eigenvalues,
    ShrinkageProfile Shrinkage, double Trace, double SumSquaredEigenvalues, double Asymmetry, double HomogeneityError, double SteinEstimate,
    double SquaredError, int EigenvaluesAboveHalf, int[] EigenvectorIndices, double[] Eigenvectors, float[] Noisy, float[] Denoised)
{
    /// <summary>d.</summary>
    public int Dimension => Eigenvalues.Length;
}

/// <summary>
/// The per-point measurement of the adaptive-basis (GAHB) study, for any denoiser: exact Jacobians of networks, central
/// differences of closed-form and oracle denoisers (<see cref="DenoiserJacobian"/>). Noise draw <c>draw</c> of image
/// <c>image</c> comes from <see cref="Noise"/>, so every denoiser sees the same y.
/// </summary>
public static class JacobianStudy
{
    /// <summary>The noise stream of (image, draw) under <paramref name="seed"/>.</summary>
    public static DeterministicRng Noise(long seed, int image, int draw) => new(seed, ((long)image << 32) | (uint)draw);

    /// <summary>y = x + σz with z from <see cref="Noise"/>.</summary>
    public static float[] NoisyImage(ReadOnlySpan<float> clean, double sigma, long seed, int image, int draw)
    {
        var y = new float[clean.Length];
        Noise(seed, image, draw).FillNormal(y, 0f, (float)sigma);
        for (int i = 0; i < y.Length; i++) y[i] += clean[i];
        return y;
    }

    /// <summary>Measures <paramref name="denoiser"/> at y = x + σz for clean image <paramref name="clean"/> of <paramref name="shape"/>.</summary>
    public static JacobianMeasurement Measure(IDenoiser denoiser, ReadOnlySpan<float> clean, ImageShape shape, double sigma, long seed,
        int image = 0, int draw = 0, JacobianStudyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        options ??= new JacobianStudyOptions();
        options.Validate();
        if (clean.Length != shape.Size) throw new ArgumentException($"The clean image has {clean.Length} values, {shape} needs {shape.Size}.");
        if (!(sigma > 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), "σ must be positive and finite.");
        var y = NoisyImage(clean, sigma, seed, image, draw);
        var jacobian = DenoiserJacobian.At(denoiser, y, shape, sigma, options.Method, options.DifferenceStep, options.Batch);
        return Measure(denoiser.Name, jacobian, clean, sigma, image, draw, options);
    }

    /// <summary>The measurement from an already computed Jacobian <paramref name="jacobian"/> at y = x + σz.</summary>
    public static JacobianMeasurement Measure(string denoiser, JacobianAtPoint jacobian, ReadOnlySpan<float> clean, double sigma,
        int image = 0, int draw = 0, JacobianStudyOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(jacobian);
        options ??= new JacobianStudyOptions();
        int d = jacobian.Dimension;
        var spectrum = JacobianSpectrum.Of(jacobian.Matrix, d);
        var kept = options.KeptEigenvectors(d);
        return new JacobianMeasurement(denoiser, image, draw, sigma, jacobian.Method, [.. spectrum.Eigenvalues],
            ShrinkageProfile.Of(spectrum, clean, sigma), spectrum.Trace, spectrum.SumSquaredEigenvalues, spectrum.Asymmetry,
            HomogeneityCheck.RelativeError(jacobian), SteinRiskEstimate.Of(jacobian.Point, jacobian.Denoised, sigma, spectrum.Trace),
            ImageStatistics.SquaredDistance(jacobian.Denoised, clean), spectrum.CountAbove(0.5), kept, spectrum.Eigenvectors(kept),
            jacobian.Point, jacobian.Denoised);
    }
}
