using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Analysis.AdaptiveBasis;

/// <summary>How a Jacobian was obtained.</summary>
public enum JacobianMethod
{
    /// <summary>Exact products of a network linearized at y (<see cref="Nn.DenoisingNetwork.LinearizeAt(Tensors.Tensor, ReadOnlySpan{float})"/>).</summary>
    ExactLinearization,

    /// <summary>Central differences of the denoiser, one column per pixel (any <see cref="IDenoiser"/>).</summary>
    CentralDifferences,
}

/// <summary>Which method <see cref="DenoiserJacobian.At"/> uses.</summary>
public enum JacobianMethodChoice
{
    /// <summary>Exact linearization for a <see cref="NetworkDenoiser"/>, central differences for anything else.</summary>
    Automatic,

    /// <summary>Central differences even for a network (to check the exact products against them).</summary>
    CentralDifferences,
}

/// <summary>The Jacobian J = ∂f/∂y of a denoiser f at one point y, in double.</summary>
/// <param name="Shape">Image shape (d = C·H·W).</param>
/// <param name="Point">y (d values).</param>
/// <param name="Denoised">f(y) (d values).</param>
/// <param name="Matrix">J, row-major d×d, rows = outputs.</param>
/// <param name="Method">How J was obtained.</param>
public sealed record JacobianAtPoint(ImageShape Shape, float[] Point, float[] Denoised, double[] Matrix, JacobianMethod Method)
{
    /// <summary>d = C·H·W.</summary>
    public int Dimension => Shape.Size;
}

/// <summary>
/// The Jacobian of any denoiser at a noisy image y (docs/science.md §5). Networks get the exact Jacobian from their
/// linearization at y (J = I − J_r, assembled by <see cref="JacobianAnalysis.AssembleResidualJacobian"/>); closed-form
/// and oracle denoisers (Wiener, empirical optimal, manifold projections) get central differences
/// J·e_i ≈ (f(y + h·e_i) − f(y − h·e_i)) / 2h, exact up to float rounding for the linear ones. Non-blind denoisers are
/// told the noise level σ of y at every perturbed point.
/// </summary>
public static class DenoiserJacobian
{
    /// <summary>
    /// The default difference step: h = σ/100 (1e-3 when σ = 0). The smooth closed-form denoisers (the empirical optimal
    /// denoiser's softmax) vary on the scale σ, so the truncation error is ~(h/σ)² = 1e-4 while float32 rounding of f,
    /// ~6e-8/h, stays below it for σ ≳ 0.01.
    /// </summary>
    public static double DefaultStep(double sigma) => sigma > 0 ? sigma / 100 : 1e-3;

    /// <summary>
    /// J at <paramref name="point"/> (one image of <paramref name="shape"/>) with noise level <paramref name="sigma"/>.
    /// <paramref name="step"/> (central differences only) defaults to <see cref="DefaultStep"/>; <paramref name="batch"/>
    /// images are denoised (or basis vectors pushed through the network) per call.
    /// </summary>
    public static JacobianAtPoint At(IDenoiser denoiser, ReadOnlySpan<float> point, ImageShape shape, double sigma,
        JacobianMethodChoice method = JacobianMethodChoice.Automatic, double? step = null, int batch = 64)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        if (point.Length != shape.Size) throw new ArgumentException($"The point has {point.Length} values, {shape} needs {shape.Size}.");
        if (!(sigma >= 0) || !double.IsFinite(sigma)) throw new ArgumentOutOfRangeException(nameof(sigma), "σ must be finite and non-negative.");
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        return denoiser is NetworkDenoiser network && method == JacobianMethodChoice.Automatic
            ? OfNetwork(network.Network, point, shape, sigma, batch)
            : Differences(denoiser, point, shape, sigma, step ?? DefaultStep(sigma), batch);
    }

    /// <summary>
    /// The exact Jacobian of <paramref name="network"/> (evaluation mode) at <paramref name="point"/>: J = I − J_r with J_r
    /// assembled from <paramref name="batch"/> basis vectors per linearized pass; <paramref name="progress"/> gets (done, d).
    /// A noise-conditioned network is linearized at noise level <paramref name="sigma"/> (blind networks ignore it); σ is an
    /// input, not a variable, so J is ∂f/∂y at fixed σ.
    /// </summary>
    public static JacobianAtPoint OfNetwork(DenoisingNetwork network, ReadOnlySpan<float> point, ImageShape shape, double sigma, int batch = 64,
        Action<int, int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (point.Length != shape.Size) throw new ArgumentException($"The point has {point.Length} values, {shape} needs {shape.Size}.");
        if (network.Channels != shape.Channels) throw new ArgumentException($"The network has {network.Channels} channels, the image {shape.Channels}.");
        network.CheckImageSize(shape.Height, shape.Width);
        int d = shape.Size;
        var y = new Tensor(1, shape.Channels, shape.Height, shape.Width);
        point.CopyTo(y.Span);
        var linearized = network.LinearizeAt(y, [(float)sigma]);
        var residual = JacobianAnalysis.AssembleResidualJacobian(linearized, batch, rows: false, progress);
        // J_f = I − J_r in double (J_r rather than J_f is assembled: float would round away J_f's small entries).
        var j = new double[(long)d * d];
        for (long i = 0; i < j.Length; i++) j[i] = -residual[i];
        for (int i = 0; i < d; i++) j[(long)i * d + i] += 1;
        return new JacobianAtPoint(shape, point.ToArray(), linearized.Denoised.ToArray(), j, JacobianMethod.ExactLinearization);
    }

    private static JacobianAtPoint Differences(IDenoiser denoiser, ReadOnlySpan<float> point, ImageShape shape, double sigma, double step, int batch)
    {
        if (!(step > 0) || !double.IsFinite(step)) throw new ArgumentOutOfRangeException(nameof(step), "The difference step must be positive.");
        int d = shape.Size;
        // Each pass denoises the pairs y ± h·e_i of `columns` pixels; the step actually taken is the float difference.
        int columns = Math.Max(1, Math.Min(d, batch / 2));
        var y = point.ToArray();
        var denoised = Denoise(denoiser, y, shape, sigma);
        var perturbed = new Tensor(2 * columns, shape.Channels, shape.Height, shape.Width);
        var output = perturbed.ZerosLike();
        var sigmas = new float[2 * columns];
        Array.Fill(sigmas, (float)sigma);
        var j = new double[(long)d * d];
        var taken = new double[columns];
        for (int start = 0; start < d; start += columns)
        {
            int count = Math.Min(columns, d - start);
            for (int k = 0; k < 2 * columns; k++) y.CopyTo(perturbed.Item(k));
            for (int k = 0; k < count; k++)
            {
                int i = start + k;
                float plus = (float)(y[i] + step), minus = (float)(y[i] - step);
                perturbed.Item(2 * k)[i] = plus;
                perturbed.Item(2 * k + 1)[i] = minus;
                taken[k] = (double)plus - minus;
            }
            denoiser.Denoise(perturbed, output, sigmas);
            for (int k = 0; k < count; k++)
            {
                var fp = output.Item(2 * k);
                var fm = output.Item(2 * k + 1);
                int column = start + k;
                for (int r = 0; r < d; r++) j[(long)r * d + column] = ((double)fp[r] - fm[r]) / taken[k];
            }
        }
        return new JacobianAtPoint(shape, y, denoised, j, JacobianMethod.CentralDifferences);
    }

    /// <summary>f(<paramref name="y"/>) for one image, told noise level <paramref name="sigma"/>.</summary>
    internal static float[] Denoise(IDenoiser denoiser, float[] y, ImageShape shape, double sigma)
    {
        var input = Tensor.FromArray((float[])y.Clone(), 1, shape.Channels, shape.Height, shape.Width);
        var output = input.ZerosLike();
        denoiser.Denoise(input, output, [(float)sigma]);
        return output.Data;
    }
}
