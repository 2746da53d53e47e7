namespace MemGen.Images;

/// <summary>Where an image set came from and what was done to it, so a result can be reproduced.</summary>
/// <param name="Source">The dataset spec or file it was read from.</param>
/// <param name="Transforms">Transforms applied, in order.</param>
/// <param name="Seed">The seed of a synthetic generator or random transform, if any.</param>
public sealed record Provenance(string Source, IReadOnlyList<string> Transforms, long? Seed = null)
{
    /// <summary>This provenance with one more transform appended.</summary>
    public Provenance With(string transform) => this with { Transforms = [.. Transforms, transform] };
}

/// <summary>
/// N images of C×H×W float32 pixels in [0,1], stored contiguously (NCHW), with optional labels.
/// </summary>
public sealed class ImageSet
{
    /// <summary>Creates an image set over <paramref name="pixels"/> (length N·C·H·W, not copied).</summary>
    public ImageSet(float[] pixels, int count, int channels, int height, int width, Provenance provenance, int[]? labels = null)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        if (count < 0 || channels <= 0 || height <= 0 || width <= 0)
            throw new ArgumentException($"Invalid image set shape ({count},{channels},{height},{width}).");
        if ((long)count * channels * height * width != pixels.Length)
            throw new ArgumentException($"Pixel buffer has {pixels.Length} values, expected {count}×{channels}×{height}×{width}.");
        if (labels is not null && labels.Length != count)
            throw new ArgumentException($"Labels have {labels.Length} entries, expected {count}.");
        Pixels = pixels;
        Count = count;
        Channels = channels;
        Height = height;
        Width = width;
        Provenance = provenance;
        Labels = labels;
    }

    /// <summary>All pixels, NCHW.</summary>
    public float[] Pixels { get; }

    /// <summary>Number of images.</summary>
    public int Count { get; }

    /// <summary>Channels per image.</summary>
    public int Channels { get; }

    /// <summary>Image height.</summary>
    public int Height { get; }

    /// <summary>Image width.</summary>
    public int Width { get; }

    /// <summary>Optional integer labels, one per image.</summary>
    public int[]? Labels { get; }

    /// <summary>Where the set came from.</summary>
    public Provenance Provenance { get; }

    /// <summary>Pixels per image (d = C·H·W).</summary>
    public int ImageSize => Channels * Height * Width;

    /// <summary>The pixels of image <paramref name="index"/>.</summary>
    public Span<float> Image(int index) => Pixels.AsSpan(index * ImageSize, ImageSize);

    /// <summary>
    /// Throws a <see cref="DataFormatException"/> naming <paramref name="source"/> and the position of the first NaN or
    /// ±∞ pixel, if there is one: models, statistics and samplers all assume finite pixels.
    /// </summary>
    public void RequireFinite(string source)
    {
        // Fast path: a finite sum means every value is finite (it can also overflow on huge finite values).
        if (float.IsFinite(System.Numerics.Tensors.TensorPrimitives.Sum<float>(Pixels))) return;
        for (long k = 0; k < Pixels.LongLength; k++)
        {
            float v = Pixels[k];
            if (float.IsFinite(v)) continue;
            long plane = (long)Height * Width;
            long image = k / ImageSize, c = k % ImageSize / plane, y = k % plane / Width, x = k % Width;
            throw new DataFormatException(FormattableString.Invariant(
                $"{source}: pixel {k} (image {image}, channel {c}, row {y}, column {x}) is {v}; images must hold finite values."));
        }
    }

    /// <summary>A new set holding copies of the images at <paramref name="indices"/>, in that order.</summary>
    public ImageSet Subset(IReadOnlyList<int> indices, string description)
    {
        var pixels = new float[indices.Count * ImageSize];
        int[]? labels = Labels is null ? null : new int[indices.Count];
        for (int k = 0; k < indices.Count; k++)
        {
            int i = indices[k];
            if ((uint)i >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(indices), $"Index {i} outside 0..{Count - 1}.");
            Image(i).CopyTo(pixels.AsSpan(k * ImageSize, ImageSize));
            if (labels is not null) labels[k] = Labels![i];
        }
        return new ImageSet(pixels, indices.Count, Channels, Height, Width, Provenance.With(description), labels);
    }
}
