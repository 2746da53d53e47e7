using System.Reflection;

namespace MemGen;

/// <summary>Version information recorded in every run directory.</summary>
public static class MemGenInfo
{
    /// <summary>The library's informational version.</summary>
    public static string Version { get; } =
        typeof(MemGenInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion?.Split('+')[0] ?? "0.0.0";
}
