using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Denoisers;

/// <summary>
/// The one measurement of how well a denoiser denoises (docs/science.md §5.1): for each noise level σ_k and image x_i,
/// y = x_i + σ_k·z with z from the stream (seed, k·2³² + i) — the same noise for every denoiser and every call — and the
/// per-image PSNR = 10·log10(1/MSE(f(y), x_i)), averaged over images. Exact recoveries count as <see cref="MaxPsnr"/>.
/// (σ, image) pairs are packed into batches of one fixed size (the tail padded with blank rows), so a network meets a
/// single batch shape and reuses its buffers (the training loop's evaluations run at the training batch size).
/// Used by the denoising curves (<c>Analysis.DenoisingCurve</c>) and the training loop's periodic evaluations.
/// </summary>
public static class DenoisingPsnr
{
    /// <summary>The per-image PSNR of an exact recovery: 160 dB (MSE 1e-16, below float32 resolution of [0,1] pixels).</summary>
    public const double MaxPsnr = 160.0;

    private const double MseFloor = 1e-16;

    /// <summary>
    /// Per level: the mean and the standard error (sd over images / √n) of the output PSNR of <paramref name="denoiser"/> on
    /// the first <paramref name="maxImages"/> images. <paramref name="levelDone"/> receives the number of levels finished.
    /// </summary>
    public static (double[] Psnr, double[] StandardError, int Images) Measure(IDenoiser denoiser, ImageSet images, IReadOnlyList<double> sigmas,
        int maxImages, long seed, int batchSize, Action<int>? levelDone = null)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(sigmas);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        int n = Math.Min(maxImages, images.Count), levels = sigmas.Count;
        if (n <= 0) throw new ArgumentException("Denoising PSNR: the image set is empty.");
        int pairs = levels * n, batch = Math.Min(batchSize, pairs);
        var psnr = new double[levels, n];
        var noisy = new Tensor(batch, images.Channels, images.Height, images.Width);
        var denoised = noisy.ZerosLike();
        var rowSigmas = new float[batch];
        int finishedLevels = 0;
        for (int start = 0; start < pairs; start += batch)
        {
            int b = Math.Min(batch, pairs - start);
            for (int p = 0; p < batch; p++)
            {
                var row = noisy.Item(p);
                if (p >= b)
                {
                    row.Clear(); // blank padding row: any valid σ
                    rowSigmas[p] = 1f;
                    continue;
                }
                int k = (start + p) / n, i = (start + p) % n;
                float sigma = (float)sigmas[k];
                Noise(seed, k, i).FillNormal(row, 0f, sigma);
                var clean = images.Image(i);
                for (int j = 0; j < row.Length; j++) row[j] += clean[j];
                rowSigmas[p] = sigma;
            }
            denoiser.Denoise(noisy, denoised, rowSigmas);
            for (int p = 0; p < b; p++)
            {
                int k = (start + p) / n, i = (start + p) % n;
                psnr[k, i] = -10.0 * Math.Log10(Math.Max(MseFloor, ImageStatistics.MeanSquaredError(denoised.Item(p), images.Image(i))));
            }
            int done = (start + b) / n;
            while (finishedLevels < done)
            {
                finishedLevels++; // not inside the call: ?. would skip the increment when nobody listens
                levelDone?.Invoke(finishedLevels);
            }
        }
        var mean = new double[levels];
        var stdErr = new double[levels];
        for (int k = 0; k < levels; k++)
        {
            double m = 0;
            for (int i = 0; i < n; i++) m += psnr[k, i];
            m /= n;
            double ss = 0;
            for (int i = 0; i < n; i++) ss += (psnr[k, i] - m) * (psnr[k, i] - m);
            mean[k] = m;
            stdErr[k] = n > 1 ? Math.Sqrt(ss / (n - 1) / n) : double.NaN;
        }
        return (mean, stdErr, n);
    }

    /// <summary>The noise stream of image <paramref name="image"/> at level <paramref name="level"/>.</summary>
    public static DeterministicRng Noise(long seed, int level, int image) => new(seed, ((long)level << 32) | (uint)image);
}
