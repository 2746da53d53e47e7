namespace MemGen.Analysis.AdaptiveBasis;

/// <summary>
/// The bias-free check f(y) = J(y)·y (docs/science.md §5): exact for a bias-free ReLU network (it is piecewise linear and
/// homogeneous), so its relative error measures float rounding; for other denoisers (Wiener with a mean, the empirical
/// optimal denoiser, manifold oracles off the origin) it is reported but not expected to be small.
/// </summary>
public static class HomogeneityCheck
{
    /// <summary>‖J·y − f(y)‖ / ‖f(y)‖ (the absolute error when f(y) = 0) for the row-major d×d <paramref name="jacobian"/>.</summary>
    public static double RelativeError(ReadOnlySpan<double> jacobian, ReadOnlySpan<float> point, ReadOnlySpan<float> denoised)
    {
        int d = point.Length;
        if (denoised.Length != d || jacobian.Length != (long)d * d)
            throw new ArgumentException($"Homogeneity check: y has {d} values, f(y) {denoised.Length}, J {jacobian.Length} (needs d×d).");
        double errorSq = 0, normSq = 0;
        for (int r = 0; r < d; r++)
        {
            double jy = 0;
            var row = jacobian.Slice(r * d, d);
            for (int c = 0; c < d; c++) jy += row[c] * point[c];
            errorSq += (jy - denoised[r]) * (jy - denoised[r]);
            normSq += (double)denoised[r] * denoised[r];
        }
        return normSq > 0 ? Math.Sqrt(errorSq / normSq) : Math.Sqrt(errorSq);
    }

    /// <summary><see cref="RelativeError(ReadOnlySpan{double}, ReadOnlySpan{float}, ReadOnlySpan{float})"/> of <paramref name="jacobian"/>.</summary>
    public static double RelativeError(JacobianAtPoint jacobian)
    {
        ArgumentNullException.ThrowIfNull(jacobian);
        return RelativeError(jacobian.Matrix, jacobian.Point, jacobian.Denoised);
    }
}
