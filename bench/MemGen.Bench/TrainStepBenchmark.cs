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

/// <summary>Result of <see cref="TrainStepBenchmark.Compare"/>: two networks' training steps timed in alternating rounds.</summary>
/// <param name="Benchmark">"train-compare".</param>
/// <param name="Models">Each network's result over all its timed steps (medians as in <see cref="TrainStepResult"/>).</param>
/// <param name="Rounds">Rounds; each times every network for <see cref="TrainStepResult.Steps"/>/<paramref name="Rounds"/> steps, in alternating order.</param>
/// <param name="StepTimeRatio">Median step time of the second network over the first.</param>
/// <param name="RoundRatios">The same ratio per round (a shared machine's load drifts; the spread shows how much).</param>
/// <param name="LoadBefore">1-minute load average before the first round (/proc/loadavg; NaN where missing).</param>
/// <param name="LoadAfter">1-minute load average after the last round.</param>
public sealed record TrainStepComparison(string Benchmark, IReadOnlyList<TrainStepResult> Models, int Rounds, double StepTimeRatio,
    IReadOnlyList<double> RoundRatios, double LoadBefore, double LoadAfter);

/// <summary>
/// Times full training steps of a network on a backend, the step of docs/science.md §2 that
/// bench/pytorch/train_step.py mirrors: one σ = u² per image (u ~ U(0,1)), y = x + σz, forward (training
/// mode), loss Σ(r − σz)²/B, backward, Adam (lr 1e-3). A noise-conditioned network gets each image's σ and EDM's loss
/// weights, as <see cref="Trainer"/> gives them. Random images in [0,1] stand in for data.
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
        var timed = engine.Timer;
        using var net = NetworkFactory.Create(spec, 1, engine.Backend, seed);
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
        return Summarize(engine, spec, net, size, batch, warmup, ms, convMs, loss);
    }

    /// <summary>
    /// Times two networks' training steps on one backend in <paramref name="rounds"/> alternating rounds (A then B, then B
    /// then A, …) of <paramref name="stepsPerRound"/> steps each, after <paramref name="warmup"/> untimed steps of each, so
    /// both see the same machine load; reports each network's median and the ratio of the medians (B over A).
    /// </summary>
    public static TrainStepComparison Compare(BenchmarkBackend engine, NetworkSpec first, NetworkSpec second, int size, int batch, int warmup,
        int stepsPerRound, int rounds, long seed = 0, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerRound, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(warmup);
        NetworkSpec[] specs = [first, second];
        var nets = specs.Select(spec => NetworkFactory.Create(spec, 1, engine.Backend, seed)).ToArray();
        try
        {
            foreach (var net in nets) net.CheckImageSize(size, size);
            var steps = nets.Select(net => new TrainingStep(net, batch, size, seed)).ToArray();
            for (int m = 0; m < 2; m++)
                for (int i = 0; i < warmup; i++)
                {
                    progress?.Invoke($"{specs[m]}: warm-up step {i + 1}/{warmup}");
                    steps[m].Run();
                }
            double loadBefore = LoadAverage();
            var ms = new[] { new List<double>(), new List<double>() };
            var losses = new double[2];
            var roundRatios = new List<double>();
            for (int r = 0; r < rounds; r++)
            {
                var roundMs = new double[2][];
                foreach (int m in r % 2 == 0 ? new[] { 0, 1 } : [1, 0])
                {
                    roundMs[m] = new double[stepsPerRound];
                    for (int i = 0; i < stepsPerRound; i++)
                    {
                        progress?.Invoke($"round {r + 1}/{rounds}, {specs[m]}: step {i + 1}/{stepsPerRound}");
                        long t0 = Stopwatch.GetTimestamp();
                        losses[m] = steps[m].Run();
                        roundMs[m][i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                    }
                    ms[m].AddRange(roundMs[m]);
                }
                roundRatios.Add(Math.Round(Median(roundMs[1]) / Median(roundMs[0]), 3));
            }
            double loadAfter = LoadAverage();
            var results = Enumerable.Range(0, 2).Select(m => Summarize(engine, specs[m], nets[m], size, batch, warmup, [.. ms[m]], null, losses[m])).ToArray();
            return new TrainStepComparison("train-compare", results, rounds, Math.Round(results[1].StepMsMedian / results[0].StepMsMedian, 3),
                roundRatios, loadBefore, loadAfter);
        }
        finally
        {
            foreach (var net in nets) net.Dispose();
        }
    }

    /// <summary>The 1-minute load average of the machine (/proc/loadavg), NaN where it cannot be read.</summary>
    public static double LoadAverage()
    {
        try
        {
            var first = File.ReadAllText("/proc/loadavg").Split(' ')[0];
            return double.Parse(first, System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return double.NaN;
        }
    }

    private static double Median(double[] values)
    {
        var sorted = (double[])values.Clone();
        Array.Sort(sorted);
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }

    private static TrainStepResult Summarize(BenchmarkBackend engine, NetworkSpec spec, LayeredNetwork net, int size, int batch, int warmup,
        double[] ms, double? convMs, double loss)
    {
        var backend = engine.Backend;
        int steps = ms.Length;
        double totalMs = ms.Sum() / steps;
        double median = Median(ms);
        double gflop = 3 * net.LastForwardConvolutionFlops / 1e9;
        return new TrainStepResult("train", spec.ToString(), net.ParameterCount, size, batch, warmup, steps, engine.Winograd,
            engine.Threads, Math.Round(median, 2), Math.Round(ms.Min(), 2), Math.Round(batch / (median / 1e3), 2),
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
        private readonly Tensor? _weights; // EDM loss weights (noise-conditioned networks)

        public TrainingStep(LayeredNetwork net, int batch, int size, long seed)
        {
            if (net.IsConditioned) _weights = net.Backend.Zeros(batch);
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
            var r = _net.Forward(_noisy, _sigmas, training: true);
            double loss;
            if (_weights is null)
            {
                loss = Loss.Evaluate(_backend, r, _noise, _gradResidual); // Σ (r − σz)² / B, dloss/dr = 2 (r − σz) / B
            }
            else
            {
                var edm = new EdmPreconditioning(_net.Spec.SigmaData);
                _weights.CopyFrom(Array.ConvertAll(_sigmas, s => (float)edm.LossWeight(s)));
                loss = Loss.EvaluateWeighted(_backend, r, _noise, _weights, _gradResidual);
            }
            _net.Backward(_gradResidual);
            _adam.Step(1e-3);
            return loss;
        }
    }
}
