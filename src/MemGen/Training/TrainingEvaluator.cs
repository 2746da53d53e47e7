using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Nn;

namespace MemGen.Training;

/// <summary>
/// The training loop's periodic PSNR evaluation: the network's denoiser f(y) = y − r(y) (evaluation mode; a noise-conditioned
/// network is told each row's σ through <see cref="NetworkDenoiser"/>) on a fixed set
/// of images at fixed noise levels, measured by <see cref="DenoisingPsnr"/> with its own noise seed, so evaluations at
/// different steps (and after a resume) see the same noisy images. (σ, image) pairs run in batches of the training batch
/// size, so the network reuses its training-shaped buffers.
/// </summary>
public sealed class TrainingEvaluator
{
    private const long EvaluationSeedMask = 0x6576616C00000000L; // "eval": evaluation noise never repeats training noise

    private readonly ImageSet _images;
    private readonly int _maxImages, _batchSize;
    private readonly long _seed;
    private NetworkDenoiser? _denoiser;

    /// <summary>Prepares the evaluation on the first <paramref name="maxImages"/> images of <paramref name="images"/>.</summary>
    public TrainingEvaluator(ImageSet images, int maxImages, IReadOnlyList<double> sigmas, int batchSize, long seed)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(sigmas);
        _images = images;
        _maxImages = maxImages;
        _batchSize = batchSize;
        _seed = seed ^ EvaluationSeedMask;
        Sigmas = [.. sigmas];
    }

    /// <summary>The noise levels, in order.</summary>
    public IReadOnlyList<double> Sigmas { get; }

    /// <summary>Mean PSNR (dB) of the network's denoiser at each σ.</summary>
    public double[] Psnr(DenoisingNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        if (_denoiser?.Network != network) _denoiser = new NetworkDenoiser(network, _batchSize);
        return DenoisingPsnr.Measure(_denoiser, _images, Sigmas, _maxImages, _seed, _batchSize).Psnr;
    }
}
