using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using MemGen.Machine;

namespace MemGen.Images;

/// <summary>A NumPy array read from a <c>.npy</c> file, as float values (unscaled) with its shape and dtype.</summary>
/// <param name="Values">Values in C (row-major) order.</param>
/// <param name="Shape">The dimensions, outermost first.</param>
/// <param name="Dtype">The NumPy dtype string, e.g. <c>|u1</c>, <c>&lt;f4</c>, <c>&lt;f8</c>.</param>
public sealed record NpyArray(float[] Values, int[] Shape, string Dtype);

/// <summary>
/// Reads NumPy <c>.npy</c> files (format versions 1–3, C order) of dtype uint8, float32 or float64
/// (either byte order), and turns (N,H,W), (N,C,H,W) or (N,H,W,C) arrays into image sets.
/// </summary>
public static partial class NpyReader
{
    internal static ReadOnlySpan<byte> Magic => [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y'];

    /// <summary>Reads the array in <paramref name="path"/>.</summary>
    /// <exception cref="DataFormatException">Missing, truncated or corrupt file, or unsupported dtype / order.</exception>
    public static NpyArray Read(string path) => Parse(DataFile.ReadSized(path, ".npy", 12 + MaxHeaderLength, head =>
    {
        // Refused before the data is read: the bytes, the float32 values and a channels-last copy.
        var (_, _, shape, _, total) = ReadHeader(head, path);
        long count = MemoryBudget.Product([.. shape.Select(d => (long)d)]);
        MemoryBudget.Require(MemoryBudget.Sum(total, MemoryBudget.Product(count, 2 * sizeof(float))), $"{path} (a .npy array of shape ({string.Join(",", shape)}))");
        return total;
    }), path);

    /// <summary>
    /// Reads an image array: (N,H,W) is one channel; (N,C,H,W) when dim 1 is 1, 3 or 4; (N,H,W,C) when the
    /// last dim is 1, 3 or 4 and dim 1 is not. uint8 is scaled to [0,1] by 1/255; floats are kept as they are.
    /// </summary>
    public static ImageSet ReadImages(string path, Provenance? provenance = null)
    {
        var a = Read(path);
        return ToImageSet(a, path, provenance ?? new Provenance($"npy:{path}", []));
    }

    /// <summary>Interprets <paramref name="array"/> as images (see <see cref="ReadImages"/>).</summary>
    public static ImageSet ToImageSet(NpyArray array, string name, Provenance provenance)
    {
        var s = array.Shape;
        static bool IsChannels(int c) => c is 1 or 3 or 4;
        int n, c, h, w;
        bool channelsLast = false;
        switch (s.Length)
        {
            case 3: (n, c, h, w) = (s[0], 1, s[1], s[2]); break;
            case 4 when IsChannels(s[1]): (n, c, h, w) = (s[0], s[1], s[2], s[3]); break;
            case 4 when IsChannels(s[3]): (n, c, h, w, channelsLast) = (s[0], s[3], s[1], s[2], true); break;
            case 4: throw new DataFormatException($"{name}: cannot tell the channel axis of shape ({string.Join(",", s)}): expected 1, 3 or 4 channels in axis 1 or 3.");
            default: throw new DataFormatException($"{name}: image arrays must have shape (N,H,W), (N,C,H,W) or (N,H,W,C), found ({string.Join(",", s)}).");
        }
        if (h == 0 || w == 0) throw new DataFormatException($"{name}: image arrays have an empty dimension ({string.Join(",", s)}).");
        var values = array.Values;
        if (array.Dtype.EndsWith("u1", StringComparison.Ordinal))
        {
            // Values are 0..255 exactly; same scaling as IDX bytes (v / 255).
            for (int i = 0; i < values.Length; i++) values[i] /= 255f;
        }
        if (channelsLast) values = ChannelsLastToFirst(values, n, h, w, c);
        var set = new ImageSet(values, n, c, h, w, provenance);
        if (!array.Dtype.EndsWith("u1", StringComparison.Ordinal)) set.RequireFinite(name);
        return set;
    }

    /// <summary>Largest .npy header dictionary accepted.</summary>
    private const int MaxHeaderLength = 1 << 20;

    /// <summary>Parses a <c>.npy</c> file held in memory; <paramref name="name"/> names it in error messages.</summary>
    public static NpyArray Parse(byte[] bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        var (dtype, size, shape, offset, expected) = ReadHeader(bytes, name);
        long count = (expected - offset) / size;
        if (bytes.Length != expected)
            throw new DataFormatException(bytes.Length < expected
                ? $"{name}: truncated .npy data ({bytes.Length} bytes, shape ({string.Join(",", shape)}) {dtype} needs {expected})."
                : $"{name}: .npy file has {bytes.Length - expected} trailing bytes after the data.");
        var values = new float[count];
        var data = bytes.AsSpan(offset);
        bool big = dtype[0] == '>';
        switch (size)
        {
            case 1:
                for (int i = 0; i < values.Length; i++) values[i] = data[i];
                break;
            case 4:
                MemoryMarshal.Cast<byte, float>(data).CopyTo(values);
                if (big != !BitConverter.IsLittleEndian)
                {
                    var ints = MemoryMarshal.Cast<float, int>(values.AsSpan());
                    BinaryPrimitives.ReverseEndianness(ints, ints);
                }
                break;
            default:
                for (int i = 0; i < values.Length; i++)
                    values[i] = (float)(big ? BinaryPrimitives.ReadDoubleBigEndian(data[(8 * i)..]) : BinaryPrimitives.ReadDoubleLittleEndian(data[(8 * i)..]));
                break;
        }
        return new NpyArray(values, shape, dtype);
    }

    [GeneratedRegex(@"['""]descr['""]\s*:\s*['""]([^'""]*)['""]")]
    private static partial Regex DescrPattern();

    [GeneratedRegex(@"['""]fortran_order['""]\s*:\s*(True|False)")]
    private static partial Regex FortranPattern();

    [GeneratedRegex(@"['""]shape['""]\s*:\s*\(([^)]*)\)")]
    private static partial Regex ShapePattern();

    /// <summary>Parses the header at the start of <paramref name="bytes"/>; returns the dtype, element size, shape, data offset and the file's whole length.</summary>
    private static (string Dtype, int Size, int[] Shape, int Offset, long Total) ReadHeader(ReadOnlySpan<byte> bytes, string name)
    {
        if (bytes.Length < 10 || !bytes[..6].SequenceEqual(Magic))
            throw new DataFormatException($"{name}: not a .npy file (wrong magic).");
        int major = bytes[6];
        int headerLength, headerStart;
        switch (major)
        {
            case 1: headerLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes[8..]); headerStart = 10; break;
            case 2 or 3:
                if (bytes.Length < 12) throw new DataFormatException($"{name}: truncated .npy header.");
                uint len = BinaryPrimitives.ReadUInt32LittleEndian(bytes[8..]);
                if (len > MaxHeaderLength) throw new DataFormatException($"{name}: .npy header length {len} is invalid (at most {MaxHeaderLength}).");
                headerLength = (int)len;
                headerStart = 12;
                break;
            default: throw new DataFormatException($"{name}: unsupported .npy format version {major}.{bytes[7]}.");
        }
        if ((long)headerStart + headerLength > bytes.Length)
            throw new DataFormatException($"{name}: truncated .npy header ({bytes.Length} bytes, header needs {headerStart + (long)headerLength}).");
        string header = Encoding.Latin1.GetString(bytes.Slice(headerStart, headerLength));
        var descr = DescrPattern().Match(header);
        var fortran = FortranPattern().Match(header);
        var shapeMatch = ShapePattern().Match(header);
        if (!descr.Success || !fortran.Success || !shapeMatch.Success)
            throw new DataFormatException($"{name}: malformed .npy header dictionary.");
        if (fortran.Groups[1].Value == "True")
            throw new DataFormatException($"{name}: Fortran-order .npy arrays are not supported (save with C order).");
        string dtype = descr.Groups[1].Value;
        int size = dtype switch
        {
            "|u1" or "<u1" or ">u1" or "u1" => 1,
            "<f4" or ">f4" => 4,
            "<f8" or ">f8" => 8,
            _ => 0,
        };
        if (size == 0) throw new DataFormatException($"{name}: unsupported .npy dtype '{dtype}' (supported: uint8, float32, float64).");
        var parts = shapeMatch.Groups[1].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[parts.Length];
        long count = 1;
        for (int i = 0; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out shape[i]))
                throw new DataFormatException($"{name}: invalid .npy shape entry '{parts[i]}'.");
            count *= shape[i];
            if (count > Array.MaxLength) throw new DataFormatException($"{name}: .npy array too large.");
        }
        int offset = headerStart + headerLength;
        long expected = offset + count * size;
        if (expected > Array.MaxLength) throw new DataFormatException($"{name}: .npy array too large ({string.Join(",", shape)} values of {size} bytes).");
        return (dtype, size, shape, offset, expected);
    }

    /// <summary>(N,H,W,C) values to (N,C,H,W).</summary>
    internal static float[] ChannelsLastToFirst(float[] values, int count, int height, int width, int channels)
    {
        ArgumentNullException.ThrowIfNull(values);
        var result = new float[values.Length];
        int plane = height * width, size = plane * channels;
        for (int n = 0; n < count; n++)
            for (int p = 0; p < plane; p++)
                for (int c = 0; c < channels; c++)
                    result[n * size + c * plane + p] = values[n * size + p * channels + c];
        return result;
    }
}

/// <summary>Writes NumPy <c>.npy</c> files (format 1.0, little-endian, C order) atomically.</summary>
public static class NpyWriter
{
    /// <summary>Writes <paramref name="data"/> as a float32 array of <paramref name="shape"/>.</summary>
    public static void Write(string path, float[] data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckShape(data.Length, shape);
        var header = Header("<f4", shape);
        AtomicFile.Write(path, s =>
        {
            s.Write(header);
            s.Write(MemoryMarshal.AsBytes(data.AsSpan()));
        });
    }

    /// <summary>Writes <paramref name="data"/> as a float64 array of <paramref name="shape"/>.</summary>
    public static void Write(string path, double[] data, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        CheckShape(data.Length, shape);
        var header = Header("<f8", shape);
        AtomicFile.Write(path, s =>
        {
            s.Write(header);
            s.Write(MemoryMarshal.AsBytes(data.AsSpan()));
        });
    }

    /// <summary>Writes the pixels of <paramref name="images"/> as a float32 (N, C, H, W) array.</summary>
    public static void Write(string path, ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        Write(path, images.Pixels, [images.Count, images.Channels, images.Height, images.Width]);
    }

    private static void CheckShape(int length, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (int d in shape)
        {
            if (d < 0) throw new ArgumentException($"Negative dimension in shape ({string.Join(",", shape)}).");
            count *= d;
        }
        if (count != length) throw new ArgumentException($"Shape ({string.Join(",", shape)}) has {count} elements, data has {length}.");
    }

    private static byte[] Header(string dtype, int[] shape)
    {
        string dims = shape.Length == 1 ? $"{shape[0]}," : string.Join(", ", shape);
        string dict = $"{{'descr': '{dtype}', 'fortran_order': False, 'shape': ({dims}), }}";
        int total = 10 + dict.Length + 1;
        int padded = (total + 63) / 64 * 64;
        dict = dict + new string(' ', padded - total) + "\n";
        var bytes = new byte[10 + dict.Length];
        NpyReader.Magic.CopyTo(bytes);
        bytes[6] = 1;
        bytes[7] = 0;
        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)dict.Length);
        Encoding.ASCII.GetBytes(dict, bytes.AsSpan(10));
        return bytes;
    }
}
