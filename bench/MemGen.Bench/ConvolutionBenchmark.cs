using System.Diagnostics;
using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Native;
using MemGen.Tensors;

namespace MemGen.Bench;

/// <summary>One convolution layer to time.</summary>
/// <param name="Name">What the layer is, e.g. "64→64 3×3 body".</param>
/// <param name="Shape">The problem.</param>
public sealed record ConvolutionLayer(string Name, ConvolutionShape Shape);

/// <summary>Timing of one pass of one layer.</summary>
/// <param name="MedianMs">Median wall time of one call, milliseconds.</param>
/// <param name="MinMs">Fastest call, milliseconds.</param>
/// <param name="Gflops">Direct-convolution FLOPs / median time (for Winograd an "effective" rate).</param>
/// <param name="Algorithm">"direct" or "winograd".</param>
/// <param name="Implementation">oneDNN's implementation name.</param>
public sealed record PassTiming(double MedianMs, double MinMs, double Gflops, string Algorithm, string Implementation);

/// <summary>Timings of forward, backward-data and backward-weights of one layer.</summary>
/// <param name="Layer">Layer name.</param>
/// <param name="Batch">Batch size.</param>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="Height">Input height.</param>
/// <param name="Width">Input width.</param>
/// <param name="Kind">Convolution kind.</param>
/// <param name="GflopPerPass">Direct-convolution GFLOP of one pass.</param>
/// <param name="Forward">Forward timing.</param>
/// <param name="BackwardData">Backward-data timing.</param>
/// <param name="BackwardWeights">Backward-weights timing.</param>
public sealed record LayerTiming(string Layer, int Batch, int InChannels, int OutChannels, int Height, int Width, string Kind,
    double GflopPerPass, PassTiming Forward, PassTiming BackwardData, PassTiming BackwardWeights);

/// <summary>Per-layer convolution throughput of the CPU backend's oneDNN primitives (<c>memgen bench conv</c>).</summary>
public static class ConvolutionBenchmark
{
    /// <summary>The oneDNN runtime the layers run on: version, threads, whether it uses AVX-512.</summary>
    public static (string Version, int Threads, bool Avx512) Engine => (OneDnn.Version, OneDnn.ThreadCount, OneDnn.HasAvx512);

    /// <summary>
    /// The layers that dominate the two benchmark networks at <paramref name="size"/>×<paramref name="size"/>:
    /// the 64→64 body of BF-CNN, its 1-channel first and last layers, a UNet level-1 3×3 and the UNet's
    /// 128→64 transposed convolution. Activations blocked (nChw16c) wherever channels allow, as in the networks.
    /// </summary>
    public static IReadOnlyList<ConvolutionLayer> RepresentativeLayers(int batch, int size)
    {
        const TensorLayout P = TensorLayout.Nchw, B = TensorLayout.Nchw16c;
        int half = Math.Max(1, size / 2);
        return
        [
            new("64→64 3×3 body", new(batch, 64, 64, size, size, ConvolutionKind.Same3x3, B, B)),
            new("1→64 3×3 first", new(batch, 1, 64, size, size, ConvolutionKind.Same3x3, P, B)),
            new("64→1 3×3 last", new(batch, 64, 1, size, size, ConvolutionKind.Same3x3, B, P)),
            new("128→128 3×3 UNet", new(batch, 128, 128, half, half, ConvolutionKind.Same3x3, B, B)),
            new("128→64 2×2 up", new(batch, 128, 64, half, half, ConvolutionKind.Transposed2x2, B, B)),
        ];
    }

    /// <summary>
    /// Times each pass: <paramref name="warmup"/> untimed calls (JIT, first touch of fresh pages), then
    /// <paramref name="repeats"/> timed calls; reports the median. Inputs are random, buffers allocated once.
    /// </summary>
    public static LayerTiming Measure(ConvolutionLayer layer, bool winograd, int warmup, int repeats)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(repeats, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        var s = layer.Shape;
        var rng = new DeterministicRng(1, 7);
        var x = Activation(s.Batch, s.InChannels, s.Height, s.Width, s.SourceLayout);
        var y = Activation(s.Batch, s.OutChannels, s.OutHeight, s.OutWidth, s.DestinationLayout);
        var dx = x.ZerosLike();
        var dy = y.ZerosLike();
        var w = new Tensor(s.WeightShape);
        var dw = w.ZerosLike();
        rng.FillNormal(x.Span);
        rng.FillNormal(dy.Span);
        rng.FillNormal(w.Span, 0, 0.05f);
        using var conv = new OneDnnConvolution(s, winograd);
        double gflop = s.ForwardFlops / 1e9;
        PassTiming Time(Action pass, string algorithm, string implementation)
        {
            for (int i = 0; i < warmup; i++) pass();
            var ms = new double[repeats];
            for (int i = 0; i < repeats; i++)
            {
                long t0 = Stopwatch.GetTimestamp();
                pass();
                ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
            }
            Array.Sort(ms);
            double median = repeats % 2 == 1 ? ms[repeats / 2] : 0.5 * (ms[repeats / 2 - 1] + ms[repeats / 2]);
            return new PassTiming(median, ms[0], gflop / (median / 1e3), algorithm, implementation);
        }
        var fwd = Time(() => conv.Forward(x, w, y), conv.ForwardAlgorithm, conv.ForwardImplementation);
        var bwdData = Time(() => conv.BackwardData(dy, w, dx), conv.BackwardDataAlgorithm, conv.BackwardDataImplementation);
        var bwdWeights = Time(() => conv.BackwardWeights(x, dy, dw), conv.BackwardWeightsAlgorithm, conv.BackwardWeightsImplementation);
        return new LayerTiming(layer.Name, s.Batch, s.InChannels, s.OutChannels, s.Height, s.Width, s.Kind.ToString(), gflop, fwd, bwdData, bwdWeights);
    }

    private static Tensor Activation(int n, int c, int h, int w, TensorLayout layout) =>
        BlockedLayout.Allocate(n, c, h, w, layout);
}
