namespace MemGen.Analysis;

/// <summary>Settings of <see cref="PsnrSlopeFit"/>: what counts as the straight part of a denoising curve.</summary>
public sealed record PsnrSlopeFitOptions
{
    /// <summary>
    /// A window is straight when its least-squares line passes within this many dB of every point. Default 0.15 dB: about
    /// three times the point-to-point noise of a curve averaged over a few hundred images; raise it for noisier curves.
    /// </summary>
    public double ResidualTolerance { get; init; } = 0.15;

    /// <summary>The smallest fitted slope a window may have: excludes the large-σ saturation (slope → 0). Default 0.1.</summary>
    public double MinSlope { get; init; } = 0.1;

    /// <summary>The largest fitted slope a window may have: excludes the small-σ bend toward slope 1. Default 0.95.</summary>
    public double MaxSlope { get; init; } = 0.95;

    /// <summary>The fewest points a window may have. Default 4.</summary>
    public int MinPoints { get; init; } = 4;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (!(ResidualTolerance > 0)) throw new ArgumentException($"Slope fit: residual tolerance {ResidualTolerance} must be positive.");
        if (!(MinSlope < MaxSlope)) throw new ArgumentException($"Slope fit: min slope {MinSlope} must be below max slope {MaxSlope}.");
        if (MinPoints < 2) throw new ArgumentException($"Slope fit: min points {MinPoints} must be at least 2.");
    }
}

/// <summary>
/// The slope of output PSNR against input PSNR on the straight part of a denoising curve (Cα optimality, [K24] §3.1;
/// optimal slope α/(α+1)). <b>Rule:</b> sort the points by input PSNR; among all runs of at least
/// <see cref="PsnrSlopeFitOptions.MinPoints"/> consecutive points, keep those whose least-squares line passes within
/// <see cref="PsnrSlopeFitOptions.ResidualTolerance"/> dB of every point of the run and whose slope lies in
/// [<see cref="PsnrSlopeFitOptions.MinSlope"/>, <see cref="PsnrSlopeFitOptions.MaxSlope"/>]; the fit is the longest
/// such run (ties: the smaller RMS residual). The small-σ end of a curve bends toward slope 1 (at noise below the finest
/// detail every denoiser keeps a fixed number of dimensions) and the large-σ end saturates; a line through a bend misses
/// its points by more than the tolerance, and a run lying wholly in either end has a slope outside the bounds, so both
/// ends are left out by the rule rather than by hand. With no qualifying run, <see cref="Found"/> is false.
/// </summary>
/// <param name="Found">Whether a straight run was found (all other numbers NaN/−1 when not).</param>
/// <param name="Slope">Fitted slope (dB per dB).</param>
/// <param name="Intercept">Fitted intercept: PSNR_out ≈ Intercept + Slope·PSNR_in.</param>
/// <param name="RmsResidual">Root-mean-square residual of the fit (dB).</param>
/// <param name="MaxResidual">Largest absolute residual (dB).</param>
/// <param name="Points">Number of points in the run.</param>
/// <param name="MinInputPsnr">Lowest input PSNR of the run (its largest σ).</param>
/// <param name="MaxInputPsnr">Highest input PSNR of the run (its smallest σ).</param>
/// <param name="MinSigma">Smallest σ of the run.</param>
/// <param name="MaxSigma">Largest σ of the run.</param>
/// <param name="ExcludedSmallSigma">Points left out at the small-σ (high input PSNR) end.</param>
/// <param name="ExcludedLargeSigma">Points left out at the large-σ (low input PSNR) end.</param>
public sealed record PsnrSlopeFit(bool Found, double Slope, double Intercept, double RmsResidual, double MaxResidual, int Points,
    double MinInputPsnr, double MaxInputPsnr, double MinSigma, double MaxSigma, int ExcludedSmallSigma, int ExcludedLargeSigma)
{
    /// <summary>Fits the curve given as input PSNR (−20·log10 σ) and output PSNR per noise level (same order, any order).</summary>
    public static PsnrSlopeFit Of(IReadOnlyList<double> inputPsnr, IReadOnlyList<double> outputPsnr, PsnrSlopeFitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(inputPsnr);
        ArgumentNullException.ThrowIfNull(outputPsnr);
        options ??= new PsnrSlopeFitOptions();
        options.Validate();
        if (inputPsnr.Count != outputPsnr.Count) throw new ArgumentException($"Slope fit: {inputPsnr.Count} input and {outputPsnr.Count} output PSNRs.");
        var order = Enumerable.Range(0, inputPsnr.Count).Where(i => double.IsFinite(inputPsnr[i]) && double.IsFinite(outputPsnr[i]))
            .OrderBy(i => inputPsnr[i]).ToArray();
        var x = order.Select(i => inputPsnr[i]).ToArray();
        var y = order.Select(i => outputPsnr[i]).ToArray();
        int n = x.Length;
        (int First, int Last, Line Line)? best = null;
        for (int first = 0; first < n; first++)
            for (int last = first + options.MinPoints - 1; last < n; last++)
            {
                var line = Line.Fit(x, y, first, last);
                if (!(line.MaxResidual <= options.ResidualTolerance) || line.Slope < options.MinSlope || line.Slope > options.MaxSlope) continue;
                int length = last - first + 1;
                if (best is not { } b || length > b.Last - b.First + 1 || (length == b.Last - b.First + 1 && line.Rms < b.Line.Rms))
                    best = (first, last, line);
            }
        if (best is not { } fit)
            return new PsnrSlopeFit(false, double.NaN, double.NaN, double.NaN, double.NaN, 0, double.NaN, double.NaN, double.NaN, double.NaN, -1, -1);
        double lo = x[fit.First], hi = x[fit.Last];
        return new PsnrSlopeFit(true, fit.Line.Slope, fit.Line.Intercept, fit.Line.Rms, fit.Line.MaxResidual, fit.Last - fit.First + 1,
            lo, hi, SigmaOf(hi), SigmaOf(lo), n - 1 - fit.Last, fit.First);
    }

    /// <summary>Fits the test curve (or, with <paramref name="train"/>, the training curve) of <paramref name="curve"/>.</summary>
    public static PsnrSlopeFit Of(DenoisingCurve curve, bool train = false, PsnrSlopeFitOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(curve);
        return Of(curve.InputPsnr, train ? curve.TrainPsnr : curve.TestPsnr, options);
    }

    private static double SigmaOf(double inputPsnr) => Math.Pow(10, -inputPsnr / 20);

    private readonly record struct Line(double Slope, double Intercept, double Rms, double MaxResidual)
    {
        public static Line Fit(double[] x, double[] y, int first, int last)
        {
            int m = last - first + 1;
            double mx = 0, my = 0;
            for (int i = first; i <= last; i++) { mx += x[i]; my += y[i]; }
            mx /= m;
            my /= m;
            double sxx = 0, sxy = 0;
            for (int i = first; i <= last; i++) { sxx += (x[i] - mx) * (x[i] - mx); sxy += (x[i] - mx) * (y[i] - my); }
            if (!(sxx > 0)) return new Line(double.NaN, double.NaN, double.NaN, double.NaN);
            double slope = sxy / sxx, intercept = my - slope * mx, ss = 0, max = 0;
            for (int i = first; i <= last; i++)
            {
                double r = y[i] - (intercept + slope * x[i]);
                ss += r * r;
                max = Math.Max(max, Math.Abs(r));
            }
            return new Line(slope, intercept, Math.Sqrt(ss / m), max);
        }
    }
}
