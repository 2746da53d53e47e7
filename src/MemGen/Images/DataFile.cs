using System.IO.Compression;

namespace MemGen.Images;

/// <summary>Reads whole data files into memory, transparently un-gzipping, with errors as <see cref="DataFormatException"/>.</summary>
internal static class DataFile
{
    /// <summary>The bytes of <paramref name="path"/>, decompressed if it starts with the gzip magic (1F 8B).</summary>
    public static byte[] ReadAllBytes(string path)
    {
        byte[] raw;
        try
        {
            raw = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new DataFormatException($"{path}: cannot read file ({OneLine(e.Message)}).", e);
        }
        if (raw.Length < 2 || raw[0] != 0x1F || raw[1] != 0x8B) return raw;
        try
        {
            // ISIZE (last 4 bytes, little-endian) is the uncompressed size mod 2^32: a good capacity hint.
            // Deflate cannot expand more than ~1032:1, which bounds the hint if the trailer is corrupt.
            long hint = raw.Length >= 18 ? BitConverter.ToUInt32(raw, raw.Length - 4) : 0;
            long bound = Math.Min(1L << 30, raw.Length * 1032L + 1024);
            using var output = new MemoryStream((int)(hint > 0 && hint <= bound ? hint : Math.Min(bound, raw.Length * 4L)));
            using (var gz = new GZipStream(new MemoryStream(raw, writable: false), CompressionMode.Decompress))
                gz.CopyTo(output);
            return output.Length == output.Capacity ? output.GetBuffer() : output.ToArray();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or EndOfStreamException)
        {
            throw new DataFormatException($"{path}: corrupt or truncated gzip data ({OneLine(e.Message)}).", e);
        }
    }

    /// <summary>A message collapsed onto one line.</summary>
    public static string OneLine(string message) => message.Replace('\r', ' ').Replace('\n', ' ').Trim().TrimEnd('.');
}
