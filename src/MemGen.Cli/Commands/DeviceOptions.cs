using System.CommandLine;
using MemGen.Compute;

namespace MemGen.Cli.Commands;

/// <summary>
/// The engine flags of the root command, <c>--device cpu|cuda[:N]|auto</c> and <c>--precision fp32|tf32</c>, which
/// every command sees (recursive options). Commands that compute open the backend once with <see cref="TryOpen"/> and
/// pass it down; a machine that lacks the device or a library gets one line naming what is missing, exit code 2.
/// </summary>
internal static class DeviceOptions
{
    /// <summary>Name of the device option.</summary>
    public const string DeviceName = "--device";

    /// <summary>Name of the precision option.</summary>
    public const string PrecisionName = "--precision";

    /// <summary>Adds both options to <paramref name="root"/>.</summary>
    public static void AddTo(Command root)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.Options.Add(new Option<string>(DeviceName)
        {
            Description = "Compute engine: cpu (oneDNN, default), cuda or cuda:N (cuDNN, cuBLAS), or auto (CUDA when a device and its libraries load, else cpu).",
            DefaultValueFactory = _ => "cpu",
            Recursive = true,
        });
        root.Options.Add(new Option<string>(PrecisionName)
        {
            Description = "Arithmetic of convolutions and matrix products: fp32 (default) or tf32 (TF32 tensor cores; CUDA only).",
            DefaultValueFactory = _ => "fp32",
            Recursive = true,
        });
    }

    /// <summary>
    /// Opens the backend the command line names. On failure writes "memgen COMMAND: --device ...: reason." and
    /// returns false with <paramref name="exitCode"/> = 2. With <c>auto</c> falling back to the CPU, says so on stderr.
    /// </summary>
    public static bool TryOpen(ParseResult parse, string command, out ComputeBackend backend, out int exitCode)
    {
        ArgumentNullException.ThrowIfNull(parse);
        backend = null!;
        exitCode = 0;
        if (!TryParse(parse, command, out var device, out var precision, out exitCode)) return false;
        try
        {
            backend = device.Open(precision, out var fallback);
            if (fallback is not null) Console.Error.WriteLine($"memgen {command}: --device auto: using the CPU ({fallback.TrimEnd('.')}).");
            return true;
        }
        catch (ComputeUnavailableException e)
        {
            exitCode = CommandError.Report(command, $"{DeviceName} {device}: {e.Message}");
            return false;
        }
    }

    /// <summary>Parses both options; on a malformed value writes one line and returns false with exit code 2.</summary>
    public static bool TryParse(ParseResult parse, string command, out ComputeDevice device, out ComputePrecision precision, out int exitCode)
    {
        ArgumentNullException.ThrowIfNull(parse);
        device = ComputeDevice.Cpu;
        precision = ComputePrecision.Float32;
        exitCode = 0;
        try
        {
            device = ComputeDevice.Parse(parse.GetValue<string>(DeviceName) ?? "cpu");
        }
        catch (FormatException e)
        {
            exitCode = CommandError.Report(command, $"{DeviceName}: {e.Message}");
            return false;
        }
        try
        {
            precision = ComputeDevice.ParsePrecision(parse.GetValue<string>(PrecisionName) ?? "fp32");
        }
        catch (FormatException e)
        {
            exitCode = CommandError.Report(command, $"{PrecisionName}: {e.Message}");
            return false;
        }
        return true;
    }
}
