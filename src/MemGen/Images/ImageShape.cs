namespace MemGen.Images;

/// <summary>The shape of one image: channels × height × width.</summary>
public readonly record struct ImageShape(int Channels, int Height, int Width)
{
    /// <summary>Values per image (C·H·W).</summary>
    public int Size => Channels * Height * Width;

    /// <inheritdoc/>
    public override string ToString() => $"{Channels}×{Height}×{Width}";
}
