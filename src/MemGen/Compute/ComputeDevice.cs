using System.Globalization;
using MemGen.Compute.Cpu;
using MemGen.Compute.Cuda;

namespace MemGen.Compute;

/// <summary>Which kind of engine a <see cref="ComputeDevice"/> names.</summary>
public enum ComputeDeviceKind
{
    /// <summary>The CPU backend (oneDNN, OpenBLAS).</summary>
    Cpu,

    /// <summary>A CUDA GPU (cuDNN, cuBLAS, NVRTC).</summary>
    Cuda,

    /// <summary>CUDA device 0 when a device and the libraries load, else the CPU.</summary>
    Auto,
}

/// <summary>
/// The engine named on the command line: <c>cpu</c>, <c>cuda</c> (device 0), <c>cuda:N</c> or <c>auto</c>.
/// <see cref="Open(ComputePrecision, out string?)"/> creates the backend; a machine without what it needs gets one
/// <see cref="ComputeUnavailableException"/> naming the missing piece.
/// </summary>
/// <param name="Kind">CPU, CUDA or automatic.</param>
/// <param name="Index">CUDA device ordinal (0 unless <c>cuda:N</c>).</param>
public sealed record ComputeDevice(ComputeDeviceKind Kind, int Index = 0)
{
    /// <summary>The CPU.</summary>
    public static ComputeDevice Cpu { get; } = new(ComputeDeviceKind.Cpu);

    /// <summary>Parses <c>cpu</c>, <c>cuda</c>, <c>cuda:N</c> or <c>auto</c> (case-insensitive); throws <see cref="FormatException"/> otherwise.</summary>
    public static ComputeDevice Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var t = text.Trim().ToLowerInvariant();
        if (t == "cpu") return Cpu;
        if (t == "auto") return new ComputeDevice(ComputeDeviceKind.Auto);
        if (t == "cuda") return new ComputeDevice(ComputeDeviceKind.Cuda);
        if (t.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (int.TryParse(t.AsSpan(5), NumberStyles.None, CultureInfo.InvariantCulture, out int index))
                return new ComputeDevice(ComputeDeviceKind.Cuda, index);
            throw new FormatException($"'{text}' names no CUDA device: write cuda:N with N a device number (0, 1, ...).");
        }
        throw new FormatException($"unknown device '{text}': expected cpu, cuda, cuda:N or auto.");
    }

    /// <summary>Parses a precision name: <c>fp32</c> (or float32) or <c>tf32</c>.</summary>
    public static ComputePrecision ParsePrecision(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Trim().ToLowerInvariant() switch
        {
            "fp32" or "float32" => ComputePrecision.Float32,
            "tf32" => ComputePrecision.Tf32,
            _ => throw new FormatException($"unknown precision '{text}': expected fp32 or tf32."),
        };
    }

    /// <summary>
    /// Creates the backend. <see cref="ComputeDeviceKind.Auto"/> falls back to the CPU when CUDA is unavailable
    /// (then <paramref name="fallbackReason"/> says why, and a TF32 request is dropped: the CPU computes in float32).
    /// </summary>
    /// <exception cref="ComputeUnavailableException">The device or a library it needs is missing, or the CPU was asked for TF32.</exception>
    public ComputeBackend Open(ComputePrecision precision, out string? fallbackReason)
    {
        fallbackReason = null;
        switch (Kind)
        {
            case ComputeDeviceKind.Cpu:
                if (precision != ComputePrecision.Float32)
                    throw new ComputeUnavailableException($"precision {Name(precision)} needs a CUDA device: the CPU backend computes in float32.");
                return new CpuBackend();
            case ComputeDeviceKind.Cuda:
                return CudaBackend.Open(Index, precision);
            default:
                try
                {
                    return CudaBackend.Open(0, precision);
                }
                catch (ComputeUnavailableException e)
                {
                    fallbackReason = e.Message;
                    return new CpuBackend();
                }
        }
    }

    /// <summary><see cref="Open(ComputePrecision, out string?)"/> in float32.</summary>
    public ComputeBackend Open() => Open(ComputePrecision.Float32, out _);

    /// <summary>The name as written on the command line: fp32 or tf32.</summary>
    public static string Name(ComputePrecision precision) => precision == ComputePrecision.Tf32 ? "tf32" : "fp32";

    /// <inheritdoc />
    public override string ToString() => Kind switch
    {
        ComputeDeviceKind.Cpu => "cpu",
        ComputeDeviceKind.Auto => "auto",
        _ => Index == 0 ? "cuda" : string.Create(CultureInfo.InvariantCulture, $"cuda:{Index}"),
    };
}

/// <summary>A compute device cannot be used here: no driver, no device, a library missing, or an unsupported precision. The message is one line.</summary>
public sealed class ComputeUnavailableException : Exception
{
    /// <summary>Creates the exception.</summary>
    public ComputeUnavailableException(string message, Exception? inner = null) : base(message, inner) { }
}
