using System.Buffers.Binary;
using MemGen.Images;

namespace MemGen.Data;

/// <summary>An IDX array (the MNIST / Fashion-MNIST format) as float values with its shape.</summary>
/// <param name="Values">The values in file order (row-major), unscaled.</param>
/// <param name="Shape">The dimensions, outermost first.</param>
/// <param name="TypeCode">The IDX type code (0x08 unsigned byte, 0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64).</param>
public sealed record IdxArray(float[] Values, int[] Shape, byte TypeCode);

/// <summary>
/// Reads IDX files (raw or gzip-compressed): magic 00 00 TYPE NDIM, NDIM big-endian int32 sizes, then the
/// big-endian values. Images are (N, H, W); unsigned-byte images are scaled to [0,1] by 1/255.
/// </summary>
public static class IdxReader
{
    /// <summary>Reads the IDX array in <paramref name="path"/>.</summary>
    /// <exception cref="DataFormatException">The file is missing, truncated, corrupt or of an unsupported type.</exception>
    public static IdxArray Read(string path) => Parse(DataFile.ReadAllBytes(path), path);

    /// <summary>Reads an (N, H, W) IDX image file into a one-channel image set, with labels from an optional (N) IDX file.</summary>
    public static ImageSet ReadImages(string imagesPath, string? labelsPath = null, Provenance? provenance = null)
    {
        var bytes = DataFile.ReadAllBytes(imagesPath);
        var (type, shape, offset) = ParseHeader(bytes, imagesPath);
        if (shape.Length != 3)
            throw new DataFormatException($"{imagesPath}: IDX images must have 3 dimensions (N,H,W), found {shape.Length}.");
        if (shape[1] == 0 || shape[2] == 0)
            throw new DataFormatException($"{imagesPath}: IDX images have an empty dimension ({string.Join("×", shape)}).");
        float[] pixels;
        if (type == 0x08)
        {
            pixels = new float[bytes.Length - offset];
            const int chunk = 1 << 20;
            Parallel.For(0, (pixels.Length + chunk - 1) / chunk, k =>
            {
                int start = k * chunk, length = Math.Min(chunk, pixels.Length - start);
                ScaleBytes(bytes.AsSpan(offset + start, length), pixels.AsSpan(start, length));
            });
        }
        else
        {
            pixels = Decode(bytes.AsSpan(offset), type);
        }
        int[]? labels = null;
        if (labelsPath is not null)
        {
            var l = Read(labelsPath);
            if (l.Shape.Length != 1 || l.Shape[0] != shape[0])
                throw new DataFormatException($"{labelsPath}: labels have shape ({string.Join(",", l.Shape)}), expected ({shape[0]}) to match {imagesPath}.");
            labels = Array.ConvertAll(l.Values, v => (int)v);
        }
        return new ImageSet(pixels, shape[0], 1, shape[1], shape[2], provenance ?? new Provenance($"idx:{imagesPath}", []), labels);
    }

    /// <summary>Parses an IDX array held in memory; <paramref name="name"/> names it in error messages.</summary>
    public static IdxArray Parse(byte[] bytes, string name)
    {
        var (type, shape, offset) = ParseHeader(bytes, name);
        return new IdxArray(Decode(bytes.AsSpan(offset), type), shape, type);
    }

    private static (byte Type, int[] Shape, int Offset) ParseHeader(byte[] bytes, string name)
    {
        if (bytes.Length < 4) throw new DataFormatException($"{name}: too short for an IDX header ({bytes.Length} bytes).");
        if (bytes[0] != 0 || bytes[1] != 0)
            throw new DataFormatException($"{name}: wrong IDX magic {bytes[0]:X2} {bytes[1]:X2} (expected 00 00).");
        byte type = bytes[2];
        int ndim = bytes[3];
        if (ElementSize(type) == 0) throw new DataFormatException($"{name}: unsupported IDX type code 0x{type:X2}.");
        if (ndim == 0) throw new DataFormatException($"{name}: IDX header declares 0 dimensions.");
        int offset = 4 + 4 * ndim;
        if (bytes.Length < offset) throw new DataFormatException($"{name}: truncated IDX header ({bytes.Length} bytes for {ndim} dimensions).");
        var shape = new int[ndim];
        long count = 1;
        for (int i = 0; i < ndim; i++)
        {
            int d = BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(4 + 4 * i));
            if (d < 0) throw new DataFormatException($"{name}: IDX dimension {i} is negative ({d}).");
            shape[i] = d;
            count *= d;
            if (count > Array.MaxLength) throw new DataFormatException($"{name}: IDX array too large ({string.Join("×", shape[..(i + 1)])}…).");
        }
        long expected = offset + count * ElementSize(type);
        if (bytes.Length != expected)
            throw new DataFormatException(bytes.Length < expected
                ? $"{name}: truncated IDX data ({bytes.Length} bytes, header {string.Join("×", shape)} needs {expected})."
                : $"{name}: IDX file has {bytes.Length - expected} trailing bytes after {string.Join("×", shape)} values.");
        return (type, shape, offset);
    }

    private static int ElementSize(byte type) => type switch
    {
        0x08 or 0x09 => 1,
        0x0B => 2,
        0x0C or 0x0D => 4,
        0x0E => 8,
        _ => 0,
    };

    private static float[] Decode(ReadOnlySpan<byte> data, byte type)
    {
        int size = ElementSize(type);
        var values = new float[data.Length / size];
        for (int i = 0; i < values.Length; i++)
        {
            var s = data.Slice(i * size, size);
            values[i] = type switch
            {
                0x08 => s[0],
                0x09 => (sbyte)s[0],
                0x0B => BinaryPrimitives.ReadInt16BigEndian(s),
                0x0C => BinaryPrimitives.ReadInt32BigEndian(s),
                0x0D => BinaryPrimitives.ReadSingleBigEndian(s),
                _ => (float)BinaryPrimitives.ReadDoubleBigEndian(s),
            };
        }
        return values;
    }

    private static readonly float[] ByteToUnit = Enumerable.Range(0, 256).Select(v => v / 255f).ToArray();

    /// <summary>destination[i] = source[i] / 255 (8-bit pixels to [0,1]).</summary>
    internal static void ScaleBytes(ReadOnlySpan<byte> source, Span<float> destination)
    {
        var table = ByteToUnit;
        for (int i = 0; i < source.Length; i++) destination[i] = table[source[i]];
    }
}
