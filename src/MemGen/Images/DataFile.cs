using System.IO.Compression;

namespace MemGen.Images;

/// <summary>Reads whole data files into memory, transparently un-gzipping, header first, with errors as <see cref="DataFormatException"/>.</summary>
internal static class DataFile
{
    /// <summary>
    /// Reads <paramref name="path"/> (decompressing gzip as it goes) in two stages, so a header that claims a huge array
    /// is refused before anything large is allocated or decompressed: <paramref name="totalLength"/> sees the first bytes
    /// (at most <paramref name="headerLimit"/>), checks the header (sizes, <see cref="Machine.MemoryBudget"/>) and returns
    /// the length the whole (decompressed) file must have; then exactly that many bytes are read. A file that is shorter
    /// or longer raises a <see cref="DataFormatException"/> naming <paramref name="format"/>.
    /// </summary>
    public static byte[] ReadSized(string path, string format, int headerLimit, Func<ReadOnlySpan<byte>, long> totalLength)
    {
        ArgumentNullException.ThrowIfNull(totalLength);
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            int b0 = file.ReadByte(), b1 = file.ReadByte();
            file.Position = 0;
            using Stream data = b0 == 0x1F && b1 == 0x8B ? new GZipStream(file, CompressionMode.Decompress) : file;
            var head = new byte[headerLimit];
            int headLength = ReadFully(data, head);
            long total = totalLength(head.AsSpan(0, headLength));
            if (total > Array.MaxLength) throw new DataFormatException($"{path}: {format} data of {total} bytes is too large to read.");
            if (headLength > total)
                throw new DataFormatException($"{path}: {format} file has trailing bytes after the data its header describes ({total} bytes).");
            var bytes = GC.AllocateUninitializedArray<byte>((int)total);
            head.AsSpan(0, headLength).CopyTo(bytes);
            int read = headLength + ReadFully(data, bytes.AsSpan(headLength));
            if (read < total)
                throw new DataFormatException($"{path}: truncated {format} data ({read} bytes, the header needs {total}).");
            long extra = 0;
            var scratch = new byte[1 << 16];
            for (int n; (n = data.Read(scratch)) > 0;) extra += n;
            if (extra > 0) throw new DataFormatException($"{path}: {format} file has {extra} trailing bytes after the data its header describes.");
            return bytes;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new DataFormatException(e is InvalidDataException
                ? $"{path}: corrupt or truncated gzip data ({OneLine(e.Message)})."
                : $"{path}: cannot read file ({OneLine(e.Message)}).", e);
        }
    }

    private static int ReadFully(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        for (int n; total < buffer.Length && (n = stream.Read(buffer[total..])) > 0;) total += n;
        return total;
    }

    /// <summary>A message collapsed onto one line.</summary>
    public static string OneLine(string message) => message.Replace('\r', ' ').Replace('\n', ' ').Trim().TrimEnd('.');
}
