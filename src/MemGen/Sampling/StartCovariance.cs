using MemGen.Compute;
using MemGen.Images;
using MemGen.Machine;

namespace MemGen.Sampling;

/// <summary>
/// The covariance Σ of a Gaussian start y0 = m + (Σ + σ0²I)^½·z (docs/science.md §3.4): the first two moments of the
/// noisy data law at σ0 instead of m + σ0·z, which leaves out the data's own spread around its mean. Where the data
/// vary as much as the start noise (the leading principal components of Fashion-MNIST have standard deviations of
/// several σ0 = 1 at 16×16), the plain start under-represents them and the samples come out with too little contrast.
/// Kept as the eigendecomposition Σ = U·diag(λ)·Uᵀ, so one start costs two d×d matrix–vector products.
/// </summary>
public sealed class StartCovariance
{
    private readonly float[] _basis;      // d×d row-major, eigenvector k in row k
    private readonly double[] _variances; // λ_k, clamped at 0

    private StartCovariance(float[] basis, double[] variances)
    {
        _basis = basis;
        _variances = variances;
    }

    /// <summary>d, the number of pixels.</summary>
    public int Size => _variances.Length;

    /// <summary>tr Σ, the data's total variance around its mean.</summary>
    public double TotalVariance => _variances.Sum();

    /// <summary>The largest eigenvalue of Σ.</summary>
    public double LargestVariance => _variances.Max();

    /// <summary>
    /// The covariance of <paramref name="images"/> (unbiased, N − 1; zero for a single image). Costs d² doubles and
    /// one d×d eigendecomposition (instant at 16×16 or 28×28, about a minute at 80×80).
    /// </summary>
    public static StartCovariance Of(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        int d = images.ImageSize;
        RequireMemory(d);
        var vectors = ImageStatistics.Covariance(images, out _);
        var values = new double[d];
        ComputeBackend.Host.LinearAlgebra.SymmetricEigen(vectors, values, d);
        var basis = new float[d * d];
        var variances = new double[d];
        for (int k = 0; k < d; k++)
        {
            variances[k] = Math.Max(0.0, values[k]);                    // rounding can leave tiny negative values
            for (int j = 0; j < d; j++) basis[k * d + j] = (float)vectors[j * d + k];
        }
        return new StartCovariance(basis, variances);
    }

    /// <summary>
    /// Throws <see cref="MemoryLimitException"/> when the covariance of <paramref name="pixels"/>-pixel images does not fit:
    /// the d×d covariance and eigenvectors in double, the decomposition's workspace and the kept basis in float.
    /// </summary>
    public static void RequireMemory(int pixels) =>
        MemoryBudget.Require(MemoryBudget.Product(4, pixels, pixels, sizeof(double)), $"the start covariance of {pixels}-pixel images ({pixels}×{pixels})");

    /// <summary>Replaces the standard normal <paramref name="z"/> (d values) by (Σ + σ0²I)^½·z.</summary>
    public void Shape(Span<float> z, double sigma0)
    {
        int d = Size;
        if (z.Length != d) throw new ArgumentException($"The start has {z.Length} pixels, the covariance {d}.", nameof(z));
        var coefficients = new double[d];
        for (int k = 0; k < d; k++)
        {
            var u = _basis.AsSpan(k * d, d);
            double w = 0;
            for (int j = 0; j < d; j++) w += u[j] * (double)z[j];
            coefficients[k] = w * Math.Sqrt(_variances[k] + sigma0 * sigma0);
        }
        var shaped = new double[d];
        for (int k = 0; k < d; k++)
        {
            var u = _basis.AsSpan(k * d, d);
            double c = coefficients[k];
            for (int j = 0; j < d; j++) shaped[j] += c * u[j];
        }
        for (int j = 0; j < d; j++) z[j] = (float)shaped[j];
    }
}
