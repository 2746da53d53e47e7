using System.Diagnostics;
using MemGen.Analysis;
using MemGen.Compute;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Bench;

/// <summary>Result of <see cref="JacobianBenchmark.Run"/> (the JSON of <c>memgen bench jacobian</c>).</summary>
/// <param name="Benchmark">"jacobian".</param>
/// <param name="Model">Canonical spec string.</param>
/// <param name="Size">Image side.</param>
/// <param name="Dimension">d = pixels; the Jacobian is d×d.</param>
/// <param name="Batch">Basis vectors pushed through the network per pass.</param>
/// <param name="Mode">"jvp" (columns J·e_i, forward passes) or "vjp" (rows Jᵀ·e_i, backward passes).</param>
/// <param name="Winograd">Whether 3×3 layers asked for Winograd.</param>
/// <param name="Threads">oneDNN threads (0 on a GPU).</param>
/// <param name="LinearizeMs">Time of the linearization (one evaluation pass at y).</param>
/// <param name="JacobianSeconds">Time for all d products (the full Jacobian), excluding linearization.</param>
/// <param name="ProductsPerS">d / JacobianSeconds.</param>
/// <param name="EulerRelativeError">‖J_r·y − r(y)‖/‖r(y)‖ from the assembled J_r (bias-free check, float rounding only).</param>
/// <param name="PeakRssMb">Peak resident set, MiB.</param>
/// <param name="Device">The backend, e.g. "cpu" or "cuda:0".</param>
/// <param name="Precision">fp32 or tf32.</param>
public sealed record JacobianResult(string Benchmark, string Model, int Size, int Dimension, int Batch, string Mode, bool Winograd,
    int Threads, double LinearizeMs, double JacobianSeconds, double ProductsPerS, double EulerRelativeError, double PeakRssMb,
    string Device, string Precision);

/// <summary>
/// Times the full d×d Jacobian of a freshly initialized network at a random image (docs/science.md §5): linearize once,
/// then push the standard basis through in batches. The residual Jacobian J_r is assembled (the denoiser's is
/// J_f = I − J_r, same cost; J_r keeps the small entries float would round away in I − J_r). Every γ is set to 1
/// first: with the initial running sd of 1 and γ ~ 0.003 an untrained network's evaluation activations would
/// shrink by γ per layer into float denormals, which are very slow (Kaiming weights keep the scale with γ = 1).
/// One untimed linearization and pass build the primitives. A noise-conditioned network is linearized at σ = 0.1; its
/// Euler error ‖J_r·y − r(y)‖/‖r(y)‖ is not zero (it has biases), unlike a bias-free network's.
/// </summary>
public static class JacobianBenchmark
{
    /// <summary>Assembles J column by column (jvp) or row by row (vjp) and times it.</summary>
    public static JacobianResult Run(BenchmarkBackend engine, NetworkSpec spec, int size, int batch, bool vjp, long seed = 0, Action<string>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(engine);
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(batch, 1);
        var backend = engine.Backend;
        using var net = NetworkFactory.Create(spec, 1, backend, seed);
        net.CheckImageSize(size, size);
        int d = size * size;
        batch = Math.Min(batch, d);
        var rng = new DeterministicRng(seed, 2);
        var y = new Tensor(1, 1, size, size);
        rng.FillUniform(y.Span);
        foreach (var p in net.Parameters.Where(p => p.Name.EndsWith(".gamma", StringComparison.Ordinal)))
        {
            var ones = new float[p.Value.Length];
            Array.Fill(ones, 1f);
            p.Value.CopyFrom(ones);
        }
        var basis = backend.Zeros(batch, 1, size, size);
        var products = basis.ZerosLike();
        float[] sigma = [0.1f]; // a noise-conditioned network is linearized at this σ; blind ones ignore it
        Push(net.LinearizeAt(y, sigma), basis, products, vjp);

        long t0 = Stopwatch.GetTimestamp();
        var lin = net.LinearizeAt(y, sigma);
        backend.Synchronize();
        double linearizeMs = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        t0 = Stopwatch.GetTimestamp();
        var jacobian = JacobianAnalysis.AssembleResidualJacobian(lin, batch, vjp,
            progress is null ? null : (done, total) => progress($"basis vectors {done} of {total}"));
        double seconds = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        var residual = lin.Residual.ToArray();

        double diff = 0, norm = 0;
        for (int i = 0; i < d; i++)
        {
            double jy = 0;
            for (int j = 0; j < d; j++) jy += (double)jacobian[(long)i * d + j] * y.Data[j];
            diff += (jy - residual[i]) * (jy - residual[i]);
            norm += (double)residual[i] * residual[i];
        }
        return new JacobianResult("jacobian", spec.ToString(), size, d, batch, vjp ? "vjp" : "jvp", engine.Winograd, engine.Threads,
            Math.Round(linearizeMs, 2), Math.Round(seconds, 3), Math.Round(d / seconds, 1), Math.Sqrt(diff / norm),
            Math.Round(TrainStepBenchmark.PeakResidentMegabytes(), 1), backend.Name, ComputeDevice.Name(backend.Precision));
    }

    private static void Push(LinearizedNetwork lin, Tensor vectors, Tensor products, bool vjp)
    {
        if (vjp) lin.ResidualVjp(vectors, products);
        else lin.ResidualJvp(vectors, products);
    }
}
