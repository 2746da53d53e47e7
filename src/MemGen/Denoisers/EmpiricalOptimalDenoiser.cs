using MemGen.Data;
using MemGen.Images;
using MemGen.Compute;
using MemGen.Machine;
using MemGen.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace MemGen.Denoisers;

/// <summary>
/// The empirical optimal denoiser of a training set (docs/science.md §4.1): the minimizer of the training loss,
/// f*(y; σ) = Σ_i softmax_i(−‖y − x_i‖² / 2σ²) · x_i. It is a pure memorizer and needs σ.
/// </summary>
/// <remarks>
/// Computed exactly over all N training images in log-space with a streaming (online) log-sum-exp:
/// the training set is visited in blocks of rows; for a batch of noisy images Y the block logits come from one
/// matrix product Y·X_blockᵀ and the weighted sum of images from a second one W·X_block. The data are centred on
/// the training mean first (distances do not change) so the float32 products keep their precision.
/// Each noisy image's result depends only on that image, not on the rest of the batch, up to the summation
/// order the BLAS chooses for a given batch size (float32 rounding). Not thread-safe (scratch buffers are reused).
/// </remarks>
public sealed class EmpiricalOptimalDenoiser : IDenoiser
{
    private const float NegligibleWeight = 1e-20f; // ≪ float32 resolution (6e-8) even summed over 60k blocks' rows
    private readonly float[] _centred;     // N×d training images minus the training mean
    private readonly float[] _halfNorms;   // ‖x_i − mean‖² / 2
    private readonly float[] _mean;        // d
    private readonly int _count, _size, _blockRows, _batchRows;
    private float[] _y = [], _logits = [], _acc = [], _max = [], _inverseVariance = [];
    private double[] _sum = [];

    /// <summary>
    /// Creates the denoiser of <paramref name="training"/> (at least one image). <paramref name="blockRows"/> training
    /// images and <paramref name="batchRows"/> noisy images are processed per matrix product.
    /// </summary>
    public EmpiricalOptimalDenoiser(ImageSet training, int blockRows = 2048, int batchRows = 256)
    {
        ArgumentNullException.ThrowIfNull(training);
        if (training.Count == 0) throw new ArgumentException("The empirical optimal denoiser needs at least one training image.", nameof(training));
        if (blockRows <= 0) throw new ArgumentOutOfRangeException(nameof(blockRows));
        if (batchRows <= 0) throw new ArgumentOutOfRangeException(nameof(batchRows));
        MemoryBudget.Require(MemoryBudget.Sum(MemoryBudget.Product(training.Count, training.ImageSize, sizeof(float)),
                MemoryBudget.Product(Math.Min(blockRows, training.Count), batchRows, 2 * sizeof(float))),
            $"the empirical optimal denoiser of {training.Count} images of {training.Channels}×{training.Height}×{training.Width} (a centred copy)");
        Training = training;
        _count = training.Count;
        _size = training.ImageSize;
        _blockRows = Math.Min(blockRows, _count);
        _batchRows = batchRows;
        _mean = ImageStatistics.MeanImage(training);
        _centred = new float[training.Pixels.Length];
        _halfNorms = new float[_count];
        for (int i = 0; i < _count; i++)
        {
            var row = _centred.AsSpan(i * _size, _size);
            TensorPrimitives.Subtract(training.Image(i), _mean, row);
            _halfNorms[i] = 0.5f * TensorPrimitives.Dot<float>(row, row);
        }
    }

    /// <summary>The training set the denoiser memorizes.</summary>
    public ImageSet Training { get; }

    /// <inheritdoc />
    public string Name => "empirical-optimal";

    /// <inheritdoc />
    public bool IsBlind => false;

    /// <inheritdoc />
    public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        ArgumentNullException.ThrowIfNull(denoised);
        noisy.RequireSameShape(denoised, "EmpiricalOptimalDenoiser.Denoise");
        if (noisy.ItemLength != _size)
            throw new ArgumentException($"Images have {noisy.ItemLength} pixels, the training set {_size}.");
        int n = noisy.Shape[0];
        if (sigmas.Length != n) throw new ArgumentException($"Expected {n} noise levels, got {sigmas.Length}.");
        for (int i = 0; i < n; i++)
            if (!(sigmas[i] > 0) || !float.IsFinite(sigmas[i]))
                throw new ArgumentException($"Noise level {sigmas[i]} of image {i} must be positive and finite.");

        int rows = Math.Min(_batchRows, n);
        if (_y.Length < rows * _size)
        {
            // Scratch buffers live as long as the denoiser: first touch of fresh pages is slow (ENGINE_NOTES).
            _y = new float[rows * _size];
            _logits = new float[rows * _blockRows];
            _acc = new float[rows * _size];
            _max = new float[rows];
            _sum = new double[rows];
            _inverseVariance = new float[rows];
        }
        var (y, logits, acc, max, sum, inverseVariance) = (_y, _logits, _acc, _max, _sum, _inverseVariance);
        for (int start = 0; start < n; start += rows)
        {
            int b = Math.Min(rows, n - start);
            for (int r = 0; r < b; r++)
            {
                TensorPrimitives.Subtract(noisy.Item(start + r), _mean, y.AsSpan(r * _size, _size));
                inverseVariance[r] = 1f / (sigmas[start + r] * sigmas[start + r]);
            }
            DenoiseRows(y, b, inverseVariance, logits, acc, max, sum);
            for (int r = 0; r < b; r++)
            {
                var outRow = denoised.Item(start + r);
                TensorPrimitives.Multiply(acc.AsSpan(r * _size, _size), (float)(1.0 / sum[r]), outRow);
                TensorPrimitives.Add(outRow, _mean, outRow);
            }
        }
    }

    /// <summary>
    /// Streaming softmax over all training blocks for <paramref name="b"/> centred noisy rows: on return
    /// <paramref name="acc"/> holds Σ_i w_i·x_i and <paramref name="sum"/> Σ_i w_i (weights relative to the running max).
    /// </summary>
    private void DenoiseRows(float[] y, int b, float[] inverseVariance, float[] logits, float[] acc, float[] max, double[] sum)
    {
        Array.Clear(acc, 0, b * _size);
        Array.Fill(max, float.NegativeInfinity);
        Array.Clear(sum);
        for (int first = 0; first < _count; first += _blockRows)
        {
            int m = Math.Min(_blockRows, _count - first);
            var block = _centred.AsSpan(first * _size, m * _size);
            var l = logits.AsSpan(0, b * m);
            // logit_ri = (y_r·x_i − ‖x_i‖²/2) / σ_r²  (the −‖y_r‖²/2σ² term is common to a row and cancels)
            ComputeBackend.Host.LinearAlgebra.Sgemm(false, true, b, m, _size, 1f, y.AsSpan(0, b * _size), block, 0f, l);
            var halfNorms = _halfNorms.AsSpan(first, m);
            bool negligible = true;
            for (int r = 0; r < b; r++)
            {
                var row = l.Slice(r * m, m);
                TensorPrimitives.Subtract(row, halfNorms, row);
                TensorPrimitives.Multiply(row, inverseVariance[r], row);
                float blockMax = TensorPrimitives.Max(row);
                float newMax = Math.Max(max[r], blockMax);
                if (newMax > max[r])
                {
                    if (float.IsFinite(max[r]))
                    {
                        float scale = MathF.Exp(max[r] - newMax);
                        TensorPrimitives.Multiply(acc.AsSpan(r * _size, _size), scale, acc.AsSpan(r * _size, _size));
                        sum[r] *= scale;
                    }
                    max[r] = newMax;
                }
                TensorPrimitives.Subtract(row, newMax, row);
                TensorPrimitives.Exp(row, row);
                float rowSum = TensorPrimitives.Sum<float>(row);
                sum[r] += rowSum;
                negligible &= rowSum < NegligibleWeight;
            }
            // acc += W·X_block, unless no row gives this block a weight that could change a float32 result
            // (weights are relative to a running max that only grows, so they only shrink later).
            if (!negligible) ComputeBackend.Host.LinearAlgebra.Sgemm(false, false, b, _size, m, 1f, l, block, 1f, acc.AsSpan(0, b * _size));
        }
    }
}
