namespace MemGen.Bench;

/// <summary>Placeholder namespace anchor for the throughput benchmarks run by <c>memgen bench</c>.</summary>
public static class BenchmarkInfo
{
    /// <summary>Number of untimed warm-up iterations before timing starts.</summary>
    public const int DefaultWarmup = 2;
}
