using MemGen.Denoisers;

namespace MemGen.Sampling;

/// <summary>
/// A sampler: draws images from a denoiser used as a diffusion model (docs/science.md §3). Built from a
/// <see cref="SamplerSpec"/>; the noise of sample i depends only on (seed, i), so two models sampled with the same
/// seed see the same start and the same injected noise.
/// </summary>
public interface ISampler
{
    /// <summary>The spec the sampler was built from (canonical, every setting explicit).</summary>
    SamplerSpec Spec { get; }

    /// <summary>
    /// Draws the samples with global indices <paramref name="firstIndex"/> .. firstIndex + count − 1 of size
    /// (channels, height, width) from <paramref name="denoiser"/>; <paramref name="progress"/> receives the number of
    /// finished samples.
    /// </summary>
    SamplingResult Sample(IDenoiser denoiser, int count, int channels, int height, int width, long seed,
        int firstIndex = 0, IProgress<int>? progress = null);
}
