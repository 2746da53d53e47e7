using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using MemGen.Tensors;

namespace MemGen.Denoisers;

/// <summary>
/// Oracle denoiser of the "one image with random intensity rescalings" dataset (docs/science.md §4.3): the data lie on
/// the ray {a·x0}, so the optimal small-σ denoiser is the orthogonal projection onto the line through x0,
/// f(y) = ⟨y, u⟩·u with u = x0/‖x0‖. Its MSE is σ² (one noise dimension survives), i.e.
/// PSNR_out = PSNR_in + 10·log10(d). Blind.
/// </summary>
public sealed class RayDenoiser : IDenoiser
{
    private readonly float[] _direction;

    /// <summary>Creates the oracle of the ray through <paramref name="image"/> (must be non-zero).</summary>
    public RayDenoiser(ReadOnlySpan<float> image)
    {
        double norm = Math.Sqrt(TensorPrimitives.Dot(image, image));
        if (!(norm > 0)) throw new ArgumentException("The ray oracle needs a non-zero image.", nameof(image));
        _direction = new float[image.Length];
        TensorPrimitives.Multiply(image, (float)(1.0 / norm), _direction);
    }

    /// <inheritdoc />
    public string Name => "ray-oracle";

    /// <inheritdoc />
    public bool IsBlind => true;

    /// <inheritdoc />
    public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        ArgumentNullException.ThrowIfNull(denoised);
        noisy.RequireSameShape(denoised, "RayDenoiser.Denoise");
        if (noisy.ItemLength != _direction.Length)
            throw new ArgumentException($"Images have {noisy.ItemLength} pixels, the ray {_direction.Length}.");
        for (int i = 0; i < noisy.Shape[0]; i++)
        {
            float coefficient = TensorPrimitives.Dot<float>(noisy.Item(i), _direction);
            TensorPrimitives.Multiply(_direction, coefficient, denoised.Item(i));
        }
    }
}
