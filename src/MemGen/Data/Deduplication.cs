using MemGen.Images;
using MemGen.Compute;
using MemGen.Machine;

namespace MemGen.Data;

/// <summary>
/// De-duplication as in docs/science.md §2: average-pool each image to 20×20 (area averaging, per channel), remove the
/// image's mean, normalize, and drop any image whose correlation with an earlier image exceeds the threshold.
/// Correlations are computed in blocks with single-precision GEMM (OpenBLAS), so 200k images fit in memory
/// (N·C·400 floats of features plus one block of products).
/// </summary>
public static class Deduplication
{
    /// <summary>The paper's threshold: correlation above 0.95 is a duplicate.</summary>
    public const double DefaultThreshold = 0.95;

    /// <summary>Side of the pooled image the correlation is computed on.</summary>
    public const int PooledSize = 20;

    private const int DefaultRowBlock = 512, DefaultColumnBlock = 4096;

    /// <summary>
    /// The indices (ascending) of the images that are kept. By default an image is dropped when it correlates
    /// above <paramref name="threshold"/> with any earlier image (the literal rule of docs/science.md §2.5); with
    /// <paramref name="compareWithKeptOnly"/> only earlier images that were themselves kept count. An image with
    /// constant pooled pixels has no defined correlation and is never a duplicate.
    /// </summary>
    public static int[] Run(ImageSet images, double threshold = DefaultThreshold, bool compareWithKeptOnly = false, IProgress<double>? progress = null) =>
        Run(images, threshold, compareWithKeptOnly, progress, DefaultRowBlock, DefaultColumnBlock);

    /// <summary><see cref="Run(ImageSet, double, bool, IProgress{double}?)"/> with explicit block sizes (tests use small ones).</summary>
    internal static int[] Run(ImageSet images, double threshold, bool compareWithKeptOnly, IProgress<double>? progress, int rowBlock, int columnBlock)
    {
        ArgumentNullException.ThrowIfNull(images);
        int n = images.Count;
        MemoryBudget.Require(MemoryBudget.Sum(MemoryBudget.Product(n, images.Channels, Math.Min(PooledSize, images.Height), Math.Min(PooledSize, images.Width), sizeof(float)),
                MemoryBudget.Product(rowBlock, columnBlock, sizeof(float)), n),
            $"de-duplicating {n} images of {images.Channels}×{images.Height}×{images.Width}");
        var features = Features(images, out int d);
        var dropped = new bool[n];
        var block = new float[rowBlock * columnBlock];
        float t = (float)threshold;
        double totalWork = (double)n * n / 2, doneWork = 0;
        for (int i0 = 0; i0 < n; i0 += rowBlock)
        {
            int i1 = Math.Min(n, i0 + rowBlock), rows = i1 - i0;
            for (int j0 = 0; j0 < i1; j0 += columnBlock)
            {
                int j1 = Math.Min(i1, j0 + columnBlock), cols = j1 - j0;
                ComputeBackend.Host.LinearAlgebra.Sgemm(false, true, rows, cols, d, 1f,
                    features.AsSpan(i0 * d, rows * d), features.AsSpan(j0 * d, cols * d), 0f, block.AsSpan(0, rows * cols));
                for (int i = i0; i < i1; i++)
                {
                    if (dropped[i]) continue;
                    var row = block.AsSpan((i - i0) * cols, cols);
                    int jEnd = Math.Min(j1, i);
                    for (int j = j0; j < jEnd; j++)
                    {
                        if (row[j - j0] > t && !(compareWithKeptOnly && dropped[j]))
                        {
                            dropped[i] = true;
                            break;
                        }
                    }
                }
            }
            doneWork += (double)rows * i1 - (double)rows * rows / 2;
            progress?.Report(Math.Min(1, doneWork / totalWork));
        }
        var kept = new List<int>(n);
        for (int i = 0; i < n; i++) if (!dropped[i]) kept.Add(i);
        return kept.ToArray();
    }

    /// <summary>
    /// The unit-norm, mean-removed 20×20 pooled features (N rows of <paramref name="dimension"/> = C·400 values;
    /// smaller images are pooled to their own size). A constant image gives a zero row.
    /// </summary>
    public static float[] Features(ImageSet images, out int dimension)
    {
        ArgumentNullException.ThrowIfNull(images);
        var input = new ImageShape(images.Channels, images.Height, images.Width);
        var pool = new ResizeTransform(Math.Min(PooledSize, images.Height), Math.Min(PooledSize, images.Width), ResizeMode.Area);
        int d = pool.OutputShape(input).Size;
        dimension = d;
        var features = new float[(long)images.Count * d];
        Parallel.For(0, images.Count, i =>
        {
            var f = features.AsSpan(i * d, d);
            pool.Apply(images.Pixels.AsSpan(i * input.Size, input.Size), input, f);
            double mean = 0;
            foreach (float v in f) mean += v;
            mean /= d;
            double norm = 0;
            for (int k = 0; k < d; k++)
            {
                f[k] = (float)(f[k] - mean);
                norm += (double)f[k] * f[k];
            }
            // Relative cut-off: a pooled image whose variation is at float rounding level counts as constant.
            float scale = norm > 1e-12 * d ? (float)(1 / Math.Sqrt(norm)) : 0f;
            for (int k = 0; k < d; k++) f[k] *= scale;
        });
        return features;
    }
}
