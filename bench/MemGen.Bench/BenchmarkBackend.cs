using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Native;

namespace MemGen.Bench;

/// <summary>
/// The backend a benchmark runs on. On the CPU its oneDNN convolutions are wrapped in a
/// <see cref="TimedConvolutionFactory"/>, so a step's time splits into convolutions and the rest; on a GPU the
/// kernels run asynchronously and no such split is measured.
/// </summary>
public sealed class BenchmarkBackend : IDisposable
{
    private readonly IDisposable[] _owned;

    private BenchmarkBackend(ComputeBackend backend, TimedConvolutionFactory? timer, bool winograd, IDisposable[] owned)
    {
        Backend = backend;
        Timer = timer;
        Winograd = winograd;
        _owned = owned;
    }

    /// <summary>The backend.</summary>
    public ComputeBackend Backend { get; }

    /// <summary>The convolution timer (CPU only).</summary>
    public TimedConvolutionFactory? Timer { get; }

    /// <summary>Whether oneDNN was asked for Winograd 3×3 convolutions (CPU only).</summary>
    public bool Winograd { get; }

    /// <summary>Compute threads: oneDNN's on the CPU, 0 on a GPU.</summary>
    public int Threads => Backend is CpuBackend ? CpuBackend.Threads : 0;

    /// <summary>Opens <paramref name="device"/> for benchmarking.</summary>
    /// <exception cref="ComputeUnavailableException">The device cannot be used here.</exception>
    public static BenchmarkBackend Open(ComputeDevice device, ComputePrecision precision = ComputePrecision.Float32, bool winograd = false)
    {
        ArgumentNullException.ThrowIfNull(device);
        if (device.Kind == ComputeDeviceKind.Cpu)
        {
            if (precision != ComputePrecision.Float32) device.Open(precision, out _); // throws the CPU's one-line refusal
            var onednn = new OneDnnConvolutionFactory(winograd);
            var timer = new TimedConvolutionFactory(onednn);
            var cpu = new CpuBackend(timer);
            return new BenchmarkBackend(cpu, timer, winograd, [cpu, onednn]);
        }
        var backend = device.Open(precision, out _);
        var timed = backend is CpuBackend; // auto fell back to the CPU: no split, still a valid measurement
        return new BenchmarkBackend(backend, null, winograd && timed, [backend]);
    }

    /// <summary>A benchmark backend over an existing CPU convolution engine (tests).</summary>
    public static BenchmarkBackend OnCpu(IConvolutionFactory convolutions)
    {
        var timer = new TimedConvolutionFactory(convolutions);
        var cpu = new CpuBackend(timer);
        return new BenchmarkBackend(cpu, timer, winograd: false, [cpu]);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
    }
}
