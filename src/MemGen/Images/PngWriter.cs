using System.Buffers.Binary;
using System.IO.Compression;

namespace MemGen.Images;

/// <summary>CRC-32 (ISO-HDLC polynomial 0xEDB88320) as PNG chunks use it.</summary>
internal static class PngCrc
{
    private static readonly uint[] Table = BuildTable();

    public static uint Compute(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        uint crc = 0xFFFFFFFFu;
        foreach (byte x in a) crc = Table[(crc ^ x) & 0xFF] ^ (crc >> 8);
        foreach (byte x in b) crc = Table[(crc ^ x) & 0xFF] ^ (crc >> 8);
        return crc ^ 0xFFFFFFFFu;
    }

    private static uint[] BuildTable()
    {
        var t = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++) c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            t[n] = c;
        }
        return t;
    }
}

/// <summary>
/// Writes 8-bit PNG files (gray for 1 channel, RGB for 3, RGBA for 4) atomically: single images and image grids.
/// Values are mapped linearly from [lo, hi] (default [0,1]) to 0..255, clamped and rounded.
/// </summary>
public static class PngWriter
{
    internal static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Writes one C×H×W image (channel-planar, as in <see cref="ImageSet"/>) to <paramref name="path"/>.</summary>
    public static void WriteImage(string path, ReadOnlySpan<float> pixels, int channels, int height, int width, float lo = 0f, float hi = 1f)
    {
        var bytes = Encode(pixels, channels, height, width, lo, hi);
        AtomicFile.Write(path, s => s.Write(bytes));
    }

    /// <summary>Writes image <paramref name="index"/> of <paramref name="images"/>.</summary>
    public static void WriteImage(string path, ImageSet images, int index, float lo = 0f, float hi = 1f)
    {
        ArgumentNullException.ThrowIfNull(images);
        WriteImage(path, images.Image(index), images.Channels, images.Height, images.Width, lo, hi);
    }

    /// <summary>
    /// Writes the first <paramref name="maxImages"/> images of <paramref name="images"/> as a grid of
    /// <paramref name="columns"/> columns (see <see cref="ImageGrid.Compose"/> for labels and layout).
    /// </summary>
    public static void WriteGrid(string path, ImageSet images, int columns, IReadOnlyList<string>? rowLabels = null,
        int padding = 2, int zoom = 1, int maxImages = int.MaxValue, float lo = 0f, float hi = 1f)
    {
        ArgumentNullException.ThrowIfNull(images);
        int n = Math.Min(images.Count, maxImages);
        var list = new ReadOnlyMemory<float>[n];
        for (int i = 0; i < n; i++) list[i] = images.Pixels.AsMemory(i * images.ImageSize, images.ImageSize);
        WriteGrid(path, list, new ImageShape(images.Channels, images.Height, images.Width), columns, rowLabels, padding, zoom, lo, hi);
    }

    /// <summary>Writes <paramref name="images"/> (each of <paramref name="shape"/>) as a grid (see <see cref="ImageGrid.Compose"/>).</summary>
    public static void WriteGrid(string path, IReadOnlyList<ReadOnlyMemory<float>> images, ImageShape shape, int columns,
        IReadOnlyList<string>? rowLabels = null, int padding = 2, int zoom = 1, float lo = 0f, float hi = 1f)
    {
        var grid = ImageGrid.Compose(images, shape, columns, rowLabels, padding, zoom, lo, hi);
        WriteImage(path, grid.Pixels, grid.Channels, grid.Height, grid.Width);
    }

    /// <summary>The PNG file bytes of one C×H×W image.</summary>
    public static byte[] Encode(ReadOnlySpan<float> pixels, int channels, int height, int width, float lo = 0f, float hi = 1f)
    {
        if (channels is not (1 or 3 or 4)) throw new ArgumentException($"PNG images need 1, 3 or 4 channels, got {channels}.");
        if (height <= 0 || width <= 0) throw new ArgumentException($"PNG images need a positive size, got {height}×{width}.");
        if (pixels.Length != channels * height * width) throw new ArgumentException($"Pixel span has {pixels.Length} values, expected {channels}×{height}×{width}.");
        if (!(hi > lo)) throw new ArgumentException($"Value range [{lo}, {hi}] is empty.");
        int plane = height * width, stride = width * channels;
        var raw = new byte[height * (stride + 1)];
        float scale = 255f / (hi - lo);
        for (int y = 0; y < height; y++)
        {
            int rowStart = y * (stride + 1);
            raw[rowStart] = 0; // filter: none
            for (int x = 0; x < width; x++)
                for (int c = 0; c < channels; c++)
                {
                    float v = (pixels[c * plane + y * width + x] - lo) * scale;
                    raw[rowStart + 1 + x * channels + c] = float.IsNaN(v) ? (byte)0 : (byte)Math.Clamp(MathF.Round(v), 0f, 255f);
                }
        }
        using var file = new MemoryStream();
        file.Write(Signature);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = channels switch { 1 => 0, 3 => 2, _ => 6 };
        WriteChunk(file, "IHDR"u8, ihdr);
        using (var compressed = new MemoryStream())
        {
            using (var z = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true)) z.Write(raw);
            WriteChunk(file, "IDAT"u8, compressed.ToArray());
        }
        WriteChunk(file, "IEND"u8, []);
        return file.ToArray();
    }

    private static void WriteChunk(Stream s, ReadOnlySpan<byte> type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        s.Write(word);
        s.Write(type);
        s.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, PngCrc.Compute(type, data));
        s.Write(word);
    }
}
