using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Training;

/// <summary>
/// The training loss of docs/science.md §2: the network predicts the noise residual, so with targets σz the loss of a
/// batch of B images is L = Σ_pixels (r(y) − σz)² / B (summed over pixels, averaged over images), and its gradient
/// with respect to the residual is dL/dr = 2(r − σz)/B. Runs on the backend that holds the tensors.
/// </summary>
public static class Loss
{
    /// <summary>Returns L for <paramref name="residual"/> against <paramref name="scaledNoise"/> (plain [B, ...]) and writes dL/dr into <paramref name="gradient"/>.</summary>
    public static double Evaluate(ComputeBackend backend, Tensor residual, Tensor scaledNoise, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(residual);
        ArgumentNullException.ThrowIfNull(scaledNoise);
        ArgumentNullException.ThrowIfNull(gradient);
        residual.RequireSameShape(scaledNoise, "loss target");
        residual.RequireSameShape(gradient, "loss gradient");
        int batch = residual.Shape[0];
        return backend.SquaredError(residual, scaledNoise, 2f / batch, gradient) / batch;
    }
}
