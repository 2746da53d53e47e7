using MemGen.Data;
using MemGen.Images;
using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Denoisers;

/// <summary>
/// The Gaussian (Wiener) denoiser of a mean μ and covariance Σ (docs/science.md §4.2):
/// f(y) = μ + Σ(Σ + σ²I)⁻¹(y − μ), optimal for Gaussian data and a strong linear baseline on real data.
/// Σ = V·diag(λ)·Vᵀ is eigendecomposed once; each application is two matrix products,
/// f(y) = μ + V·diag(λ/(λ + σ²))·Vᵀ(y − μ). Needs σ. Not thread-safe (reuses scratch buffers).
/// </summary>
public sealed class GaussianDenoiser : IDenoiser
{
    private readonly float[] _mean;          // d
    private readonly float[] _eigenvectors;  // d×d row-major, eigenvectors as columns
    private readonly double[] _eigenvalues;  // d, descending, clamped at 0
    private readonly int _size;
    private float[] _centred = [], _coefficients = []; // scratch, grown to the largest batch seen

    /// <summary>
    /// Creates the denoiser of mean <paramref name="mean"/> (d) and covariance <paramref name="covariance"/>
    /// (d×d row-major, symmetric). Negative eigenvalues from rounding are clamped to 0.
    /// </summary>
    public GaussianDenoiser(ReadOnlySpan<double> mean, ReadOnlySpan<double> covariance)
    {
        int d = mean.Length;
        if (d == 0) throw new ArgumentException("Mean must not be empty.", nameof(mean));
        if (covariance.Length != (long)d * d)
            throw new ArgumentException($"Covariance has {covariance.Length} values, expected {d}×{d}.", nameof(covariance));
        _size = d;
        _mean = new float[d];
        for (int j = 0; j < d; j++) _mean[j] = (float)mean[j];
        var vectors = covariance.ToArray();
        var values = new double[d];
        ComputeBackend.Host.LinearAlgebra.SymmetricEigen(vectors, values, d);
        // reorder to descending eigenvalues
        _eigenvalues = new double[d];
        _eigenvectors = new float[d * d];
        for (int k = 0; k < d; k++)
        {
            int src = d - 1 - k;
            _eigenvalues[k] = Math.Max(0.0, values[src]);
            for (int row = 0; row < d; row++) _eigenvectors[row * d + k] = (float)vectors[row * d + src];
        }
    }

    /// <summary>
    /// Estimates the mean and the (unbiased, N−1) covariance of <paramref name="images"/> and builds the denoiser.
    /// Memory and time grow as d² and d³ (fine for 28×28; 80×80 needs ~330 MB and minutes); the rows are streamed.
    /// </summary>
    public static GaussianDenoiser FromImages(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var covariance = ImageStatistics.Covariance(images, out var meanF);
        var mean = new double[meanF.Length];
        for (int j = 0; j < mean.Length; j++) mean[j] = meanF[j];
        return new GaussianDenoiser(mean, covariance);
    }

    /// <inheritdoc />
    public string Name => "wiener";

    /// <inheritdoc />
    public bool IsBlind => false;

    /// <summary>The mean μ.</summary>
    public ReadOnlySpan<float> Mean => _mean;

    /// <summary>The eigenvalues of Σ in descending order (clamped at 0).</summary>
    public ReadOnlySpan<double> Eigenvalues => _eigenvalues;

    /// <summary>The eigenvectors of Σ as the columns of a d×d row-major matrix, in the order of <see cref="Eigenvalues"/>.</summary>
    public ReadOnlySpan<float> Eigenvectors => _eigenvectors;

    /// <inheritdoc />
    public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        ArgumentNullException.ThrowIfNull(denoised);
        noisy.RequireSameShape(denoised, "GaussianDenoiser.Denoise");
        int d = _size;
        if (noisy.ItemLength != d) throw new ArgumentException($"Images have {noisy.ItemLength} pixels, the Gaussian {d}.");
        int n = noisy.Shape[0];
        if (sigmas.Length != n) throw new ArgumentException($"Expected {n} noise levels, got {sigmas.Length}.");
        if (_centred.Length < n * d)
        {
            _centred = new float[n * d];
            _coefficients = new float[n * d];
        }
        var centred = _centred.AsSpan(0, n * d);
        var coefficients = _coefficients.AsSpan(0, n * d);
        for (int i = 0; i < n; i++)
        {
            if (!(sigmas[i] >= 0) || !float.IsFinite(sigmas[i]))
                throw new ArgumentException($"Noise level {sigmas[i]} of image {i} must be finite and non-negative.");
            System.Numerics.Tensors.TensorPrimitives.Subtract(noisy.Item(i), _mean, centred.Slice(i * d, d));
        }
        ComputeBackend.Host.LinearAlgebra.Sgemm(false, false, n, d, d, 1f, centred, _eigenvectors, 0f, coefficients); // (y−μ)ᵀV
        for (int i = 0; i < n; i++)
        {
            double s2 = (double)sigmas[i] * sigmas[i];
            var row = coefficients.Slice(i * d, d);
            for (int k = 0; k < d; k++)
            {
                double lambda = _eigenvalues[k];
                row[k] *= lambda + s2 > 0 ? (float)(lambda / (lambda + s2)) : 1f;
            }
        }
        var output = denoised.Span;
        ComputeBackend.Host.LinearAlgebra.Sgemm(false, true, n, d, d, 1f, coefficients, _eigenvectors, 0f, output); // c·Vᵀ
        for (int i = 0; i < n; i++)
            System.Numerics.Tensors.TensorPrimitives.Add(denoised.Item(i), _mean, denoised.Item(i));
    }
}
