using MemGen.Data;
using MemGen.Tensors;

namespace MemGen.Denoisers;

/// <summary>
/// Oracle denoiser of the disks dataset (<see cref="Disks"/>): the nearest disk image to y, by optimisation over the
/// 5 parameters within the generator's ranges (radius in [3, (n−3)/2], centre in [r, n−r], intensities in [0, 1]).
/// Foreground and background enter linearly, so for a given geometry they are the box-constrained least-squares fit
/// (closed form); the geometry (centre, radius) is found by a grid search at 1-pixel spacing (the global basin) and then
/// a compass search whose step halves from ½ pixel to 1e-8 pixel — on exact-area images first (smooth), then, for a hard
/// or supersampled dataset, again on its own rendering (piecewise constant), for a hard edge after a search of a grid of
/// ±¼ pixel at 1/64-pixel spacing around the smooth optimum (the cells of equal energy can be thinner than a compass step
/// finds). Images are rendered as the dataset's
/// <paramref name="supersample"/> (hard edge, F×F, or <see cref="Disks.ExactArea"/>), so it is the oracle of that dataset.
/// </summary>
/// <remarks>
/// Why optimisation and not the empirical optimal denoiser of a dense sample of disks: that denoiser snaps to the nearest
/// sample, so its small-σ error is the sample spacing, not the manifold's kσ², unless the sample is dense at scale σ in
/// all 5 dimensions (~(1/σ)⁵ images). With exact areas the manifold is smooth and the oracle's small-σ error is 5σ²
/// (PSNR_out = PSNR_in + 10·log10(d/5)); with a hard edge the image is piecewise constant in the geometry, so at σ far
/// below the edge contrast only the two intensities can move and the error is 2σ².
/// </remarks>
/// <param name="size">Image side (≥ 9).</param>
/// <param name="supersample">The dataset's rendering (as <see cref="Disks.Generate"/>).</param>
public sealed class DiskManifoldDenoiser(int size, int supersample = Disks.ExactArea) : IDenoiser
{
    private const double FinalStep = 1e-8, MinRadius = 3, HardEdgeWindow = 0.25;

    /// <summary>The image side.</summary>
    public int Size { get; } = size >= 9 ? size : throw new ArgumentOutOfRangeException(nameof(size), "Disks need size ≥ 9.");

    /// <summary>The rendering of the dataset.</summary>
    public int Supersample { get; } = supersample >= 0 ? supersample : throw new ArgumentOutOfRangeException(nameof(supersample));

    /// <inheritdoc />
    public string Name => "disk-oracle";

    /// <inheritdoc />
    public bool IsBlind => true;

    /// <inheritdoc />
    public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        ArgumentNullException.ThrowIfNull(denoised);
        noisy.RequireSameShape(denoised, "DiskManifoldDenoiser.Denoise");
        int d = Size * Size;
        if (noisy.ItemLength != d) throw new ArgumentException($"Images have {noisy.ItemLength} pixels, the disks {d}.");
        int count = noisy.Shape[0];
        Parallel.For(0, count, () => new double[d], (n, _, coverage) =>
        {
            var p = Fit(noisy.Item(n), coverage);
            Coverage(p.CenterX, p.CenterY, p.Radius, Supersample, coverage);
            var output = denoised.Item(n);
            for (int i = 0; i < d; i++) output[i] = (float)(p.Background + (p.Foreground - p.Background) * coverage[i]);
            return coverage;
        }, _ => { });
    }

    /// <summary>The parameters of the disk image nearest to <paramref name="y"/>.</summary>
    public DiskParameters Fit(ReadOnlySpan<float> y) => Fit(y, new double[Size * Size]);

    private DiskParameters Fit(ReadOnlySpan<float> y, double[] coverage)
    {
        if (y.Length != Size * Size) throw new ArgumentException($"The image has {y.Length} pixels, the disks {Size * Size}.");
        // The global basin on a 1-pixel grid and a first descent, both with exact areas (smooth, so the descent does not
        // stall on the plateaus of a hard edge); then the descent on the dataset's own rendering.
        double[] best = [0, 0, 0];
        double bestEnergy = double.PositiveInfinity;
        foreach (double r in Radii())
            for (double cy = r; cy <= Size - r + 1e-9; cy++)
                for (double cx = r; cx <= Size - r + 1e-9; cx++)
                {
                    double e = Energy(y, cx, cy, r, Disks.ExactArea, coverage).Energy;
                    if (e < bestEnergy) (bestEnergy, best) = (e, [cx, cy, r]);
                }
        best = Descend(y, best, Disks.ExactArea, coverage);
        if (Supersample == 1) best = GridAround(y, best, coverage);
        if (Supersample != Disks.ExactArea) best = Descend(y, best, Supersample, coverage);
        var (_, foreground, background) = Energy(y, best[0], best[1], best[2], Supersample, coverage);
        return new DiskParameters(best[0], best[1], best[2], foreground, background);
    }

    private IEnumerable<double> Radii()
    {
        double max = (Size - 3) / 2.0;
        for (double r = MinRadius; r < max; r++) yield return r;
        yield return max;
    }

    /// <summary>Compass search on (cx, cy, r) within the generator's ranges, the step halving from ½ pixel to <see cref="FinalStep"/>.</summary>
    private double[] Descend(ReadOnlySpan<float> y, double[] start, int rendering, double[] coverage)
    {
        var best = start;
        double bestEnergy = Energy(y, best[0], best[1], best[2], rendering, coverage).Energy;
        for (double step = 0.5; step >= FinalStep; step /= 2)
        {
            bool moved = true;
            while (moved)
            {
                moved = false;
                for (int k = 0; k < 3; k++)
                    foreach (int sign in (ReadOnlySpan<int>)[1, -1])
                    {
                        var trial = (double[])best.Clone();
                        trial[k] += sign * step;
                        double e = Energy(y, trial, rendering, coverage);
                        if (e < bestEnergy)
                        {
                            (bestEnergy, best) = (e, trial);
                            moved = true;
                        }
                    }
            }
        }
        return best;
    }

    /// <summary>
    /// The best point of a grid of ±<see cref="HardEdgeWindow"/> pixels at 1/64-pixel spacing around <paramref name="centre"/>:
    /// a hard edge's energy is piecewise constant on cells of the geometry, some thinner than a compass step can find.
    /// </summary>
    private double[] GridAround(ReadOnlySpan<float> y, double[] centre, double[] coverage)
    {
        const int Half = (int)(HardEdgeWindow * 64);
        var best = centre;
        double bestEnergy = Energy(y, best, 1, coverage);
        for (int i = -Half; i <= Half; i++)
            for (int j = -Half; j <= Half; j++)
                for (int k = -Half; k <= Half; k++)
                {
                    double[] trial = [centre[0] + i / 64.0, centre[1] + j / 64.0, centre[2] + k / 64.0];
                    double e = Energy(y, trial, 1, coverage);
                    if (e < bestEnergy) (bestEnergy, best) = (e, trial);
                }
        return best;
    }

    /// <summary>The energy of geometry <paramref name="g"/> = (cx, cy, r), first clamped into the generator's ranges (in place).</summary>
    private double Energy(ReadOnlySpan<float> y, double[] g, int rendering, double[] coverage)
    {
        g[2] = Math.Clamp(g[2], MinRadius, (Size - 3) / 2.0);
        g[0] = Math.Clamp(g[0], g[2], Size - g[2]);
        g[1] = Math.Clamp(g[1], g[2], Size - g[2]);
        return Energy(y, g[0], g[1], g[2], rendering, coverage).Energy;
    }

    /// <summary>
    /// min over fg, bg ∈ [0, 1] of ‖y − bg − (fg − bg)·m‖² (up to the constant ‖y‖²) for the coverage m of the geometry.
    /// </summary>
    private (double Energy, double Foreground, double Background) Energy(ReadOnlySpan<float> y, double cx, double cy, double r, int rendering,
        double[] coverage)
    {
        Coverage(cx, cy, r, rendering, coverage);
        double smm = 0, smn = 0, snn = 0, smy = 0, sny = 0;
        for (int i = 0; i < coverage.Length; i++)
        {
            double m = coverage[i], n = 1 - m;
            smm += m * m;
            smn += m * n;
            snn += n * n;
            smy += m * y[i];
            sny += n * y[i];
        }
        double E(double f, double b) => f * f * smm + 2 * f * b * smn + b * b * snn - 2 * (f * smy + b * sny);
        double det = smm * snn - smn * smn;
        if (det > 1e-12 * smm * snn)
        {
            double f = (snn * smy - smn * sny) / det, b = (smm * sny - smn * smy) / det;
            if (f is >= 0 and <= 1 && b is >= 0 and <= 1) return (E(f, b), f, b);
        }
        // The box-constrained minimum lies on an edge of [0, 1]²: the best of the four clamped 1-D fits.
        (double Energy, double Foreground, double Background) best = (double.PositiveInfinity, 0, 0);
        foreach (double f in (ReadOnlySpan<double>)[0, 1])
        {
            double b = snn > 0 ? Math.Clamp((sny - f * smn) / snn, 0, 1) : 0;
            if (E(f, b) < best.Energy) best = (E(f, b), f, b);
        }
        foreach (double b in (ReadOnlySpan<double>)[0, 1])
        {
            double f = smm > 0 ? Math.Clamp((smy - b * smn) / smm, 0, 1) : 0;
            if (E(f, b) < best.Energy) best = (E(f, b), f, b);
        }
        return best;
    }

    /// <summary>The covered fraction of every pixel, in double (exact areas) or from the renderer of <paramref name="rendering"/>.</summary>
    private void Coverage(double cx, double cy, double r, int rendering, double[] coverage)
    {
        var p = new DiskParameters(cx, cy, r, 1, 0);
        if (rendering != Disks.ExactArea)
        {
            var rendered = new float[coverage.Length];
            Disks.Render(p, Size, rendering, rendered);
            for (int i = 0; i < coverage.Length; i++) coverage[i] = rendered[i];
            return;
        }
        double r2 = r * r;
        for (int y = 0; y < Size; y++)
        {
            double dyNear = Math.Max(0, Math.Max(y - cy, cy - (y + 1))), dyFar = Math.Max(Math.Abs(y - cy), Math.Abs(y + 1 - cy));
            for (int x = 0; x < Size; x++)
            {
                double dxNear = Math.Max(0, Math.Max(x - cx, cx - (x + 1))), dxFar = Math.Max(Math.Abs(x - cx), Math.Abs(x + 1 - cx));
                // Pixels wholly outside or inside need no integral.
                coverage[y * Size + x] = dxNear * dxNear + dyNear * dyNear >= r2 ? 0
                    : dxFar * dxFar + dyFar * dyFar <= r2 ? 1
                    : DiskCoverage.PixelFraction(p, x, y);
            }
        }
    }
}
