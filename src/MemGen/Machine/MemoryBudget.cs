using System.Globalization;

namespace MemGen.Machine;

/// <summary>
/// Estimate first, then refuse: every step that allocates in proportion to its inputs (generators, file headers,
/// sample counts, Jacobians, de-duplication, the empirical denoiser) states its estimate here before allocating,
/// and is refused with the estimate in the message when it exceeds what the machine can give. The limit is
/// <see cref="Limit"/> when set (the CLI's <c>--max-memory</c>), else MemAvailable of <c>/proc/meminfo</c>.
/// </summary>
public static class MemoryBudget
{
    private static long s_limit;

    /// <summary>A fixed limit in bytes that replaces MemAvailable (the CLI's <c>--max-memory</c>); null = MemAvailable.</summary>
    public static long? Limit
    {
        get => Volatile.Read(ref s_limit) is > 0 and var v ? v : null;
        set => Volatile.Write(ref s_limit, value is long v && v > 0 ? v : 0);
    }

    /// <summary>The bytes a new allocation may take: <see cref="Limit"/>, else MemAvailable, else unbounded.</summary>
    public static long Available => Limit ?? ReadMemAvailable() ?? long.MaxValue;

    /// <summary>
    /// Throws a <see cref="MemoryLimitException"/> when <paramref name="bytes"/> exceed <see cref="Available"/>.
    /// <paramref name="what"/> names the input that asks for the memory, e.g. "dataset spec 'calpha:...'".
    /// </summary>
    public static void Require(long bytes, string what)
    {
        long available = Available;
        if (bytes > available)
            throw new MemoryLimitException(what, bytes, available, Limit is not null);
    }

    /// <summary>
    /// The product of non-negative <paramref name="factors"/>, saturating at <see cref="long.MaxValue"/> instead of
    /// overflowing, so a hostile size still gives an honest "too large" estimate.
    /// </summary>
    public static long Product(params ReadOnlySpan<long> factors)
    {
        long result = 1;
        foreach (long f in factors)
        {
            if (f < 0) throw new ArgumentOutOfRangeException(nameof(factors), "Sizes must not be negative.");
            if (f == 0) return 0;
            if (result > long.MaxValue / f) return long.MaxValue;
            result *= f;
        }
        return result;
    }

    /// <summary>The saturating sum of non-negative byte counts.</summary>
    public static long Sum(params ReadOnlySpan<long> terms)
    {
        long result = 0;
        foreach (long t in terms)
        {
            if (t < 0) throw new ArgumentOutOfRangeException(nameof(terms), "Sizes must not be negative.");
            result = result > long.MaxValue - t ? long.MaxValue : result + t;
        }
        return result;
    }

    /// <summary>Bytes written for people: "512 B", "3.1 MiB", "12.0 GiB", "8.0 PiB" (or "more than 8 EiB").</summary>
    public static string Describe(long bytes)
    {
        if (bytes == long.MaxValue) return "more than 8 EiB";
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        double value = bytes;
        int u = 0;
        while (value >= 1024 && u < units.Length - 1)
        {
            value /= 1024;
            u++;
        }
        return u == 0 ? string.Create(CultureInfo.InvariantCulture, $"{bytes} B") : string.Create(CultureInfo.InvariantCulture, $"{value:F1} {units[u]}");
    }

    /// <summary>
    /// Parses a size for <c>--max-memory</c>: a number of bytes with an optional binary suffix K, M, G or T
    /// (KiB … TiB; "B" and "iB" accepted), e.g. <c>512M</c>, <c>8G</c>, <c>1.5GiB</c>. Returns null when it is not one.
    /// </summary>
    public static long? ParseSize(string? text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var s = text.Trim().ToUpperInvariant();
        if (s.EndsWith("IB", StringComparison.Ordinal)) s = s[..^2];
        else if (s.EndsWith('B')) s = s[..^1];
        long scale = 1;
        if (s.Length > 0 && "KMGT".Contains(s[^1], StringComparison.Ordinal))
        {
            scale = 1L << (10 * ("KMGT".IndexOf(s[^1], StringComparison.Ordinal) + 1));
            s = s[..^1];
        }
        if (!double.TryParse(s, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double v) || !(v > 0)) return null;
        double bytes = v * scale;
        return bytes is >= 1 and < long.MaxValue ? (long)bytes : null;
    }

    /// <summary>MemAvailable from /proc/meminfo in bytes, or null where there is none.</summary>
    internal static long? ReadMemAvailable()
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/meminfo"))
            {
                if (!line.StartsWith("MemAvailable:", StringComparison.Ordinal)) continue;
                var parts = line["MemAvailable:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib))
                    return kib > long.MaxValue / 1024 ? long.MaxValue : kib * 1024;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
        return null;
    }
}
