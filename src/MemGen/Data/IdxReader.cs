using System.Buffers.Binary;
using MemGen.Images;
using MemGen.Machine;

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
    public static IdxArray Read(string path) => Parse(ReadChecked(path, imageLabels: false), path);

    /// <summary>Reads an (N, H, W) IDX image file into a one-channel image set, with labels from an optional (N) IDX file.</summary>
    public static ImageSet ReadImages(string imagesPath, string? labelsPath = null, Provenance? provenance = null)
    {
        var bytes = ReadChecked(imagesPath, imageLabels: labelsPath is not null);
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
        var set = new ImageSet(pixels, shape[0], 1, shape[1], shape[2], provenance ?? new Provenance($"idx:{imagesPath}", []), labels);
        if (type is 0x0D or 0x0E) set.RequireFinite(imagesPath);
        return set;
    }

    /// <summary>Parses an IDX array held in memory; <paramref name="name"/> names it in error messages.</summary>
    public static IdxArray Parse(byte[] bytes, string name)
    {
        var (type, shape, offset) = ParseHeader(bytes, name);
        return new IdxArray(Decode(bytes.AsSpan(offset), type), shape, type);
    }

    /// <summary>
    /// The file's bytes, read only after its header was checked: an array beyond .NET's limits or beyond the memory
    /// budget (the bytes, the float32 values and, for image files with labels, one int per image) is refused first.
    /// </summary>
    private static byte[] ReadChecked(string path, bool imageLabels) =>
        DataFile.ReadSized(path, "IDX", 4 + 4 * 255, head =>
        {
            var (_, shape, _, total) = ReadHeader(head, path);
            long count = MemoryBudget.Product([.. shape.Select(d => (long)d)]);
            MemoryBudget.Require(MemoryBudget.Sum(total, MemoryBudget.Product(count, sizeof(float)), imageLabels ? MemoryBudget.Product(shape[0], 8) : 0),
                $"{path} ({string.Join("×", shape)} IDX values)");
            return total;
        });

    private static (byte Type, int[] Shape, int Offset) ParseHeader(byte[] bytes, string name)
    {
        var (type, shape, offset, expected) = ReadHeader(bytes, name);
        if (bytes.Length != expected)
            throw new DataFormatException(bytes.Length < expected
                ? $"{name}: truncated IDX data ({bytes.Length} bytes, header {string.Join("×", shape)} needs {expected})."
                : $"{name}: IDX file has {bytes.Length - expected} trailing bytes after {string.Join("×", shape)} values.");
        return (type, shape, offset);
    }

    /// <summary>Parses the header at the start of <paramref name="bytes"/>; returns it and the length the whole file must have.</summary>
    private static (byte Type, int[] Shape, int Offset, long Total) ReadHeader(ReadOnlySpan<byte> bytes, string name)
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
            int d = BinaryPrimitives.ReadInt32BigEndian(bytes[(4 + 4 * i)..]);
            if (d < 0) throw new DataFormatException($"{name}: IDX dimension {i} is negative ({d}).");
            shape[i] = d;
            count *= d;
            if (count > Array.MaxLength) throw new DataFormatException($"{name}: IDX array too large ({string.Join("×", shape[..(i + 1)])}…).");
        }
        long expected = offset + count * ElementSize(type);
        if (expected > Array.MaxLength) throw new DataFormatException($"{name}: IDX array too large ({string.Join("×", shape)} values of {ElementSize(type)} bytes).");
        return (type, shape, offset, expected);
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
