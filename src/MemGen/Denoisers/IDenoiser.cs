using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Denoisers;

/// <summary>
/// The common currency of MemGen: anything that maps a batch of noisy images to denoised images.
/// Trained networks and closed-form denoisers implement it, so every sampler and measurement works on both.
/// </summary>
public interface IDenoiser
{
    /// <summary>A short human-readable name ("bfcnn", "empirical-optimal", "wiener", ...).</summary>
    string Name { get; }

    /// <summary>True when the denoiser ignores the noise level (blind networks).</summary>
    bool IsBlind { get; }

    /// <summary>
    /// The engine the denoiser computes on. Callers that keep images between calls (samplers) allocate them in its
    /// memory, so a network on a GPU never sees its inputs leave the device; closed-form denoisers work on the host.
    /// </summary>
    ComputeBackend Backend => ComputeBackend.Host;

    /// <summary>
    /// Denoises <paramref name="noisy"/> (N,C,H,W) into <paramref name="denoised"/> (same shape), both in host memory
    /// or both in <see cref="Backend"/>'s memory.
    /// <paramref name="sigmas"/> holds one noise standard deviation per image; blind denoisers ignore it.
    /// </summary>
    void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas);
}
