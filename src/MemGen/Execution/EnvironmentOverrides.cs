using System.Diagnostics;

namespace MemGen.Execution;

/// <summary>Variables to set in (or, with a null value, remove from) a child process's environment.</summary>
internal static class EnvironmentOverrides
{
    /// <summary>Applies <paramref name="overrides"/> (may be null: nothing) to <paramref name="info"/>'s environment.</summary>
    public static void ApplyTo(ProcessStartInfo info, IReadOnlyDictionary<string, string?>? overrides)
    {
        ArgumentNullException.ThrowIfNull(info);
        foreach (var (name, value) in overrides ?? new Dictionary<string, string?>())
        {
            if (value is null) info.Environment.Remove(name);
            else info.Environment[name] = value;
        }
    }
}
