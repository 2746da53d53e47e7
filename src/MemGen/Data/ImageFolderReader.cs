using MemGen.Images;
using MemGen.Native;

namespace MemGen.Data;

/// <summary>The image file format of a folder source.</summary>
public enum ImageFolderFormat
{
    /// <summary>*.png files.</summary>
    Png,

    /// <summary>*.jpg and *.jpeg files (decoded with libjpeg-turbo).</summary>
    Jpeg,
}

/// <summary>
/// Reads a folder of PNG or JPEG images into an image set, in file-name order (ordinal, never directory order).
/// Per-image transforms are applied while decoding; all images must end up the same shape.
/// </summary>
public static class ImageFolderReader
{
    /// <summary>The image files of <paramref name="directory"/> for <paramref name="format"/>, sorted by file name.</summary>
    public static string[] List(string directory, ImageFolderFormat format)
    {
        if (!Directory.Exists(directory)) throw new DataFormatException($"{directory}: folder not found.");
        string[] extensions = format == ImageFolderFormat.Png ? [".png"] : [".jpg", ".jpeg"];
        var files = Directory.EnumerateFiles(directory)
            .Where(f => extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .OrderBy(f => Path.GetFileName(f), StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0)
            throw new DataFormatException($"{directory}: no {string.Join("/", extensions)} files in this folder.");
        return files;
    }

    /// <summary>Decodes one image file of <paramref name="format"/> to C×H×W floats in [0,1].</summary>
    public static DecodedImage Decode(string path, ImageFolderFormat format)
    {
        if (format == ImageFolderFormat.Png) return PngDecoder.Read(path);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DataFormatException($"{path}: cannot read file ({DataFile.OneLine(e.Message)}).", e);
        }
        return DecodeJpeg(bytes, path);
    }

    /// <summary>Decodes JPEG bytes (gray stays one channel, everything else becomes RGB).</summary>
    public static DecodedImage DecodeJpeg(ReadOnlySpan<byte> bytes, string name)
    {
        TurboJpeg.Image? image;
        string error;
        try
        {
            image = TurboJpeg.Decode(bytes, PngDecoder.MaxPixels, out error);
        }
        catch (DllNotFoundException e)
        {
            throw new DataFormatException($"{name}: cannot decode JPEG: libturbojpeg.so.0 is missing (run scripts/install-deps).", e);
        }
        if (image is null) throw new DataFormatException($"{name}: corrupt or unsupported JPEG ({DataFile.OneLine(error)}).");
        int c = image.Channels, plane = image.Height * image.Width;
        var pixels = new float[c * plane];
        for (int p = 0; p < plane; p++)
            for (int k = 0; k < c; k++)
                pixels[k * plane + p] = image.Samples[p * c + k] / 255f;
        return new DecodedImage(pixels, new ImageShape(c, image.Height, image.Width));
    }

    /// <summary>
    /// Reads up to <paramref name="limit"/> images of <paramref name="directory"/>, applying <paramref name="transforms"/>
    /// to each. Mixed final shapes are an error naming the first odd file.
    /// </summary>
    public static ImageSet Read(string directory, ImageFolderFormat format, IReadOnlyList<IImageTransform> transforms, int limit,
        Provenance provenance, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(transforms);
        var files = List(directory, format);
        int n = Math.Min(limit, files.Length);
        var images = new float[n][];
        var shapes = new ImageShape[n];
        int done = 0;
        try
        {
            Parallel.For(0, n, ReadOne);
        }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is DataFormatException))
        {
            // Report the first bad file in file-name order, whichever thread saw it.
            throw e.InnerExceptions.Cast<DataFormatException>().OrderBy(x => x.Message, StringComparer.Ordinal).First();
        }
        if (n == 0) return new ImageSet([], 0, 1, 1, 1, provenance);
        var first = shapes[0];
        for (int i = 1; i < n; i++)
            if (shapes[i] != first)
                throw new DataFormatException($"{files[i]}: image is {shapes[i]} but {Path.GetFileName(files[0])} is {first} (mixed sizes; add crop=/resize=/gray to the spec).");
        if ((long)n * first.Size > Array.MaxLength) throw new DataFormatException($"{directory}: {n} images of {first} do not fit in memory; add take=/resize=.");
        var all = new float[n * first.Size];
        for (int i = 0; i < n; i++) images[i].CopyTo(all, i * first.Size);
        progress?.Report(1);
        return new ImageSet(all, n, first.Channels, first.Height, first.Width, provenance);

        void ReadOne(int i)
        {
            var decoded = Decode(files[i], format);
            var pixels = decoded.Pixels;
            var shape = decoded.Shape;
            foreach (var t in transforms)
            {
                ImageShape next;
                try
                {
                    next = t.OutputShape(shape);
                }
                catch (DataFormatException e)
                {
                    throw new DataFormatException($"{files[i]}: {e.Message}", e);
                }
                var output = new float[next.Size];
                t.Apply(pixels, shape, output);
                (pixels, shape) = (output, next);
            }
            images[i] = pixels;
            shapes[i] = shape;
            int k = Interlocked.Increment(ref done);
            if (progress is not null && k % 256 == 0) progress.Report((double)k / n);
        }
    }
}
