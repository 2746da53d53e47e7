using System.Diagnostics;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Bench;

/// <summary>Measured rate of one closed-form computation.</summary>
/// <param name="Name">What was measured.</param>
/// <param name="Items">Work items per timed call (images denoised, or query × reference pairs).</param>
/// <param name="MedianSeconds">Median wall time of the timed calls.</param>
/// <param name="ItemsPerSecond">Items / median seconds.</param>
/// <param name="Gflops">Matrix-product GFLOP/s implied by the median time.</param>
/// <param name="CpuSecondsPerCall">Process CPU time (all threads) per timed call: with N threads and no other load the
/// wall time would be about this / N, a check on timings taken on a busy machine.</param>
public sealed record RateMeasurement(string Name, long Items, double MedianSeconds, double ItemsPerSecond, double Gflops, double CpuSecondsPerCall);

/// <summary>
/// Throughput of the exact reference computations on a training set of N images of d pixels (synthetic uniform data;
/// the cost does not depend on the pixel values): the empirical optimal denoiser (images/s) and the exact
/// nearest-neighbour search (query·reference pairs/s).
/// </summary>
public static class ReferenceComputationBenchmark
{
    /// <summary>A synthetic set of <paramref name="count"/> uniform images of side <paramref name="size"/>.</summary>
    public static ImageSet Synthetic(int count, int size, long seed)
    {
        var pixels = new float[count * size * size];
        new DeterministicRng(seed).FillUniform(pixels);
        return new ImageSet(pixels, count, 1, size, size, new Provenance($"uniform:{seed}", []));
    }

    /// <summary>Images/s of <see cref="EmpiricalOptimalDenoiser"/> denoising <paramref name="queries"/> images at σ = 0.1.</summary>
    public static RateMeasurement EmpiricalOptimal(ImageSet training, int queries, int repeats)
    {
        var denoiser = new EmpiricalOptimalDenoiser(training);
        var noisy = new Tensor(queries, training.Channels, training.Height, training.Width);
        new DeterministicRng(7).FillUniform(noisy.Span);
        var output = noisy.ZerosLike();
        var sigmas = Enumerable.Repeat(0.1f, queries).ToArray();
        var (seconds, cpu) = Median(repeats, () => denoiser.Denoise(noisy, output, sigmas));
        double flops = 4.0 * queries * training.Count * training.ImageSize;
        return new RateMeasurement($"empirical-optimal N={training.Count} d={training.ImageSize}", queries, seconds, queries / seconds, flops / seconds / 1e9, cpu);
    }

    /// <summary>Pairs/s of <see cref="NearestNeighbourSearch"/> (top-2) of <paramref name="queries"/> images among <paramref name="training"/>.</summary>
    public static RateMeasurement NearestNeighbours(ImageSet training, int queries, SimilarityMetric metric, int repeats)
    {
        var search = new NearestNeighbourSearch(training, metric);
        var q = Synthetic(queries, training.Height, seed: 8);
        var (seconds, cpu) = Median(repeats, () => search.Search(q, k: 2));
        long pairs = (long)queries * training.Count;
        return new RateMeasurement($"nearest-neighbour {metric} N={training.Count} d={training.ImageSize}", pairs, seconds, pairs / seconds,
            2.0 * pairs * training.ImageSize / seconds / 1e9, cpu);
    }

    private static (double MedianSeconds, double CpuSecondsPerCall) Median(int repeats, Action run)
    {
        run(); // warm-up (first touch of buffers, JIT)
        var times = new double[repeats];
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpuStart = process.TotalProcessorTime;
        for (int i = 0; i < repeats; i++)
        {
            var watch = Stopwatch.StartNew();
            run();
            times[i] = watch.Elapsed.TotalSeconds;
        }
        process.Refresh();
        double cpu = (process.TotalProcessorTime - cpuStart).TotalSeconds / repeats;
        Array.Sort(times);
        return (times[repeats / 2], cpu);
    }
}
