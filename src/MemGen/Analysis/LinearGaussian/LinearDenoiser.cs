using MemGen.Compute;

namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// The linear one-step denoiser of docs/science.md §7.2: x0 ≈ β0 + B·x_T, fitted by least squares with intercept on the n
/// training pairs. When the fit is under-determined (n ≤ d) it is the minimum-norm solution (as
/// scikit-learn's LinearRegression: centre both sides, then B = X0cᵀ·pinv(XTc)ᵀ, β0 = mean(x0) − B·mean(x_T)).
/// </summary>
/// <param name="Dimension">d.</param>
/// <param name="Intercept">β0 (length d).</param>
/// <param name="Weights">B, row-major d×d.</param>
/// <param name="Rank">Numerical rank of the centred inputs XTc (= rank of B): min(n − 1, d) for generic data.</param>
public sealed record LinearDenoiser(int Dimension, double[] Intercept, double[] Weights, int Rank)
{
    /// <summary>Eigenvalues of XTc·XTcᵀ (or XTcᵀ·XTc) below this fraction of the largest count as zero.</summary>
    public const double RelativeRankTolerance = 1e-11;

    /// <summary>Applies the denoiser to one point: β0 + B·x.</summary>
    public double[] Apply(ReadOnlySpan<double> x)
    {
        int d = Dimension;
        if (x.Length != d) throw new ArgumentException($"Expected a point of dimension {d}, got {x.Length}.", nameof(x));
        var y = (double[])Intercept.Clone();
        for (int i = 0; i < d; i++)
        {
            double acc = 0;
            for (int j = 0; j < d; j++) acc += Weights[i * d + j] * x[j];
            y[i] += acc;
        }
        return y;
    }

    /// <summary>
    /// Fits x0 ≈ β0 + B·x_T on <paramref name="count"/> pairs (rows of <paramref name="x0"/> and
    /// <paramref name="xT"/>, row-major count×d). Needs count ≥ 2.
    /// </summary>
    public static LinearDenoiser Fit(ReadOnlySpan<double> x0, ReadOnlySpan<double> xT, int count, int dimension)
    {
        int n = count, d = dimension;
        if (n < 2) throw new ArgumentOutOfRangeException(nameof(count), "The fit needs at least 2 training points.");
        if (d < 1) throw new ArgumentOutOfRangeException(nameof(dimension));
        if (x0.Length != n * d || xT.Length != n * d) throw new ArgumentException("x0 and xT must both be count×dimension.");

        var mean0 = ColumnMeans(x0, n, d);
        var meanT = ColumnMeans(xT, n, d);
        var x0c = Centred(x0, mean0, n, d);
        var xTc = Centred(xT, meanT, n, d);

        // Q = pinv(XTc)ᵀ (n×d) through the eigendecomposition of the smaller Gram matrix.
        var q = new double[n * d];
        int rank;
        if (n <= d)
        {
            var gram = new double[n * n];
            ComputeBackend.Host.LinearAlgebra.Dgemm(false, true, n, n, d, 1.0, xTc, xTc, 0.0, gram);
            var w = PseudoInverseOfGram(gram, n, out rank);        // (XTc XTcᵀ)^+
            ComputeBackend.Host.LinearAlgebra.Dgemm(false, false, n, d, n, 1.0, w, xTc, 0.0, q);  // (XTc XTcᵀ)^+ XTc
        }
        else
        {
            var gram = new double[d * d];
            ComputeBackend.Host.LinearAlgebra.Dgemm(true, false, d, d, n, 1.0, xTc, xTc, 0.0, gram);
            var w = PseudoInverseOfGram(gram, d, out rank);        // (XTcᵀ XTc)^+
            ComputeBackend.Host.LinearAlgebra.Dgemm(false, false, n, d, d, 1.0, xTc, w, 0.0, q);  // XTc (XTcᵀ XTc)^+
        }

        var b = new double[d * d];
        ComputeBackend.Host.LinearAlgebra.Dgemm(true, false, d, d, n, 1.0, x0c, q, 0.0, b);      // B = X0cᵀ Q
        var beta0 = new double[d];
        for (int i = 0; i < d; i++)
        {
            double acc = 0;
            for (int j = 0; j < d; j++) acc += b[i * d + j] * meanT[j];
            beta0[i] = mean0[i] - acc;
        }
        return new LinearDenoiser(d, beta0, b, rank);
    }

    /// <summary>Per-column means of a row-major rows×cols matrix.</summary>
    internal static double[] ColumnMeans(ReadOnlySpan<double> x, int rows, int cols)
    {
        var mean = new double[cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) mean[c] += x[r * cols + c];
        for (int c = 0; c < cols; c++) mean[c] /= rows;
        return mean;
    }

    private static double[] Centred(ReadOnlySpan<double> x, double[] mean, int rows, int cols)
    {
        var y = new double[rows * cols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++) y[r * cols + c] = x[r * cols + c] - mean[c];
        return y;
    }

    // Moore–Penrose inverse of a symmetric PSD k×k matrix (overwritten), dropping relatively tiny eigenvalues.
    private static double[] PseudoInverseOfGram(double[] gram, int k, out int rank)
    {
        var g = new double[k];
        ComputeBackend.Host.LinearAlgebra.SymmetricEigen(gram, g, k);                    // gram ← eigenvectors (columns), g ascending
        double cut = Math.Max(g[k - 1], 0) * RelativeRankTolerance;
        var scaled = new double[k * k];
        rank = 0;
        for (int j = 0; j < k; j++)
        {
            if (!(g[j] > cut) || g[j] <= 0) continue;
            rank++;
            double inv = 1.0 / g[j];
            for (int i = 0; i < k; i++) scaled[i * k + j] = gram[i * k + j] * inv;
        }
        var w = new double[k * k];
        ComputeBackend.Host.LinearAlgebra.Dgemm(false, true, k, k, k, 1.0, scaled, gram, 0.0, w); // V diag(1/g) Vᵀ
        return w;
    }
}
