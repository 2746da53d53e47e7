using MemGen.Images;

namespace MemGen.Analysis.AdaptiveBasis;

/// <summary>
/// Stein's unbiased risk estimate ([K24] eq. 7): for y = x + σz, z ~ N(0, I) and a (weakly) differentiable denoiser f,
/// E‖f(y) − x‖² = E[‖y − f(y)‖² − dσ² + 2σ²·tr J(y)], with no knowledge of x. Per draw it is noisy; averaged over
/// draws it matches the true error ‖f(y) − x‖², which checks that the measured tr J is the right one.
/// </summary>
public static class SteinRiskEstimate
{
    /// <summary>‖y − f(y)‖² − dσ² + 2σ²·tr J for one draw.</summary>
    public static double Of(ReadOnlySpan<float> noisy, ReadOnlySpan<float> denoised, double sigma, double trace)
    {
        double s2 = sigma * sigma;
        return ImageStatistics.SquaredDistance(noisy, denoised) - noisy.Length * s2 + 2 * s2 * trace;
    }
}
