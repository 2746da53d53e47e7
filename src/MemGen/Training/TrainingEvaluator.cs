using MemGen.Data;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Training;

/// <summary>
/// PSNR of a network's denoiser f(y) = y − r(y) (eval mode; a noise-conditioned network is told each σ) on a fixed set of images at fixed noise levels, with
/// noise drawn once from (seed, σ index, image), so evaluations at different steps (and after a resume) are
/// comparable. Images and σ are packed into batches of the training batch size, so evaluation reuses the
/// network's training-shaped buffers. PSNR = 10·log10(1/MSE) per image, averaged over images.
/// </summary>
public sealed class TrainingEvaluator
{
    private readonly double[] _sigmas;
    private readonly int _images, _d;
    private readonly float[] _clean;
    private readonly float[] _noisy;
    private readonly float[] _residual;
    private readonly Tensor _batch;
    private readonly float[] _batchSigmas;

    /// <summary>Prepares the evaluation on the first <paramref name="maxImages"/> images of <paramref name="images"/>.</summary>
    public TrainingEvaluator(ImageSet images, int maxImages, IReadOnlyList<double> sigmas, int batchSize, long seed)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(sigmas);
        _sigmas = [.. sigmas];
        _images = Math.Min(maxImages, images.Count);
        _d = images.ImageSize;
        _clean = images.Pixels.AsSpan(0, _images * _d).ToArray();
        _noisy = new float[_sigmas.Length * _images * _d];
        long evalSeed = seed ^ 0x6576616C00000000L; // "eval"
        for (int j = 0; j < _sigmas.Length; j++)
            for (int i = 0; i < _images; i++)
            {
                var target = _noisy.AsSpan((j * _images + i) * _d, _d);
                new DeterministicRng(evalSeed, ((long)j << 32) + i).FillNormal(target, 0f, (float)_sigmas[j]);
                var x = _clean.AsSpan(i * _d, _d);
                for (int k = 0; k < _d; k++) target[k] += x[k];
            }
        _batch = new Tensor(batchSize, images.Channels, images.Height, images.Width);
        _batchSigmas = new float[batchSize];
        _residual = new float[_batch.Length];
    }

    /// <summary>The noise levels, in order.</summary>
    public IReadOnlyList<double> Sigmas => _sigmas;

    /// <summary>Mean PSNR (dB) of the network's denoiser at each σ.</summary>
    public double[] Psnr(DenoisingNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        int pairs = _sigmas.Length * _images, b = _batch.N;
        var psnr = new double[_sigmas.Length];
        for (int start = 0; start < pairs; start += b)
        {
            int count = Math.Min(b, pairs - start);
            _noisy.AsSpan(start * _d, count * _d).CopyTo(_batch.Data);
            _batch.Data.AsSpan(count * _d).Clear();
            for (int p = 0; p < b; p++) _batchSigmas[p] = p < count ? (float)_sigmas[(start + p) / _images] : 1f;
            network.Forward(_batch, _batchSigmas, training: false).CopyTo(0, _residual.AsSpan(0, count * _d)); // to the host
            for (int p = 0; p < count; p++)
            {
                int pair = start + p, j = pair / _images, i = pair % _images;
                var y = _noisy.AsSpan(pair * _d, _d);
                var r = _residual.AsSpan(p * _d, _d);
                var x = _clean.AsSpan(i * _d, _d);
                double sum = 0;
                for (int k = 0; k < _d; k++)
                {
                    double e = (double)x[k] - (y[k] - r[k]);
                    sum += e * e;
                }
                psnr[j] += 10 * Math.Log10(_d / sum) / _images;
            }
        }
        return psnr;
    }
}
