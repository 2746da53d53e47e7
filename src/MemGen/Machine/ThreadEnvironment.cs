using System.Globalization;

namespace MemGen.Machine;

/// <summary>
/// Checks the thread-count variables the native libraries read once at load time. libgomp gives every thread of a
/// team its own stack frame in oneDNN's kernels, so an absurd OMP_NUM_THREADS (e.g. 10⁶) overflows the stack
/// inside native code, which no .NET handler can turn into an error message; it has to be refused up front.
/// </summary>
public static class ThreadEnvironment
{
    /// <summary>The variable checked.</summary>
    public const string Variable = "OMP_NUM_THREADS";

    /// <summary>The largest thread count accepted: 4 per core, at least 1024 (more only slows the kernels down).</summary>
    public static int MaxThreads => Math.Max(1024, 4 * Environment.ProcessorCount);

    /// <summary>Null when OMP_NUM_THREADS is unset or usable; otherwise one line saying what is wrong with it.</summary>
    public static string? Problem() => Problem(Environment.GetEnvironmentVariable(Variable));

    /// <summary>Null when <paramref name="value"/> (OMP's comma-separated list of positive counts) is usable; otherwise the problem.</summary>
    public static string? Problem(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        foreach (var item in value.Split(','))
        {
            if (!long.TryParse(item.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out long n) || n < 1)
                return $"{Variable}={value} is not a positive thread count (or a comma-separated list of them); unset it to use every core";
            if (n > MaxThreads)
                return $"{Variable}={value} asks for more than {MaxThreads} threads, which overflows the native kernels' stacks on this {Environment.ProcessorCount}-core machine; unset it to use every core";
        }
        return null;
    }
}
