using MemGen.Compute;
using MemGen.Tensors;

using System.Text.Json.Serialization;

namespace MemGen.Training;

/// <summary>How the squared errors of the images of a batch are weighted.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<LossWeighting>))]
public enum LossWeighting
{
    /// <summary>Every image counts the same (docs/science.md §2).</summary>
    [JsonStringEnumMemberName("uniform")]
    Uniform,

    /// <summary>Image i counts λ(σ_i) = (σ² + σ_d²)/(σ·σ_d)², EDM's weighting (docs/science.md §9.3; noise-conditioned networks).</summary>
    [JsonStringEnumMemberName("edm")]
    Edm,
}

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

    /// <summary>
    /// The weighted loss L = Σ_i w_i·Σ_pixels (r_i − σ_i z_i)² / B with gradient 2·w_i·(r_i − σ_i z_i)/B; <paramref name="weights"/>
    /// is a plain [B] tensor on the same backend.
    /// </summary>
    public static double EvaluateWeighted(ComputeBackend backend, Tensor residual, Tensor scaledNoise, Tensor weights, Tensor gradient)
    {
        ArgumentNullException.ThrowIfNull(backend);
        ArgumentNullException.ThrowIfNull(residual);
        ArgumentNullException.ThrowIfNull(scaledNoise);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(gradient);
        residual.RequireSameShape(scaledNoise, "loss target");
        residual.RequireSameShape(gradient, "loss gradient");
        int batch = residual.Shape[0];
        if (weights.Length != batch) throw new ArgumentException($"{weights.Length} loss weights for a batch of {batch}.");
        return backend.WeightedSquaredError(residual, scaledNoise, weights, 2f / batch, gradient) / batch;
    }
}
