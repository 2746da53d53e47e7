using MemGen.Compute;

namespace MemGen.Images;

/// <summary>Pixel statistics of image sets and of pairs of images (pure functions).</summary>
public static class ImageStatistics
{
    /// <summary>The mean image of <paramref name="images"/> (d values; accumulated in double).</summary>
    public static float[] MeanImage(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.Count == 0) throw new ArgumentException("The mean image of an empty set is undefined.", nameof(images));
        int d = images.ImageSize;
        var sum = new double[d];
        for (int i = 0; i < images.Count; i++)
        {
            var x = images.Image(i);
            for (int j = 0; j < d; j++) sum[j] += x[j];
        }
        var mean = new float[d];
        for (int j = 0; j < d; j++) mean[j] = (float)(sum[j] / images.Count);
        return mean;
    }

    /// <summary>
    /// The (unbiased, N−1) covariance of <paramref name="images"/> (d×d row-major, double) and their mean image.
    /// Memory and time grow as d² and N·d² (fine for 28×28; 80×80 needs ~330 MB); the rows are streamed in blocks.
    /// </summary>
    public static double[] Covariance(ImageSet images, out float[] mean)
    {
        ArgumentNullException.ThrowIfNull(images);
        int n = images.Count, d = images.ImageSize;
        mean = MeanImage(images);
        // Σ = XcᵀXc/(n−1), accumulated over blocks of rows so memory stays at BlockRows×d doubles.
        const int BlockRows = 2048;
        var centred = new double[Math.Min(n, BlockRows) * d];
        var covariance = new double[d * d];
        for (int first = 0; first < n; first += BlockRows)
        {
            int m = Math.Min(BlockRows, n - first);
            for (int i = 0; i < m; i++)
            {
                var x = images.Image(first + i);
                for (int j = 0; j < d; j++) centred[i * d + j] = x[j] - (double)mean[j];
            }
            ComputeBackend.Host.LinearAlgebra.Dgemm(true, false, d, d, m, 1.0 / Math.Max(1, n - 1), centred.AsSpan(0, m * d), centred.AsSpan(0, m * d), 1.0, covariance);
        }
        return covariance;
    }

    /// <summary>Mean squared difference of two images (accumulated in double).</summary>
    public static double MeanSquaredError(ReadOnlySpan<float> a, ReadOnlySpan<float> b) => SquaredDistance(a, b) / a.Length;

    /// <summary>Squared Euclidean distance of two images (accumulated in double).</summary>
    public static double SquaredDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Images differ in size ({a.Length} vs {b.Length}).");
        double acc = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double e = a[i] - (double)b[i];
            acc += e * e;
        }
        return acc;
    }

    /// <summary>PSNR = 10·log10(1/MSE) of an estimate against a clean image in [0,1] (docs/science.md notation).</summary>
    public static double Psnr(ReadOnlySpan<float> estimate, ReadOnlySpan<float> clean) =>
        -10.0 * Math.Log10(MeanSquaredError(estimate, clean));

    /// <summary>Input PSNR of Gaussian noise of standard deviation <paramref name="sigma"/>: −20·log10 σ.</summary>
    public static double InputPsnr(double sigma) => -20.0 * Math.Log10(sigma);

    /// <summary>
    /// Cosine similarity of two images; with <paramref name="removeMean"/> each image's own mean is subtracted
    /// first (normalized correlation). 0 when either vector is zero.
    /// </summary>
    public static double CosineSimilarity(ReadOnlySpan<float> a, ReadOnlySpan<float> b, bool removeMean = false)
    {
        if (a.Length != b.Length) throw new ArgumentException($"Images differ in size ({a.Length} vs {b.Length}).");
        double ma = 0, mb = 0;
        if (removeMean)
        {
            for (int i = 0; i < a.Length; i++) { ma += a[i]; mb += b[i]; }
            ma /= a.Length;
            mb /= b.Length;
        }
        double ab = 0, aa = 0, bb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            double x = a[i] - ma, y = b[i] - mb;
            ab += x * y;
            aa += x * x;
            bb += y * y;
        }
        return aa > 0 && bb > 0 ? ab / Math.Sqrt(aa * bb) : 0.0;
    }

    /// <summary>Euclidean distance of two images (accumulated in double).</summary>
    public static double L2Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b) =>
        Math.Sqrt(SquaredDistance(a, b));

    /// <summary>Median of <paramref name="values"/> (NaN when empty).</summary>
    public static double Median(IReadOnlyList<double> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) return double.NaN;
        var sorted = values.ToArray();
        Array.Sort(sorted);
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : 0.5 * (sorted[mid - 1] + sorted[mid]);
    }
}
