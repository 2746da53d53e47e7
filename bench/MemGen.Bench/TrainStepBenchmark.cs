using System.Diagnostics;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using MemGen.Compute;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Training;

namespace MemGen.Bench;

/// <summary>Result of <see cref="TrainStepBenchmark.Run"/> (serialized as the JSON of <c>memgen bench train</c>).</summary>
/// <param name="Benchmark">"train".</param>
/// <param name="Model">Canonical spec string.</param>
/// <param name="Parameters">Trainable scalars.</param>
/// <param name="Size">Image side.</param>
/// <param name="Batch">Images per step.</param>
/// <param name="Warmup">Untimed steps.</param>
/// <param name="Steps">Timed steps.</param>
/// <param name="Winograd">Whether 3×3 layers asked for Winograd.</param>
/// <param name="Threads">oneDNN (OpenMP) threads (0 on a GPU).</param>
/// <param name="StepMsMedian">Median wall time of a step, ms.</param>
/// <param name="StepMsMin">Fastest step, ms.</param>
/// <param name="ImagesPerS">Batch / median step time.</param>
/// <param name="GflopsPerS">Direct-convolution FLOPs of a step (3 × forward) / median step time.</param>
/// <param name="ConvGflopPerStep">Direct-convolution GFLOP of one step.</param>
/// <param name="PeakRssMb">Peak resident set of the process (VmHWM), MiB.</param>
/// <param name="ConvMsPerStep">Mean time per timed step spent inside convolution calls (CPU only; null on a GPU, whose kernels run asynchronously).</param>
/// <param name="OtherMsPerStep">Mean time per timed step outside them (batch norm, ReLU, pooling, loss, Adam, noise; CPU only).</param>
/// <param name="FinalLoss">Loss of the last step (finite: the step did real work).</param>
/// <param name="Device">The backend, e.g. "cpu" or "cuda:0".</param>
/// <param name="Precision">fp32 or tf32.</param>
/// <param name="Engine">What ran the kernels (<see cref="ComputeBackend.Description"/>).</param>
public sealed record TrainStepResult(string Benchmark, string Model, long Parameters, int Size, int Batch, int Warmup, int Steps,
    bool Winograd, int Threads, double StepMsMedian, double StepMsMin, double ImagesPerS, double GflopsPerS,
    double ConvGflopPerStep, double PeakRssMb, double? ConvMsPerStep, double? OtherMsPerStep, double FinalLoss,
    string Device, string Precision, string Engine);

/// <summary>
/// Times full training steps of a network on a backend, the step of docs/science.md §2 that
/// bench/pytorch/train_step.py mirrors: one σ = u² per image (u ~ U(0,1)), y = x + σz, forward (training
/// mode), loss Σ(r − σz)²/B, backward, Adam (lr 1e-3). Random images in [0,1] stand in for data.
/// Everything is allocated before the first step. The noise is drawn on the host and copied over each step, as in training.
/// </summary>
public static class TrainStepBenchmark
{
    /// <summary>Runs <paramref name="warmup"/> untimed then <paramref name="steps"/> timed steps.</summary>
    public static TrainStepResult Run(BenchmarkBackend engine, NetworkSpec spec, int size, int batch, int warmup, int steps,
        long seed = 0, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        var backend = engine.Backend;
        var timed = engine.Timer;
        using var net = NetworkFactory.Create(spec, 1, backend, seed);
        net.CheckImageSize(size, size);
        var step = new TrainingStep(net, batch, size, seed);
        for (int i = 0; i < warmup; i++)
        {
            progress?.Invoke($"warm-up step {i + 1}/{warmup}");
            step.Run();
        }
        var ms = new double[steps];
        double loss = 0;
        timed?.Reset();
        for (int i = 0; i < steps; i++)
        {
            progress?.Invoke($"step {i + 1}/{steps}");
            long t0 = Stopwatch.GetTimestamp();
            loss = step.Run();
            ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        double? convMs = timed is null ? null : timed.Elapsed.TotalMilliseconds / steps;
        double totalMs = ms.Sum() / steps;
        Array.Sort(ms);
        double median = steps % 2 == 1 ? ms[steps / 2] : 0.5 * (ms[steps / 2 - 1] + ms[steps / 2]);
        double gflop = 3 * net.LastForwardConvolutionFlops / 1e9;
        return new TrainStepResult("train", spec.ToString(), net.ParameterCount, size, batch, warmup, steps, engine.Winograd,
            engine.Threads, Math.Round(median, 2), Math.Round(ms[0], 2), Math.Round(batch / (median / 1e3), 2),
            Math.Round(gflop / (median / 1e3), 1), gflop, Math.Round(PeakResidentMegabytes(), 1),
            convMs is double c ? Math.Round(c, 2) : null, convMs is double c2 ? Math.Round(totalMs - c2, 2) : null, loss,
            backend.Name, ComputeDevice.Name(backend.Precision), backend.Description);
    }

    /// <summary>Peak resident set size (VmHWM of /proc/self/status) in MiB; the working set where /proc is missing.</summary>
    public static double PeakResidentMegabytes()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                    return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture) / 1024.0;
        }
        catch (IOException)
        {
        }
        return Process.GetCurrentProcess().PeakWorkingSet64 / (1024.0 * 1024.0);
    }

    /// <summary>One training step's buffers and work.</summary>
    private sealed class TrainingStep
    {
        private readonly LayeredNetwork _net;
        private readonly ComputeBackend _backend;
        private readonly Adam _adam;
        private readonly DeterministicRng _rng;
        private readonly Tensor _noiseHost; // host
        private readonly Tensor _clean, _noise, _noisy, _gradResidual; // the backend's memory
        private readonly float[] _sigmas;

        public TrainingStep(LayeredNetwork net, int batch, int size, long seed)
        {
            _net = net;
            _backend = net.Backend;
            _adam = new Adam(net.Parameters, _backend);
            _rng = new DeterministicRng(seed, 1);
            var clean = new Tensor(batch, 1, size, size);
            _rng.FillUniform(clean.Span);
            _clean = _backend.ToBackend(clean);
            _noiseHost = new Tensor(batch, 1, size, size);
            _noise = _backend.Holds(_noiseHost) ? _noiseHost : _backend.ToBackend(_noiseHost);
            _noisy = _clean.ZerosLike();
            _gradResidual = _clean.ZerosLike();
            _sigmas = new float[batch];
        }

        public double Run()
        {
            int batch = _noiseHost.N;
            for (int n = 0; n < batch; n++)
            {
                double u = _rng.NextDouble();
                _sigmas[n] = (float)(u * u);
            }
            _rng.FillNormal(_noiseHost.Span);
            for (int n = 0; n < batch; n++) TensorPrimitives.Multiply(_noiseHost.Item(n), _sigmas[n], _noiseHost.Item(n));
            if (!ReferenceEquals(_noise, _noiseHost)) _noiseHost.Storage.CopyTo(_noise.Storage);
            _backend.Add(_clean, _noise, _noisy);
            var r = _net.Forward(_noisy, training: true);
            double loss = Loss.Evaluate(_backend, r, _noise, _gradResidual); // Σ (r − σz)² / B, dloss/dr = 2 (r − σz) / B
            _net.Backward(_gradResidual);
            _adam.Step(1e-3);
            return loss;
        }
    }
}
