namespace MemGen.Analysis;

/// <summary>
/// Closed-form small-σ reference lines of docs/science.md §4.3 and §4.4: an oracle that knows data lie on a k-dimensional manifold keeps
/// only the noise along its tangent space, MSE ≈ k·σ²/d per pixel, so PSNR_out = PSNR_in + 10·log10(d/k)
/// (disks: k = 5; one image with rescalings, a ray: k = 1, see <see cref="Denoisers.RayDenoiser"/>).
/// </summary>
public static class ManifoldOracle
{
    /// <summary>Manifold dimension of the disks dataset (centre x, y, radius, foreground, background).</summary>
    public const int DiskDimension = 5;

    /// <summary>PSNR_out of the oracle for a k-dimensional manifold in d pixels at input PSNR <paramref name="inputPsnr"/>.</summary>
    public static double Psnr(double inputPsnr, int pixels, int manifoldDimension)
    {
        if (pixels <= 0) throw new ArgumentOutOfRangeException(nameof(pixels));
        if (manifoldDimension <= 0 || manifoldDimension > pixels) throw new ArgumentOutOfRangeException(nameof(manifoldDimension));
        return inputPsnr + 10.0 * Math.Log10((double)pixels / manifoldDimension);
    }

    /// <summary>The optimal asymptotic slope of PSNR_out vs PSNR_in for Cα images: α/(α+1) dB per dB.</summary>
    public static double CAlphaOptimalSlope(double alpha)
    {
        if (!(alpha > 0)) throw new ArgumentOutOfRangeException(nameof(alpha));
        return alpha / (alpha + 1);
    }
}
