using System.Numerics.Tensors;
using MemGen.Compute;

namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// Closed-form Gaussian integrals behind E_TG and E_OG (docs/science.md §7.4), in log space and float64 (a
/// single-precision ∫p_S², as the reference code computes it, is offered to show rounding, §7.9). A smoothed set is
/// p_S(x) = (1/N)·Σ_k N(x; x_k, ε²I); the generated law is a <see cref="SpectralGaussian"/> N(μ, Σ).
/// Both use ∫N(x; a, A)·N(x; b, B) dx = N(a; b, A + B).
/// </summary>
public static class KernelDensityOverlaps
{
    private const int Block = 512;

    /// <summary>The kernel width ε_N = s·N^(−1/d) of a set of N points in d dimensions.</summary>
    public static double KernelWidth(double std, int count, int dimension) => std * Math.Pow(count, -1.0 / dimension);

    /// <summary>
    /// log ∫p_S² = −2·log N − (d/2)·log(4π ε²) + log Σ_{k,l} exp(−‖x_k − x_l‖²/(4ε²)), over all N² ordered
    /// pairs (the diagonal contributes N). <paramref name="points"/> is row-major N×d.
    /// </summary>
    public static double LogSelfOverlap(ReadOnlySpan<double> points, int count, int dimension, double epsilon)
    {
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon));
        var (offDiagonal, _) = PairSums(points, count, dimension, -1.0 / (4 * epsilon * epsilon), 0f, single: false);
        int n = count, d = dimension;
        double total = n + offDiagonal;
        return -2 * Math.Log(n) - 0.5 * d * Math.Log(4 * Math.PI * epsilon * epsilon) + Math.Log(total);
    }

    /// <summary>
    /// ∫p_S² of the set smoothed with its kernel width ε_N = s·N^(−1/d), in units of ∫p² of N(·, s²I), i.e.
    /// (s²/ε_N²)^(d/2)·(1/N²)·Σ_{k,l} exp(−‖x_k − x_l‖²/(4ε_N²)). <see cref="KernelSumPrecision.Float64"/> evaluates
    /// it in log space; <see cref="KernelSumPrecision.Float32"/> as the [H24] reference code does on the GPU: ε_N, the
    /// exponentials, their running sum over all N² ordered pairs (diagonal included) and the normalization in single
    /// precision (docs/science.md §7.9). The result is O(1): exactly 1 from the diagonal plus the off-diagonal pairs.
    /// </summary>
    public static double SelfOverlap(ReadOnlySpan<double> points, int count, int dimension, double std, KernelSumPrecision precision)
    {
        if (!(std > 0)) throw new ArgumentOutOfRangeException(nameof(std));
        int n = count, d = dimension;
        if (precision == KernelSumPrecision.Float64)
        {
            double unit = -0.5 * d * Math.Log(4 * Math.PI * std * std);
            return Math.Exp(LogSelfOverlap(points, n, d, KernelWidth(std, n, d)) - unit);
        }
        float s = (float)std;
        float eps = s * MathF.Pow(n, -1f / d);
        var (_, total) = PairSums(points, n, d, 0, -1f / (4f * eps * eps), single: true);
        float normalization = MathF.Pow(s * s / (eps * eps), d / 2f) / ((float)n * n);
        return total * normalization;
    }

    // Σ over ordered pairs k ≠ l of exp(scale·‖x_k − x_l‖²) in double (single = false), or Σ over all N² ordered pairs,
    // diagonal included, with float32 exponentials and a float32 running sum of float32 block sums (single = true).
    private static (double OffDiagonal, float Total) PairSums(ReadOnlySpan<double> points, int count, int dimension, double scale, float singleScale, bool single)
    {
        int n = count, d = dimension;
        if (n < 1 || points.Length != n * d) throw new ArgumentException("points must be count×dimension with count ≥ 1.");

        // Centre the set (distances are unchanged, the Gram-matrix cancellation is smaller).
        var mean = LinearDenoiser.ColumnMeans(points, n, d);
        var x = new double[n * d];
        var norms = new double[n];
        for (int k = 0; k < n; k++)
        {
            double s = 0;
            for (int c = 0; c < d; c++)
            {
                double v = points[k * d + c] - mean[c];
                x[k * d + c] = v;
                s += v * v;
            }
            norms[k] = s;
        }

        double offDiagonal = 0; // Σ over ordered pairs k ≠ l
        float total = 0;
        var gram = new double[Block * Block];
        for (int i0 = 0; i0 < n; i0 += Block)
        {
            int bi = Math.Min(Block, n - i0);
            for (int j0 = i0; j0 < n; j0 += Block)
            {
                int bj = Math.Min(Block, n - j0);
                var g = gram.AsSpan(0, bi * bj);
                ComputeBackend.Host.LinearAlgebra.Dgemm(false, true, bi, bj, d, 1.0, x.AsSpan(i0 * d, bi * d), x.AsSpan(j0 * d, bj * d), 0.0, g);
                if (single)
                {
                    float blockSum = 0;
                    for (int a = 0; a < bi; a++)
                    {
                        var row = g.Slice(a * bj, bj);
                        double na = norms[i0 + a];
                        for (int b = 0; b < bj; b++)
                        {
                            double squared = i0 == j0 && a == b ? 0 : Math.Max(0, na + norms[j0 + b] - 2 * row[b]);
                            blockSum += MathF.Exp((float)squared * singleScale);
                        }
                    }
                    // A block above the diagonal stands for itself and its mirror image.
                    total += blockSum;
                    if (i0 != j0) total += blockSum;
                    continue;
                }
                for (int a = 0; a < bi; a++)
                {
                    var row = g.Slice(a * bj, bj);
                    double na = norms[i0 + a];
                    for (int b = 0; b < bj; b++)
                        row[b] = Math.Max(0, na + norms[j0 + b] - 2 * row[b]) * scale;
                    if (i0 == j0) row[a] = double.NegativeInfinity; // the diagonal is added exactly by the caller
                }
                TensorPrimitives.Exp(g, g);
                double sum = 0; // a plain loop: TensorPrimitives.Sum's order depends on the buffer's alignment
                foreach (var v in g) sum += v;
                if (i0 == j0)
                {
                    // A diagonal block holds each unordered pair twice already.
                    offDiagonal += sum;
                }
                else
                {
                    offDiagonal += 2 * sum;
                }
            }
        }
        return (offDiagonal, total);
    }

    /// <summary>
    /// log ∫p_G·p_S = log((1/N)·Σ_k N(x_k; μ, Σ + ε²I)), with the Mahalanobis terms and log det taken in
    /// Σ's eigenbasis. Finite also for singular Σ. <paramref name="points"/> is row-major N×d.
    /// </summary>
    public static double LogCrossOverlap(SpectralGaussian generated, ReadOnlySpan<double> points, int count, double epsilon)
    {
        ArgumentNullException.ThrowIfNull(generated);
        int n = count, d = generated.Dimension;
        if (n < 1 || points.Length != n * d) throw new ArgumentException("points must be count×dimension with count ≥ 1.");
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon));
        double e2 = epsilon * epsilon;
        var inv = new double[d];
        double logDet = 0;
        for (int i = 0; i < d; i++)
        {
            double v = generated.Eigenvalues[i] + e2;
            inv[i] = 1.0 / v;
            logDet += Math.Log(v);
        }
        double logNorm = -0.5 * d * Math.Log(2 * Math.PI) - 0.5 * logDet;

        var logTerms = new double[n];
        var centred = new double[Math.Min(Block, n) * d];
        var z = new double[Math.Min(Block, n) * d];
        for (int k0 = 0; k0 < n; k0 += Block)
        {
            int bk = Math.Min(Block, n - k0);
            for (int k = 0; k < bk; k++)
                for (int c = 0; c < d; c++) centred[k * d + c] = points[(k0 + k) * d + c] - generated.Mean[c];
            ComputeBackend.Host.LinearAlgebra.Dgemm(false, false, bk, d, d, 1.0, centred.AsSpan(0, bk * d), generated.Eigenvectors, 0.0, z.AsSpan(0, bk * d));
            for (int k = 0; k < bk; k++)
            {
                double q = 0;
                for (int c = 0; c < d; c++)
                {
                    double v = z[k * d + c];
                    q += v * v * inv[c];
                }
                logTerms[k0 + k] = logNorm - 0.5 * q;
            }
        }
        return LogSumExp(logTerms) - Math.Log(n);
    }

    /// <summary>log Σ exp(v_i), stable.</summary>
    public static double LogSumExp(ReadOnlySpan<double> values)
    {
        double max = double.NegativeInfinity;
        foreach (var v in values) max = Math.Max(max, v);
        if (double.IsNegativeInfinity(max)) return max;
        double s = 0;
        foreach (var v in values) s += Math.Exp(v - max);
        return max + Math.Log(s);
    }
}
