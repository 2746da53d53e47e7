namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// The arithmetic of the self overlaps ∫p_S² of the smoothed sets (docs/science.md §7.9). MemGen's results use
/// <see cref="Float64"/>; <see cref="Float32"/> reproduces the reference code's single precision to show what
/// rounding does where |Δ| is below float32's resolution.
/// </summary>
public enum KernelSumPrecision
{
    /// <summary>Double precision, in log space (the default).</summary>
    Float64,

    /// <summary>Kernel width, exponentials, their running sum and the normalization in single precision.</summary>
    Float32,
}

/// <summary>Names of <see cref="KernelSumPrecision"/> values and float32's resolution.</summary>
public static class KernelSumPrecisions
{
    /// <summary>Machine epsilon of float32, 2^(−23): the spacing of floats at 1.</summary>
    public const double Float32Resolution = 1.0 / (1 << 23);

    /// <summary>
    /// Whether |Δ| / max(|E_TG|, |E_OG|) is below float32's resolution 2^(−23): E_TG and E_OG held as floats could
    /// not tell the sign of their difference (docs/science.md §7.9).
    /// </summary>
    public static bool BelowFloat32Resolution(double delta, double trainDistance, double originalDistance) =>
        Math.Abs(delta) < Float32Resolution * Math.Max(Math.Abs(trainDistance), Math.Abs(originalDistance));

    /// <summary>"float64" or "float32".</summary>
    public static string Name(this KernelSumPrecision precision) => precision switch
    {
        KernelSumPrecision.Float64 => "float64",
        KernelSumPrecision.Float32 => "float32",
        _ => throw new ArgumentOutOfRangeException(nameof(precision)),
    };

    /// <summary>Parses a <see cref="Name"/>; null when unknown.</summary>
    public static KernelSumPrecision? Parse(string text) => text.Trim().ToLowerInvariant() switch
    {
        "float64" => KernelSumPrecision.Float64,
        "float32" => KernelSumPrecision.Float32,
        _ => null,
    };
}
