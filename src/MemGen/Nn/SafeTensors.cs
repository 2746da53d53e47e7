using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>A float32 tensor read from a safetensors file.</summary>
/// <param name="Name">Its name in the file.</param>
/// <param name="Shape">Its dimensions (empty for a scalar).</param>
/// <param name="Values">Its elements, row-major.</param>
public sealed record StoredTensor(string Name, int[] Shape, float[] Values)
{
    /// <summary>The shape as "a,b,c".</summary>
    public string ShapeString => string.Join(",", Shape);
}

/// <summary>The metadata and tensors of a safetensors file, in file order.</summary>
/// <param name="Path">The file read.</param>
/// <param name="Metadata">The <c>__metadata__</c> string map (without the checksum entry).</param>
/// <param name="Tensors">The tensors.</param>
public sealed record SafeTensorsContent(string Path, IReadOnlyDictionary<string, string> Metadata, IReadOnlyList<StoredTensor> Tensors)
{
    /// <summary>The tensor named <paramref name="name"/>, or null.</summary>
    public StoredTensor? Find(string name) => Tensors.FirstOrDefault(t => t.Name == name);

    /// <summary>A metadata value, or a <see cref="CheckpointException"/> naming the missing key.</summary>
    public string Require(string key) =>
        Metadata.TryGetValue(key, out var v) ? v : throw new CheckpointException(Path, null, $"metadata key '{key}' is missing.");

    /// <summary>A metadata value parsed as an integer, or a <see cref="CheckpointException"/> naming the key.</summary>
    public long RequireLong(string key) =>
        long.TryParse(Require(key), NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v : throw new CheckpointException(Path, null, $"metadata key '{key}' is not an integer: '{Metadata[key]}'.");

    /// <summary>A metadata value parsed as a double (round-trip format), or a <see cref="CheckpointException"/>.</summary>
    public double RequireDouble(string key) =>
        double.TryParse(Require(key), NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v : throw new CheckpointException(Path, null, $"metadata key '{key}' is not a number: '{Metadata[key]}'.");
}

/// <summary>
/// Reads and writes the safetensors format (as the Python <c>safetensors</c> package does): an 8-byte
/// little-endian header length N, N bytes of JSON header padded with spaces to a multiple of 8, then the
/// raw little-endian tensor data; each header entry has <c>dtype</c>, <c>shape</c> and <c>data_offsets</c>
/// [begin, end) relative to the data section, and the offsets tile the data section without gaps.
/// Only F32 tensors are supported. MemGen adds a SHA-256 checksum (of the metadata, the tensor
/// descriptions and the data) as the metadata entry <see cref="ChecksumKey"/>, so any corruption is detected.
/// </summary>
public static class SafeTensors
{
    /// <summary>Metadata key holding MemGen's checksum.</summary>
    public const string ChecksumKey = "memgen.sha256";

    /// <summary>Largest header accepted (the Python package's limit).</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>Writes <paramref name="tensors"/> (plain or blocked; stored row-major) and <paramref name="metadata"/> atomically to <paramref name="path"/>.</summary>
    public static void Save(string path, IReadOnlyList<(string Name, Tensor Value)> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        ArgumentNullException.ThrowIfNull(metadata);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _) in tensors)
        {
            if (string.IsNullOrEmpty(name) || name == "__metadata__") throw new ArgumentException($"Invalid tensor name '{name}'.");
            if (!names.Add(name)) throw new ArgumentException($"Duplicate tensor name '{name}'.");
        }
        if (metadata.ContainsKey(ChecksumKey)) throw new ArgumentException($"Metadata key '{ChecksumKey}' is reserved.");

        foreach (var (name, value) in tensors)
            if (value.Layout != TensorLayout.Nchw) throw new ArgumentException($"Tensor '{name}' is stored in the {value.Layout} layout; safetensors holds plain row-major tensors.");
        // Device tensors (parameters trained on a GPU) are copied to the host here: checkpoints are identical whichever backend wrote them.
        var plain = tensors.Select(t => (t.Name, Value: t.Value.IsHost ? t.Value : Tensor.FromArray(t.Value.ToArray(), t.Value.Shape.ToArray()))).ToArray();
        var entries = new List<TensorEntry>(plain.Length);
        long offset = 0;
        foreach (var (name, value) in plain)
        {
            long bytes = (long)value.Length * sizeof(float);
            entries.Add(new TensorEntry(name, value.Shape.ToArray(), offset, offset + bytes));
            offset += bytes;
        }
        var checksum = Checksum(metadata, entries, plain.Select(p => p.Value.Data));
        var header = BuildHeader(metadata, checksum, entries);
        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            stream.Write(header);
            foreach (var (_, value) in plain) stream.Write(LittleEndianBytes(value.Data));
        });
    }

    /// <summary>Reads the whole file, validating the layout (and the checksum when present or <paramref name="requireChecksum"/>).</summary>
    public static SafeTensorsContent Read(string path, bool requireChecksum = true)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, null, $"cannot be read: {e.Message}", e);
        }
        var (headerLength, metadata, checksum, entries) = ParseHeader(path, bytes, bytes.LongLength);
        long dataStart = 8 + headerLength;
        long dataLength = bytes.LongLength - dataStart;
        ValidateOffsets(path, entries, dataLength);

        var tensors = new List<StoredTensor>(entries.Count);
        foreach (var e in entries)
        {
            var values = new float[(e.End - e.Begin) / sizeof(float)];
            var source = bytes.AsSpan((int)(dataStart + e.Begin), (int)(e.End - e.Begin));
            var target = MemoryMarshal.AsBytes(values.AsSpan());
            source.CopyTo(target);
            if (!BitConverter.IsLittleEndian)
            {
                var ints = MemoryMarshal.Cast<float, int>(values.AsSpan());
                BinaryPrimitives.ReverseEndianness(ints, ints);
            }
            tensors.Add(new StoredTensor(e.Name, e.Shape, values));
        }

        if (checksum is null)
        {
            if (requireChecksum) throw new CheckpointException(path, null, $"metadata has no '{ChecksumKey}' checksum; not a MemGen file or the header is corrupt.");
        }
        else
        {
            var inFileOrder = entries.Zip(tensors).OrderBy(p => p.First.Begin).Select(p => p.Second.Values);
            var actual = Checksum(metadata, entries, inFileOrder);
            if (!string.Equals(actual, checksum, StringComparison.Ordinal))
                throw new CheckpointException(path, null, "checksum mismatch: the file is corrupt.");
        }
        return new SafeTensorsContent(path, metadata, tensors);
    }

    /// <summary>Reads only the header's metadata (cheap: the tensor data is not read or verified).</summary>
    public static IReadOnlyDictionary<string, string> ReadMetadata(string path)
    {
        try
        {
            using var stream = File.OpenRead(path);
            long fileLength = stream.Length;
            var lengthBytes = new byte[8];
            int got = stream.ReadAtLeast(lengthBytes, 8, throwOnEndOfStream: false);
            if (got < 8) throw new CheckpointException(path, null, $"truncated: {fileLength} bytes, shorter than the 8-byte header length.");
            long headerLength = HeaderLength(path, lengthBytes, fileLength);
            var prefix = new byte[8 + headerLength];
            lengthBytes.CopyTo(prefix, 0);
            stream.ReadExactly(prefix, 8, (int)headerLength);
            return ParseHeader(path, prefix, fileLength).Metadata;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, null, $"cannot be read: {e.Message}", e);
        }
    }

    private sealed record TensorEntry(string Name, int[] Shape, long Begin, long End);

    private static long HeaderLength(string path, ReadOnlySpan<byte> bytes, long fileLength)
    {
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        if (n > MaxHeaderBytes) throw new CheckpointException(path, null, $"corrupt: header length {n} exceeds the {MaxHeaderBytes}-byte limit.");
        if (8 + (long)n > fileLength) throw new CheckpointException(path, null, $"truncated: header length {n} runs past the end of the {fileLength}-byte file.");
        return (long)n;
    }

    private static (long HeaderLength, Dictionary<string, string> Metadata, string? Checksum, List<TensorEntry> Entries) ParseHeader(
        string path, byte[] bytes, long fileLength)
    {
        if (bytes.Length < 8) throw new CheckpointException(path, null, $"truncated: {fileLength} bytes, shorter than the 8-byte header length.");
        long headerLength = HeaderLength(path, bytes, fileLength);
        var headerBytes = bytes.AsSpan(8, (int)headerLength);
        if (headerBytes.Length == 0 || headerBytes[0] != (byte)'{')
            throw new CheckpointException(path, null, "corrupt: the header does not start with '{'.");

        JsonDocument document;
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(headerBytes);
            document = JsonDocument.Parse(text);
        }
        catch (Exception e) when (e is JsonException or ArgumentException)
        {
            throw new CheckpointException(path, null, $"corrupt: the header is not valid UTF-8 JSON ({e.Message}).", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
                throw new CheckpointException(path, null, "corrupt: the header is not a JSON object.");
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            string? checksum = null;
            var entries = new List<TensorEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new CheckpointException(path, property.Name, "corrupt: the name appears twice in the header.");
                if (property.Name == "__metadata__")
                {
                    if (property.Value.ValueKind != JsonValueKind.Object)
                        throw new CheckpointException(path, null, "corrupt: __metadata__ is not an object.");
                    foreach (var item in property.Value.EnumerateObject())
                    {
                        if (item.Value.ValueKind != JsonValueKind.String)
                            throw new CheckpointException(path, null, $"corrupt: metadata value '{item.Name}' is not a string.");
                        if (item.Name == ChecksumKey) checksum = item.Value.GetString();
                        else if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                            throw new CheckpointException(path, null, $"corrupt: metadata key '{item.Name}' appears twice.");
                    }
                    continue;
                }
                entries.Add(ParseEntry(path, property));
            }
            return (headerLength, metadata, checksum, entries);
        }
    }

    private static TensorEntry ParseEntry(string path, JsonProperty property)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object) throw new CheckpointException(path, name, "corrupt: the header entry is not an object.");
        if (!value.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String)
            throw new CheckpointException(path, name, "corrupt: no dtype.");
        if (dtype.GetString() != "F32")
            throw new CheckpointException(path, name, $"dtype {dtype.GetString()} is not supported (only F32).");
        if (!value.TryGetProperty("shape", out var shapeElement) || shapeElement.ValueKind != JsonValueKind.Array)
            throw new CheckpointException(path, name, "corrupt: no shape.");
        var shape = new List<int>();
        long count = 1;
        foreach (var d in shapeElement.EnumerateArray())
        {
            if (d.ValueKind != JsonValueKind.Number || !d.TryGetInt32(out var dim) || dim < 0)
                throw new CheckpointException(path, name, $"corrupt: invalid shape {shapeElement.GetRawText()}.");
            shape.Add(dim);
            count *= dim;
            if (count > int.MaxValue) throw new CheckpointException(path, name, $"corrupt: shape {shapeElement.GetRawText()} is too large.");
        }
        if (!value.TryGetProperty("data_offsets", out var offsets) || offsets.ValueKind != JsonValueKind.Array || offsets.GetArrayLength() != 2)
            throw new CheckpointException(path, name, "corrupt: data_offsets is not a pair.");
        if (!offsets[0].TryGetInt64(out var begin) || !offsets[1].TryGetInt64(out var end) || begin < 0 || end < begin)
            throw new CheckpointException(path, name, $"corrupt: invalid data_offsets {offsets.GetRawText()}.");
        if (end - begin != count * sizeof(float))
            throw new CheckpointException(path, name, $"corrupt: data_offsets {offsets.GetRawText()} span {end - begin} bytes, shape [{string.Join(",", shape)}] needs {count * sizeof(float)}.");
        foreach (var p in value.EnumerateObject())
            if (p.Name is not ("dtype" or "shape" or "data_offsets"))
                throw new CheckpointException(path, name, $"corrupt: unknown header field '{p.Name}'.");
        return new TensorEntry(name, shape.ToArray(), begin, end);
    }

    private static void ValidateOffsets(string path, List<TensorEntry> entries, long dataLength)
    {
        long expected = 0;
        foreach (var e in entries.OrderBy(e => e.Begin).ThenBy(e => e.End))
        {
            if (e.Begin != expected)
                throw new CheckpointException(path, e.Name, $"corrupt: data starts at byte {e.Begin}, expected {expected} (tensor data must be contiguous).");
            if (e.End > dataLength)
                throw new CheckpointException(path, e.Name, $"truncated: data ends at byte {e.End} of a {dataLength}-byte data section.");
            expected = e.End;
        }
        if (expected != dataLength)
            throw new CheckpointException(path, null, $"corrupt: the data section has {dataLength} bytes but the tensors cover {expected}.");
    }

    private static byte[] BuildHeader(IReadOnlyDictionary<string, string> metadata, string checksum, List<TensorEntry> entries)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = false }))
        {
            json.WriteStartObject();
            json.WriteStartObject("__metadata__");
            foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) json.WriteString(key, value);
            json.WriteString(ChecksumKey, checksum);
            json.WriteEndObject();
            foreach (var e in entries)
            {
                json.WriteStartObject(e.Name);
                json.WriteString("dtype", "F32");
                json.WriteStartArray("shape");
                foreach (var d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(e.Begin);
                json.WriteNumberValue(e.End);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Pad with spaces so the data section starts 8-byte aligned (the Python package does the same).
        while (buffer.Length % 8 != 0) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static string Checksum(IReadOnlyDictionary<string, string> metadata, IEnumerable<TensorEntry> entries, IEnumerable<float[]> data)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var text = new StringBuilder();
        foreach (var (key, value) in metadata.OrderBy(kv => kv.Key, StringComparer.Ordinal)) text.Append(key).Append('\0').Append(value).Append('\0');
        text.Append('\u0001');
        foreach (var e in entries.OrderBy(e => e.Begin))
            text.Append(e.Name).Append('\0').Append(string.Join(",", e.Shape)).Append('\0').Append(e.Begin).Append(',').Append(e.End).Append('\0');
        hash.AppendData(Encoding.UTF8.GetBytes(text.ToString()));
        foreach (var values in data) hash.AppendData(LittleEndianBytes(values));
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static ReadOnlySpan<byte> LittleEndianBytes(float[] values)
    {
        if (BitConverter.IsLittleEndian) return MemoryMarshal.AsBytes(values.AsSpan());
        var copy = values.ToArray();
        var ints = MemoryMarshal.Cast<float, int>(copy.AsSpan());
        BinaryPrimitives.ReverseEndianness(ints, ints);
        return MemoryMarshal.AsBytes(copy.AsSpan());
    }
}
