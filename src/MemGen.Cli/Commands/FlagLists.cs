using System.Globalization;

namespace MemGen.Cli.Commands;

/// <summary>Comma-separated flag values (<c>--sizes 1,10,100</c>, <c>--sigmas 0.05,0.1</c>), parsed or refused with one line naming the setting.</summary>
internal static class FlagLists
{
    /// <summary>A comma-separated list of integers.</summary>
    /// <exception cref="InvalidSettingException">An element is not an integer.</exception>
    public static int[] Integers(string setting, string text) =>
        Parse<int>(setting, text, "integers", s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : null);

    /// <summary>A comma-separated list of numbers.</summary>
    /// <exception cref="InvalidSettingException">An element is not a number.</exception>
    public static double[] Numbers(string setting, string text) =>
        Parse<double>(setting, text, "numbers", s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : null);

    private static T[] Parse<T>(string setting, string text, string what, Func<string, T?> parse) where T : struct
    {
        ArgumentNullException.ThrowIfNull(text);
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new T[parts.Length];
        for (int i = 0; i < parts.Length; i++)
            values[i] = parse(parts[i]) ?? throw new InvalidSettingException(setting, $"'{text}' is not a comma-separated list of {what}");
        return values;
    }
}
