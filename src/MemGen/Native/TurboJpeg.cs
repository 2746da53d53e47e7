using System.Runtime.InteropServices;

namespace MemGen.Native;

/// <summary>
/// Narrow binding to Debian's libjpeg-turbo TurboJPEG C API (<c>libturbojpeg0</c>, API 2.x): decode a JPEG held
/// in memory to 8-bit gray or RGB, and (for tests and exports) encode one.
/// </summary>
public static unsafe class TurboJpeg
{
    private const string Lib = "libturbojpeg.so.0";
    private const int PixelFormatRgb = 0, PixelFormatGray = 6, ColorspaceGray = 2;
    private const int FlagAccurateDct = 4096, FlagStopOnWarning = 8192;

    [DllImport(Lib)] private static extern nint tjInitDecompress();
    [DllImport(Lib)] private static extern nint tjInitCompress();
    [DllImport(Lib)] private static extern int tjDestroy(nint handle);
    [DllImport(Lib)] private static extern nint tjGetErrorStr2(nint handle);
    [DllImport(Lib)] private static extern void tjFree(byte* buffer);

    [DllImport(Lib)]
    private static extern int tjDecompressHeader3(nint handle, byte* jpegBuf, nuint jpegSize, out int width, out int height,
        out int subsampling, out int colorspace);

    [DllImport(Lib)]
    private static extern int tjDecompress2(nint handle, byte* jpegBuf, nuint jpegSize, byte* dstBuf, int width, int pitch,
        int height, int pixelFormat, int flags);

    [DllImport(Lib)]
    private static extern int tjCompress2(nint handle, byte* srcBuf, int width, int pitch, int height, int pixelFormat,
        byte** jpegBuf, nuint* jpegSize, int subsampling, int quality, int flags);

    /// <summary>A decoded JPEG: interleaved 8-bit samples (gray or RGB), row-major.</summary>
    /// <param name="Samples">height·width·channels bytes.</param>
    /// <param name="Channels">1 for grayscale JPEGs, 3 otherwise.</param>
    /// <param name="Height">Rows.</param>
    /// <param name="Width">Columns.</param>
    public sealed record Image(byte[] Samples, int Channels, int Height, int Width);

    /// <summary>
    /// Decodes <paramref name="jpeg"/>; grayscale JPEGs stay one channel, all others become RGB. Any libjpeg
    /// warning (e.g. premature end of data) counts as an error. Returns null and the library's message on failure.
    /// </summary>
    public static Image? Decode(ReadOnlySpan<byte> jpeg, int maxPixels, out string error)
    {
        error = "";
        nint handle = tjInitDecompress();
        if (handle == 0)
        {
            error = "cannot initialize the TurboJPEG decompressor";
            return null;
        }
        try
        {
            fixed (byte* src = jpeg)
            {
                if (tjDecompressHeader3(handle, src, (nuint)jpeg.Length, out int width, out int height, out _, out int colorspace) != 0)
                {
                    error = Message(handle);
                    return null;
                }
                if (width <= 0 || height <= 0 || (long)width * height > maxPixels)
                {
                    error = $"unsupported JPEG size {width}×{height}";
                    return null;
                }
                int channels = colorspace == ColorspaceGray ? 1 : 3;
                var samples = new byte[width * height * channels];
                fixed (byte* dst = samples)
                {
                    if (tjDecompress2(handle, src, (nuint)jpeg.Length, dst, width, width * channels, height,
                        channels == 1 ? PixelFormatGray : PixelFormatRgb, FlagAccurateDct | FlagStopOnWarning) != 0)
                    {
                        error = Message(handle);
                        return null;
                    }
                }
                return new Image(samples, channels, height, width);
            }
        }
        finally
        {
            tjDestroy(handle);
        }
    }

    /// <summary>Encodes interleaved 8-bit gray (1 channel) or RGB (3 channels) samples as a 4:4:4 JPEG of the given quality.</summary>
    public static byte[] Encode(ReadOnlySpan<byte> samples, int channels, int height, int width, int quality = 95)
    {
        if (channels is not (1 or 3)) throw new ArgumentException($"JPEG encoding needs 1 or 3 channels, got {channels}.");
        if (samples.Length != channels * height * width) throw new ArgumentException("Sample buffer size does not match the image size.");
        nint handle = tjInitCompress();
        if (handle == 0) throw new InvalidOperationException("Cannot initialize the TurboJPEG compressor.");
        try
        {
            byte* output = null;
            nuint size = 0;
            fixed (byte* src = samples)
            {
                // Subsampling: TJSAMP_444 = 0, TJSAMP_GRAY = 3.
                if (tjCompress2(handle, src, width, width * channels, height, channels == 1 ? PixelFormatGray : PixelFormatRgb,
                    &output, &size, channels == 1 ? 3 : 0, quality, FlagAccurateDct) != 0)
                    throw new InvalidOperationException($"TurboJPEG encoding failed: {Message(handle)}");
            }
            try
            {
                return new ReadOnlySpan<byte>(output, checked((int)size)).ToArray();
            }
            finally
            {
                tjFree(output);
            }
        }
        finally
        {
            tjDestroy(handle);
        }
    }

    private static string Message(nint handle) => Marshal.PtrToStringUTF8(tjGetErrorStr2(handle))?.Trim() ?? "unknown TurboJPEG error";
}
