namespace MemGen.Machine;

/// <summary>
/// A step was refused before it allocated: its estimated memory exceeds what the machine can give
/// (<see cref="MemoryBudget"/>). The message is one line naming the input, the estimate and the limit.
/// </summary>
public sealed class MemoryLimitException : Exception
{
    /// <summary>Creates the exception for <paramref name="what"/> needing <paramref name="bytes"/> of <paramref name="available"/>.</summary>
    public MemoryLimitException(string what, long bytes, long available, bool fromMaxMemory)
        : base($"{what} needs about {MemoryBudget.Describe(bytes)} of memory, more than the {MemoryBudget.Describe(available)} " +
               (fromMaxMemory ? "allowed by --max-memory" : "available (MemAvailable in /proc/meminfo; --max-memory overrides it)"))
    {
        What = what;
        Bytes = bytes;
        Available = available;
    }

    /// <summary>Creates the exception for a request no machine can meet (e.g. an array beyond .NET's limit); <paramref name="message"/> is one line.</summary>
    public MemoryLimitException(string message) : base(message)
    {
        What = message;
        Bytes = long.MaxValue;
        Available = MemoryBudget.Available;
    }

    /// <summary>The input that asked for the memory.</summary>
    public string What { get; }

    /// <summary>The estimate in bytes.</summary>
    public long Bytes { get; }

    /// <summary>The limit it was checked against, in bytes.</summary>
    public long Available { get; }
}
