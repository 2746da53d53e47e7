namespace MemGen.Images;

/// <summary>The shape of one image: channels × height × width.</summary>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Values per image (C·H·W).</summary>
    public int Size => checked(Channels * Height * Width);

    /// <summary>Most channels an image may have (gray, gray+alpha, RGB, RGBA).</summary>
    public const int MaxChannels = 4;

    /// <summary>Most pixels (H·W) an image may have: 16384², so C·H·W always fits an array index.</summary>
    public const int MaxPixels = 1 << 28;

    /// <inheritdoc/>
    public override string ToString() => $"{Channels}×{Height}×{Width}";

    /// <summary>
    /// Parses "CxHxW" (all three, positive, at most <see cref="MaxChannels"/> channels and <see cref="MaxPixels"/> pixels);
    /// false for anything else, e.g. "1x16", whose meaning (C×side? H×W?) would be a guess.
    /// </summary>
    public static bool TryParse(string? text, out ImageShape shape)
    {
        shape = default;
        var parts = (text ?? "").ToLowerInvariant().Split('x', StringSplitOptions.TrimEntries);
        if (parts.Length != 3) return false;
        var v = new int[3];
        for (int i = 0; i < 3; i++)
            if (!int.TryParse(parts[i], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out v[i]) || v[i] <= 0) return false;
        if (v[0] > MaxChannels || (long)v[1] * v[2] > MaxPixels) return false;
        shape = new ImageShape(v[0], v[1], v[2]);
        return true;
    }
}
