using System.Text.Json;
using System.Text;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Results;
using MemGen.Tensors;
using MemGen.Runs;

namespace MemGen.Analysis;

/// <summary>Settings of a denoising-curve measurement (docs/science.md §5.1).</summary>
public sealed record DenoisingCurveOptions
{
    /// <summary>The 15 standard noise levels σ = logspace(0.3, 2.4, 15)/255 (input PSNR ≈ 42 … 0 dB).</summary>
    public static IReadOnlyList<double> StandardSigmas { get; } =
        Enumerable.Range(0, 15).Select(i => Math.Pow(10, 0.3 + (2.4 - 0.3) * i / 14.0) / 255.0).ToArray();

    /// <summary>Noise levels to measure at (any explicit list, e.g. <see cref="GeometricSigmas"/> for a fine grid).</summary>
    public IReadOnlyList<double> Sigmas { get; init; } = StandardSigmas;

    /// <summary><paramref name="count"/> noise levels from <paramref name="min"/> to <paramref name="max"/>, evenly spaced in input PSNR (geometric in σ).</summary>
    public static double[] GeometricSigmas(double min, double max, int count)
    {
        if (!(min > 0) || !(max >= min) || !double.IsFinite(max)) throw new ArgumentException($"Noise levels: need 0 < min ({min}) ≤ max ({max}).");
        if (count < 1 || (count == 1 && max != min)) throw new ArgumentException($"Noise levels: count {count} must be positive (and 1 only when min = max).");
        return Enumerable.Range(0, count).Select(i => count == 1 ? min : min * Math.Pow(max / min, (double)i / (count - 1))).ToArray();
    }

    /// <summary>At most this many images of each set are used (the first ones). docs/science.md §5.1: 300.</summary>
    public int MaxImages { get; init; } = 300;

    /// <summary>Seed of the noise. Image j at level k gets the stream (seed, k·2³² + j), the same for any denoiser.</summary>
    public long Seed { get; init; }

    /// <summary>Images denoised per call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Sigmas.Count == 0) throw new ArgumentException("Denoising curve: no noise levels given.");
        foreach (var s in Sigmas)
            if (!(s > 0) || !double.IsFinite(s)) throw new ArgumentException($"Denoising curve: noise level {s} must be positive.");
        if (MaxImages <= 0) throw new ArgumentException($"Denoising curve: max images {MaxImages} must be positive.");
        if (BatchSize <= 0) throw new ArgumentException($"Denoising curve: batch size {BatchSize} must be positive.");
    }
}

/// <summary>
/// PSNR of a denoiser's output vs the input PSNR, on training and on test images (docs/science.md §5.1). PSNR is computed
/// per image, 10·log10(1/MSE), and averaged over images. The PSNR gap is the mean over σ of train − test PSNR.
/// Test values are NaN when no test set was given. Exact recovery (MSE = 0, e.g. the empirical optimal denoiser on its
/// own training images) is counted as <see cref="MaxPsnr"/> dB so that averages stay finite.
/// </summary>
public sealed class DenoisingCurve
{
    /// <summary>The per-image PSNR of an exact recovery (<see cref="DenoisingPsnr.MaxPsnr"/>).</summary>
    public const double MaxPsnr = DenoisingPsnr.MaxPsnr;

    private DenoisingCurve(string denoiser, double[] sigmas, double[] train, double[] trainErr, double[] test, double[] testErr,
        int trainImages, int testImages, long seed)
    {
        Denoiser = denoiser;
        Sigmas = sigmas;
        TrainPsnr = train;
        TrainPsnrStandardError = trainErr;
        TestPsnr = test;
        TestPsnrStandardError = testErr;
        TrainImages = trainImages;
        TestImages = testImages;
        Seed = seed;
    }

    /// <summary>The denoiser's name.</summary>
    public string Denoiser { get; }

    /// <summary>Noise levels σ on the [0,1] scale.</summary>
    public IReadOnlyList<double> Sigmas { get; }

    /// <summary>Nominal input PSNR of each σ, −20·log10 σ.</summary>
    public IReadOnlyList<double> InputPsnr => Sigmas.Select(ImageStatistics.InputPsnr).ToArray();

    /// <summary>Mean output PSNR on training images at each σ.</summary>
    public IReadOnlyList<double> TrainPsnr { get; }

    /// <summary>Standard error of <see cref="TrainPsnr"/> (sd over images / √n).</summary>
    public IReadOnlyList<double> TrainPsnrStandardError { get; }

    /// <summary>Mean output PSNR on test images at each σ (NaN without a test set).</summary>
    public IReadOnlyList<double> TestPsnr { get; }

    /// <summary>Standard error of <see cref="TestPsnr"/>.</summary>
    public IReadOnlyList<double> TestPsnrStandardError { get; }

    /// <summary>Training images used.</summary>
    public int TrainImages { get; }

    /// <summary>Test images used (0 without a test set).</summary>
    public int TestImages { get; }

    /// <summary>The noise seed.</summary>
    public long Seed { get; }

    /// <summary>Mean over σ of train PSNR − test PSNR (NaN without a test set).</summary>
    public double PsnrGap => Enumerable.Range(0, Sigmas.Count).Average(k => TrainPsnr[k] - TestPsnr[k]);

    /// <summary>
    /// Throws a <see cref="NonFiniteResultException"/> when a measured PSNR (train, or test when measured) is NaN or
    /// infinite: the denoiser's outputs were not finite, and such a curve must not be reported as a result.
    /// </summary>
    public void RequireFinite()
    {
        for (int k = 0; k < Sigmas.Count; k++)
            foreach (var (value, set) in new[] { (TrainPsnr[k], "training"), (TestImages > 0 ? TestPsnr[k] : 0, "test") })
                if (!double.IsFinite(value))
                    throw new NonFiniteResultException(FormattableString.Invariant(
                        $"{Denoiser}: the PSNR at σ = {Sigmas[k]} on the {set} images is {value}: the denoiser's outputs are not finite (a broken or diverged network?); nothing was written"));
    }

    /// <summary>
    /// Measures <paramref name="denoiser"/> on the first images of <paramref name="train"/> and <paramref name="test"/>.
    /// <paramref name="progress"/> receives the number of (image set, σ) passes done.
    /// </summary>
    public static DenoisingCurve Measure(IDenoiser denoiser, ImageSet train, ImageSet? test, DenoisingCurveOptions? options = null,
        IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(train);
        options ??= new DenoisingCurveOptions();
        options.Validate();
        if (test is not null && test.ImageSize != train.ImageSize)
            throw new ArgumentException($"Test images have {test.ImageSize} pixels, training images {train.ImageSize}.");
        var (trainPsnr, trainErr, trainN) = MeasureSet(denoiser, train, options, p => progress?.Report(p));
        int offset = options.Sigmas.Count;
        var (testPsnr, testErr, testN) = test is null
            ? (Nan(options.Sigmas.Count), Nan(options.Sigmas.Count), 0)
            : MeasureSet(denoiser, test, options, p => progress?.Report(offset + p));
        return new DenoisingCurve(denoiser.Name, options.Sigmas.ToArray(), trainPsnr, trainErr, testPsnr, testErr, trainN, testN, options.Seed);
    }

    /// <summary>Mean and standard error of the output PSNR of <paramref name="denoiser"/> on <paramref name="images"/> at each σ (<see cref="DenoisingPsnr"/>).</summary>
    public static (double[] Psnr, double[] StandardError, int Images) MeasureSet(IDenoiser denoiser, ImageSet images,
        DenoisingCurveOptions options, Action<int>? levelDone = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return DenoisingPsnr.Measure(denoiser, images, options.Sigmas, options.MaxImages, options.Seed, options.BatchSize, levelDone);
    }

    /// <summary>The curves of several denoisers as one table: a row per (denoiser, σ) with input, train and test PSNR, standard errors and the gap.</summary>
    public static ResultTable Table(IEnumerable<DenoisingCurve> curves, bool withDenoiser = true)
    {
        ArgumentNullException.ThrowIfNull(curves);
        string[] columns = ["sigma", "sigma_255", "input_psnr", "train_psnr", "train_psnr_se", "test_psnr", "test_psnr_se", "gap"];
        var table = new ResultTable(withDenoiser ? ["denoiser", .. columns] : columns);
        foreach (var c in curves)
        {
            var input = c.InputPsnr;
            for (int k = 0; k < c.Sigmas.Count; k++)
            {
                object?[] row = [c.Sigmas[k], c.Sigmas[k] * 255, input[k], c.TrainPsnr[k], c.TrainPsnrStandardError[k], c.TestPsnr[k], c.TestPsnrStandardError[k], c.TrainPsnr[k] - c.TestPsnr[k]];
                table.Add(withDenoiser ? [c.Denoiser, .. row] : row);
            }
        }
        return table;
    }

    /// <summary>Writes one row per σ as CSV (sigma, sigma_255, input_psnr, train_psnr, train_se, test_psnr, test_se, gap), atomically.</summary>
    public void WriteCsv(string path) => Table([this], withDenoiser: false).WriteCsv(path);

    /// <summary>The curve as indented JSON (NaN written as null).</summary>
    public string ToJson()
    {
        static double?[] N(IEnumerable<double> v) => v.Select(x => double.IsFinite(x) ? x : (double?)null).ToArray();
        var dto = new
        {
            denoiser = Denoiser,
            seed = Seed,
            train_images = TrainImages,
            test_images = TestImages,
            sigma = Sigmas,
            input_psnr = InputPsnr,
            train_psnr = N(TrainPsnr),
            train_psnr_se = N(TrainPsnrStandardError),
            test_psnr = N(TestPsnr),
            test_psnr_se = N(TestPsnrStandardError),
            psnr_gap = double.IsFinite(PsnrGap) ? PsnrGap : (double?)null,
        };
        return JsonSerializer.Serialize(dto, new JsonSerializerOptions { WriteIndented = true });
    }

    /// <summary>Writes <see cref="ToJson"/> atomically.</summary>
    public void WriteJson(string path) => AtomicFile.WriteAllText(path, ToJson());

    private static double[] Nan(int n) => Enumerable.Repeat(double.NaN, n).ToArray();
}
