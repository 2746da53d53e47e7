using MemGen.Analysis.LinearGaussian;

namespace MemGen.Tests.Analysis.LinearGaussian;

/// <summary>Naive density evaluations and quadrature, independent of the code under test.</summary>
internal static class Densities
{
    /// <summary>Density of N(mean, cov) at x for a full-rank covariance (explicit inverse by Gauss–Jordan).</summary>
    public static double Gaussian(double[] x, double[] mean, double[,] cov)
    {
        int d = x.Length;
        var inv = Invert(cov, out double det);
        double q = 0;
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) q += (x[i] - mean[i]) * inv[i, j] * (x[j] - mean[j]);
        return Math.Exp(-0.5 * q) / Math.Sqrt(Math.Pow(2 * Math.PI, d) * det);
    }

    /// <summary>p_S(x) = (1/N)·Σ_k N(x; x_k, ε²I).</summary>
    public static double Smoothed(double[] x, double[] points, int count, double eps)
    {
        int d = x.Length;
        double s = 0;
        for (int k = 0; k < count; k++)
        {
            double r2 = 0;
            for (int c = 0; c < d; c++) r2 += Math.Pow(x[c] - points[k * d + c], 2);
            s += Math.Exp(-r2 / (2 * eps * eps));
        }
        return s / count / Math.Pow(2 * Math.PI * eps * eps, d / 2.0);
    }

    /// <summary>Covariance U·diag(λ)·Uᵀ of a spectral Gaussian as a 2-D array.</summary>
    public static double[,] Covariance(SpectralGaussian g)
    {
        int d = g.Dimension;
        var c = new double[d, d];
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++)
                for (int k = 0; k < d; k++) c[i, j] += g.Eigenvectors[i * d + k] * g.Eigenvalues[k] * g.Eigenvectors[j * d + k];
        return c;
    }

    /// <summary>Trapezoid-free midpoint sum of f over the cube [lo, hi]^d with `steps` points per axis (d = 1 or 2).</summary>
    public static double Integrate(int d, double lo, double hi, int steps, Func<double[], double> f)
    {
        double h = (hi - lo) / steps, sum = 0;
        if (d == 1)
        {
            for (int i = 0; i < steps; i++) sum += f([lo + (i + 0.5) * h]);
            return sum * h;
        }
        if (d == 2)
        {
            for (int i = 0; i < steps; i++)
                for (int j = 0; j < steps; j++) sum += f([lo + (i + 0.5) * h, lo + (j + 0.5) * h]);
            return sum * h * h;
        }
        throw new ArgumentOutOfRangeException(nameof(d));
    }

    private static double[,] Invert(double[,] a, out double det)
    {
        int n = a.GetLength(0);
        var m = (double[,])a.Clone();
        var inv = new double[n, n];
        for (int i = 0; i < n; i++) inv[i, i] = 1;
        det = 1;
        for (int c = 0; c < n; c++)
        {
            int p = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[p, c])) p = r;
            if (p != c)
            {
                for (int k = 0; k < n; k++) { (m[c, k], m[p, k]) = (m[p, k], m[c, k]); (inv[c, k], inv[p, k]) = (inv[p, k], inv[c, k]); }
                det = -det;
            }
            double pivot = m[c, c];
            det *= pivot;
            for (int k = 0; k < n; k++) { m[c, k] /= pivot; inv[c, k] /= pivot; }
            for (int r = 0; r < n; r++)
            {
                if (r == c) continue;
                double f = m[r, c];
                for (int k = 0; k < n; k++) { m[r, k] -= f * m[c, k]; inv[r, k] -= f * inv[c, k]; }
            }
        }
        return inv;
    }
}
