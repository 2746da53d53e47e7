using MemGen.Analysis.AdaptiveBasis;
using MemGen.Images;
using MemGen.Machine;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Analysis;

/// <summary>
/// Result of <see cref="JacobianAnalysis.Analyze"/> (docs/science.md §5.6, GAHB): the denoiser Jacobian J = ∂f/∂y at y = x + σz and
/// the eigendecomposition of its symmetric part S = (J + Jᵀ)/2.
/// </summary>
/// <param name="Channels">Image channels.</param>
/// <param name="Height">Image height.</param>
/// <param name="Width">Image width.</param>
/// <param name="Sigma">Noise standard deviation σ.</param>
/// <param name="Seed">Seed of the noise z.</param>
/// <param name="Noisy">y = x + σz (d values).</param>
/// <param name="Denoised">f(y) (d values).</param>
/// <param name="Jacobian">J = ∂f/∂y, row-major d×d (rows = outputs).</param>
/// <param name="Asymmetry">‖J − Jᵀ‖_F / ‖J‖_F.</param>
/// <param name="Eigenvalues">Eigenvalues λ_k of S, descending (d values).</param>
/// <param name="Coefficients">Clean-image coefficients ⟨x, e_k⟩ in the same order (d values).</param>
/// <param name="EffectiveDimensionality">tr(J) (= Σλ_k; the paper's MSE ≈ σ²·tr J).</param>
/// <param name="SumSquaredEigenvalues">Σλ_k² (the older repository's effective dimensionality).</param>
/// <param name="EulerRelativeError">‖J·y − f(y)‖ / ‖f(y)‖: zero up to float rounding for a bias-free network (positively homogeneous);
/// for a noise-conditioned network, whose biases make f affine rather than linear near y, it measures how far f(y) is from J·y.</param>
/// <param name="TopEigenvectors">The first <paramref name="Top"/> eigenvectors e_k of S, row-major Top×d (unit norm).</param>
/// <param name="Top">Number of eigenvectors kept.</param>
public sealed record JacobianAnalysisResult(int Channels, int Height, int Width, double Sigma, long Seed, float[] Noisy, float[] Denoised,
    double[] Jacobian, double Asymmetry, double[] Eigenvalues, double[] Coefficients, double EffectiveDimensionality,
    double SumSquaredEigenvalues, double EulerRelativeError, double[] TopEigenvectors, int Top)
{
    /// <summary>d = C·H·W.</summary>
    public int Dimension => Channels * Height * Width;
}

/// <summary>
/// Jacobian analysis of a network denoiser (docs/science.md §5.6, GAHB). The full Jacobian is assembled from exact products
/// of the network linearized at y (<see cref="DenoisingNetwork.LinearizeAt(Tensor, ReadOnlySpan{float})"/>, at the noise level σ
/// for a noise-conditioned network), pushing the standard basis through in batches. Nothing assumes homogeneity: f(y) comes
/// from the network's own forward pass, J from the products.
/// </summary>
public static class JacobianAnalysis
{
    /// <summary>
    /// Assembles the residual Jacobian J_r = ∂r/∂y of <paramref name="linearized"/> (row-major d×d, rows = outputs)
    /// from <paramref name="batch"/> basis vectors per pass: columns J_r·e_i (forward passes) or, with
    /// <paramref name="rows"/>, rows J_rᵀ·e_i (backward passes). J_r rather than J_f = I − J_r keeps the small entries
    /// float would round away. <paramref name="progress"/> gets (done, d) after each pass.
    /// </summary>
    public static float[] AssembleResidualJacobian(LinearizedNetwork linearized, int batch, bool rows = false, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(linearized);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var point = linearized.Point;
        int d = point.ItemLength;
        batch = Math.Min(batch, d);
        // The basis goes to the backend and the products come back once per pass; the products stay on the device.
        var basis = new float[batch * d];
        var products = new float[batch * d];
        var basisOnBackend = linearized.Backend.Zeros(batch, point.C, point.H, point.W);
        var productsOnBackend = basisOnBackend.ZerosLike();
        var jacobian = new float[(long)d * d];
        for (int start = 0; start < d; start += batch)
        {
            Array.Clear(basis);
            int count = Math.Min(batch, d - start);
            for (int k = 0; k < count; k++) basis[k * d + start + k] = 1f;
            basisOnBackend.CopyFrom(basis);
            // The last chunk keeps the full batch (zero vectors) so every pass reuses the same buffers.
            if (rows) linearized.ResidualVjp(basisOnBackend, productsOnBackend);
            else linearized.ResidualJvp(basisOnBackend, productsOnBackend);
            productsOnBackend.CopyTo(0, products.AsSpan(0, count * d));
            for (int k = 0; k < count; k++)
            {
                var p = products.AsSpan(k * d, d);
                int index = start + k;
                if (rows) p.CopyTo(jacobian.AsSpan((int)((long)index * d), d)); // row i of J is Jᵀe_i
                else for (int i = 0; i < d; i++) jacobian[(long)i * d + index] = p[i];
            }
            progress?.Invoke(start + count, d);
        }
        return jacobian;
    }

    /// <summary>
    /// Analyzes <paramref name="network"/> (evaluation mode; a noise-conditioned one is told σ) at y = x + σz, z ~ N(0, I) from
    /// <c>DeterministicRng(seed)</c>, for the clean image <paramref name="clean"/> (C×H×W, the network's channels),
    /// keeping the top <paramref name="top"/> eigenvectors. <paramref name="progress"/> gets (done, d) basis vectors.
    /// </summary>
    public static JacobianAnalysisResult Analyze(DenoisingNetwork network, ReadOnlySpan<float> clean, int height, int width, double sigma,
        long seed = 0, int top = 16, int batch = 64, Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfNegative(sigma);
        int channels = network.Channels;
        int d = channels * height * width;
        if (clean.Length != d) throw new ArgumentException($"The clean image has {clean.Length} values, {channels}×{height}×{width} needs {d}.");
        network.CheckImageSize(height, width);
        top = Math.Clamp(top, 0, d);
        // J_r (float), J_f and its symmetric part (double), the eigen-solver's workspace (≈ 2 d² doubles) and a float copy to write.
        long squared = MemoryBudget.Product(d, d);
        if (squared > Array.MaxLength)
            throw new MemoryLimitException($"the Jacobian of a {channels}×{height}×{width} image has d² = {squared} entries, more than one array holds ({Array.MaxLength}); use a smaller image");
        MemoryBudget.Require(MemoryBudget.Product(squared, 40), $"the {d}×{d} Jacobian of a {channels}×{height}×{width} image");

        var y = new float[d];
        new DeterministicRng(seed).FillNormal(y, 0f, (float)sigma);
        for (int i = 0; i < d; i++) y[i] += clean[i];
        var jacobian = DenoiserJacobian.OfNetwork(network, y, new ImageShape(channels, height, width), sigma, batch, progress);
        var spectrum = JacobianSpectrum.Of(jacobian.Matrix, d, network.Backend.LinearAlgebra);
        return new JacobianAnalysisResult(channels, height, width, sigma, seed, y, jacobian.Denoised, jacobian.Matrix,
            spectrum.Asymmetry, [.. spectrum.Eigenvalues], spectrum.Coefficients(clean), spectrum.Trace, spectrum.SumSquaredEigenvalues,
            HomogeneityCheck.RelativeError(jacobian), spectrum.Eigenvectors(Enumerable.Range(0, top).ToArray()), top);
    }
}
