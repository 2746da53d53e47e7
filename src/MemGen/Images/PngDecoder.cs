using System.Buffers.Binary;
using System.IO.Compression;

namespace MemGen.Images;

/// <summary>A decoded image: C×H×W float pixels in [0,1], channel-planar.</summary>
/// <param name="Pixels">The pixels.</param>
/// <param name="Shape">Channels, height, width.</param>
public sealed record DecodedImage(float[] Pixels, ImageShape Shape);

/// <summary>
/// Decodes PNG files: gray, gray+alpha, RGB, RGBA and palette images, bit depths 1–16, interlaced or not, with
/// every chunk's CRC checked. Gray (with or without alpha) becomes one channel; RGB, RGBA and palette become RGB.
/// Alpha is dropped (images are assumed opaque). 16-bit samples are scaled by 1/65535, 8-bit by 1/255, and
/// n-bit gray by 1/(2ⁿ−1).
/// </summary>
public static class PngDecoder
{
    /// <summary>Largest image accepted (pixels), so a corrupt header cannot demand gigabytes.</summary>
    public const int MaxPixels = 1 << 26;

    /// <summary>Decodes the PNG file at <paramref name="path"/>.</summary>
    /// <exception cref="DataFormatException">Missing, truncated or corrupt file, or an unsupported variant.</exception>
    public static DecodedImage Read(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new DataFormatException($"{path}: cannot read file ({DataFile.OneLine(e.Message)}).", e);
        }
        return Decode(bytes, path);
    }

    /// <summary>Decodes PNG bytes; <paramref name="name"/> names the file in error messages.</summary>
    public static DecodedImage Decode(ReadOnlySpan<byte> png, string name)
    {
        if (png.Length < 8 || !png[..8].SequenceEqual(PngWriter.Signature))
            throw new DataFormatException($"{name}: not a PNG file (wrong signature).");
        int pos = 8;
        int width = 0, height = 0, bitDepth = 0, colorType = 0, interlace = 0;
        bool haveHeader = false, ended = false;
        byte[]? palette = null;
        using var idat = new MemoryStream();
        while (!ended)
        {
            if (pos + 12 > png.Length) throw new DataFormatException($"{name}: truncated PNG (chunk header at byte {pos}, file has {png.Length}).");
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png[pos..]);
            if (length > int.MaxValue || pos + 12 + (long)length > png.Length)
                throw new DataFormatException($"{name}: truncated PNG (chunk at byte {pos} declares {length} bytes).");
            var type = png.Slice(pos + 4, 4);
            var data = png.Slice(pos + 8, (int)length);
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png[(pos + 8 + (int)length)..]);
            string typeName = System.Text.Encoding.ASCII.GetString(type);
            if (PngCrc.Compute(type, data) != crc) throw new DataFormatException($"{name}: corrupt PNG (CRC mismatch in chunk '{Printable(typeName)}' at byte {pos}).");
            pos += 12 + (int)length;
            switch (typeName)
            {
                case "IHDR":
                    if (haveHeader || length != 13) throw new DataFormatException($"{name}: invalid PNG IHDR chunk.");
                    width = BinaryPrimitives.ReadInt32BigEndian(data);
                    height = BinaryPrimitives.ReadInt32BigEndian(data[4..]);
                    bitDepth = data[8];
                    colorType = data[9];
                    interlace = data[12];
                    if (width <= 0 || height <= 0 || (long)width * height > MaxPixels)
                        throw new DataFormatException($"{name}: unsupported PNG size {width}×{height}.");
                    if (!ValidDepth(colorType, bitDepth))
                        throw new DataFormatException($"{name}: unsupported PNG color type {colorType} with bit depth {bitDepth}.");
                    if (data[10] != 0 || data[11] != 0 || interlace > 1)
                        throw new DataFormatException($"{name}: unsupported PNG compression/filter/interlace method ({data[10]}, {data[11]}, {interlace}).");
                    haveHeader = true;
                    break;
                case "PLTE":
                    if (length % 3 != 0 || length == 0 || length > 768) throw new DataFormatException($"{name}: invalid PNG palette ({length} bytes).");
                    palette = data.ToArray();
                    break;
                case "IDAT":
                    if (!haveHeader) throw new DataFormatException($"{name}: PNG IDAT before IHDR.");
                    idat.Write(data);
                    break;
                case "IEND":
                    ended = true;
                    break;
                default:
                    if ((type[0] & 0x20) == 0 && typeName != "IHDR")
                        throw new DataFormatException($"{name}: unknown critical PNG chunk '{Printable(typeName)}'.");
                    break; // ancillary chunks (tRNS, gAMA, tEXt, ...) are ignored
            }
        }
        if (!haveHeader) throw new DataFormatException($"{name}: PNG has no IHDR chunk.");
        if (colorType == 3 && palette is null) throw new DataFormatException($"{name}: palette PNG without a PLTE chunk.");
        int samplesPerPixel = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        var passes = Passes(width, height, interlace);
        long expected = 0;
        foreach (var p in passes)
            if (p.W > 0 && p.H > 0) expected += (long)p.H * (1 + RowBytes(p.W, samplesPerPixel, bitDepth));
        var raw = Inflate(idat, expected, name);
        int channels = colorType is 0 or 4 ? 1 : 3;
        var pixels = new float[channels * width * height];
        int bpp = Math.Max(1, samplesPerPixel * bitDepth / 8);
        int offset = 0;
        foreach (var p in passes)
        {
            if (p.W == 0 || p.H == 0) continue;
            int stride = RowBytes(p.W, samplesPerPixel, bitDepth);
            var previous = new byte[stride];
            var current = new byte[stride];
            for (int y = 0; y < p.H; y++)
            {
                byte filter = raw[offset];
                raw.AsSpan(offset + 1, stride).CopyTo(current);
                offset += 1 + stride;
                Unfilter(filter, current, previous, bpp, name);
                int outY = p.Y0 + y * p.DY;
                for (int x = 0; x < p.W; x++)
                    StorePixel(current, x, p.X0 + x * p.DX, outY, width, height, colorType, bitDepth, samplesPerPixel, palette, pixels, name);
                (previous, current) = (current, previous);
            }
        }
        return new DecodedImage(pixels, new ImageShape(channels, height, width));
    }

    private static string Printable(string s) => new(s.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());

    private static bool ValidDepth(int colorType, int depth) => colorType switch
    {
        0 => depth is 1 or 2 or 4 or 8 or 16,
        3 => depth is 1 or 2 or 4 or 8,
        2 or 4 or 6 => depth is 8 or 16,
        _ => false,
    };

    private static int RowBytes(int w, int samples, int depth) => (int)(((long)w * samples * depth + 7) / 8);

    private readonly record struct Pass(int X0, int Y0, int DX, int DY, int W, int H);

    private static Pass[] Passes(int width, int height, int interlace)
    {
        if (interlace == 0) return [new Pass(0, 0, 1, 1, width, height)];
        int[] x0 = [0, 4, 0, 2, 0, 1, 0], y0 = [0, 0, 4, 0, 2, 0, 1], dx = [8, 8, 4, 4, 2, 2, 1], dy = [8, 8, 8, 4, 4, 2, 2];
        var passes = new Pass[7];
        for (int i = 0; i < 7; i++)
            passes[i] = new Pass(x0[i], y0[i], dx[i], dy[i], (width - x0[i] + dx[i] - 1) / dx[i], (height - y0[i] + dy[i] - 1) / dy[i]);
        return passes;
    }

    private static byte[] Inflate(MemoryStream idat, long expected, string name)
    {
        if (expected > Array.MaxLength) throw new DataFormatException($"{name}: PNG too large.");
        // Grow the buffer as data arrives, so a corrupt header cannot make us allocate more than the data holds.
        using var raw = new MemoryStream((int)Math.Min(expected, 1 << 20));
        try
        {
            idat.Position = 0;
            using var z = new ZLibStream(idat, CompressionMode.Decompress, leaveOpen: true);
            var buffer = new byte[1 << 16];
            while (raw.Length < expected)
            {
                int r = z.Read(buffer, 0, (int)Math.Min(buffer.Length, expected - raw.Length));
                if (r == 0) break;
                raw.Write(buffer, 0, r);
            }
        }
        catch (Exception e) when (e is InvalidDataException or IOException)
        {
            throw new DataFormatException($"{name}: corrupt PNG image data ({DataFile.OneLine(e.Message)}).", e);
        }
        if (raw.Length < expected) throw new DataFormatException($"{name}: truncated PNG image data ({raw.Length} of {expected} bytes).");
        return raw.Length == raw.Capacity ? raw.GetBuffer() : raw.ToArray();
    }

    private static void Unfilter(byte filter, Span<byte> cur, ReadOnlySpan<byte> prev, int bpp, string name)
    {
        switch (filter)
        {
            case 0: break;
            case 1:
                for (int i = bpp; i < cur.Length; i++) cur[i] += cur[i - bpp];
                break;
            case 2:
                for (int i = 0; i < cur.Length; i++) cur[i] += prev[i];
                break;
            case 3:
                for (int i = 0; i < cur.Length; i++) cur[i] += (byte)(((i >= bpp ? cur[i - bpp] : 0) + prev[i]) >> 1);
                break;
            case 4:
                for (int i = 0; i < cur.Length; i++)
                {
                    int a = i >= bpp ? cur[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    cur[i] += (byte)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
                }
                break;
            default:
                throw new DataFormatException($"{name}: corrupt PNG (unknown row filter {filter}).");
        }
    }

    private static int Sample(ReadOnlySpan<byte> row, int index, int depth) => depth switch
    {
        8 => row[index],
        16 => (row[2 * index] << 8) | row[2 * index + 1],
        _ => (row[index * depth / 8] >> (8 - depth - index * depth % 8)) & ((1 << depth) - 1),
    };

    private static void StorePixel(ReadOnlySpan<byte> row, int x, int outX, int outY, int width, int height, int colorType, int depth,
        int samples, byte[]? palette, float[] pixels, string name)
    {
        int plane = width * height, at = outY * width + outX;
        if (colorType == 3)
        {
            int index = Sample(row, x, depth);
            if (3 * index + 2 >= palette!.Length) throw new DataFormatException($"{name}: corrupt PNG (palette index {index} outside {palette.Length / 3} entries).");
            for (int c = 0; c < 3; c++) pixels[c * plane + at] = palette[3 * index + c] / 255f;
            return;
        }
        float max = (1 << depth) - 1;
        int colors = colorType is 0 or 4 ? 1 : 3;
        for (int c = 0; c < colors; c++) pixels[c * plane + at] = Sample(row, x * samples + c, depth) / max;
    }
}
