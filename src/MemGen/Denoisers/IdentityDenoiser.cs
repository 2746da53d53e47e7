using MemGen.Tensors;

namespace MemGen.Denoisers;

/// <summary>The trivial denoiser f(y) = y: the baseline every denoiser must beat (output PSNR = input PSNR).</summary>
public sealed class IdentityDenoiser : IDenoiser
{
    /// <inheritdoc />
    public string Name => "identity";

    /// <inheritdoc />
    public bool IsBlind => true;

    /// <inheritdoc />
    public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        ArgumentNullException.ThrowIfNull(denoised);
        noisy.RequireSameShape(denoised, "IdentityDenoiser.Denoise");
        noisy.Span.CopyTo(denoised.Span);
    }
}
