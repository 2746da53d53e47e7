using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Data;

/// <summary>A transform applied to every image independently (crop, resize, grayscale, pixel permutation).</summary>
public interface IImageTransform
{
    /// <summary>How the transform is written in a dataset spec, e.g. <c>crop=160</c>.</summary>
    string Description { get; }

    /// <summary>The output shape for an input of <paramref name="input"/>, or a <see cref="DataFormatException"/> if it does not apply.</summary>
    ImageShape OutputShape(ImageShape input);

    /// <summary>Transforms one image of shape <paramref name="input"/> into <paramref name="destination"/> (length = output size).</summary>
    void Apply(ReadOnlySpan<float> source, ImageShape input, Span<float> destination);
}

/// <summary>How <see cref="ResizeTransform"/> interpolates.</summary>
public enum ResizeMode
{
    /// <summary>Area averaging when shrinking both axes, bicubic otherwise.</summary>
    Auto,

    /// <summary>Area averaging: each output pixel is the mean of the input area it covers (fractional overlaps weighted).</summary>
    Area,

    /// <summary>Bicubic (Keys, a = −0.5), kernel widened by the scale when shrinking (antialiased, as PIL does).</summary>
    Bicubic,
}

/// <summary>Centre crop to <paramref name="Height"/>×<paramref name="Width"/> (offsets rounded down).</summary>
public sealed record CenterCropTransform(int Height, int Width) : IImageTransform
{
    /// <inheritdoc/>
    public string Description => Height == Width ? $"crop={Height}" : $"crop={Height}x{Width}";

    /// <inheritdoc/>
    public ImageShape OutputShape(ImageShape input)
    {
        if (Height > input.Height || Width > input.Width)
            throw new DataFormatException($"transform '{Description}': images are only {input.Height}×{input.Width}.");
        return input with { Height = Height, Width = Width };
    }

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> source, ImageShape input, Span<float> destination)
    {
        int top = (input.Height - Height) / 2, left = (input.Width - Width) / 2;
        for (int c = 0; c < input.Channels; c++)
            for (int y = 0; y < Height; y++)
                source.Slice((c * input.Height + top + y) * input.Width + left, Width)
                    .CopyTo(destination.Slice((c * Height + y) * Width, Width));
    }
}

/// <summary>Resize to <paramref name="Height"/>×<paramref name="Width"/> by separable area averaging or bicubic interpolation.</summary>
public sealed record ResizeTransform(int Height, int Width, ResizeMode Mode = ResizeMode.Auto) : IImageTransform
{
    /// <inheritdoc/>
    public string Description => (Height == Width ? $"resize={Height}" : $"resize={Height}x{Width}")
        + (Mode == ResizeMode.Auto ? "" : ":" + Mode.ToString().ToLowerInvariant());

    /// <inheritdoc/>
    public ImageShape OutputShape(ImageShape input) => input with { Height = Height, Width = Width };

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> source, ImageShape input, Span<float> destination)
    {
        var mode = Mode;
        if (mode == ResizeMode.Auto) mode = Height <= input.Height && Width <= input.Width ? ResizeMode.Area : ResizeMode.Bicubic;
        var rows = Weights(input.Height, Height, mode);
        var cols = Weights(input.Width, Width, mode);
        var temp = new float[Height * input.Width];
        for (int c = 0; c < input.Channels; c++)
        {
            var plane = source.Slice(c * input.Height * input.Width, input.Height * input.Width);
            float lo = float.PositiveInfinity, hi = float.NegativeInfinity;
            foreach (float v in plane) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            for (int y = 0; y < Height; y++)
            {
                var row = temp.AsSpan(y * input.Width, input.Width);
                row.Clear();
                var (start, w) = rows[y];
                for (int k = 0; k < w.Length; k++)
                {
                    var src = plane.Slice((start + k) * input.Width, input.Width);
                    float wk = w[k];
                    for (int x = 0; x < row.Length; x++) row[x] += wk * src[x];
                }
            }
            var outPlane = destination.Slice(c * Height * Width, Height * Width);
            for (int y = 0; y < Height; y++)
            {
                var row = temp.AsSpan(y * input.Width, input.Width);
                for (int x = 0; x < Width; x++)
                {
                    var (start, w) = cols[x];
                    float acc = 0;
                    for (int k = 0; k < w.Length; k++) acc += w[k] * row[start + k];
                    // Bicubic can overshoot: keep each plane within its input range (images stay in [0,1]).
                    outPlane[y * Width + x] = Math.Clamp(acc, lo, hi);
                }
            }
        }
    }

    /// <summary>For each output index, the first input index and the (normalized) weights of the inputs from there.</summary>
    internal static (int Start, float[] Weights)[] Weights(int inSize, int outSize, ResizeMode mode) =>
        s_weights.GetOrAdd((inSize, outSize, mode), key => ComputeWeights(key.In, key.Out, key.Mode));

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(int In, int Out, ResizeMode Mode), (int Start, float[] Weights)[]> s_weights = new();

    private static (int Start, float[] Weights)[] ComputeWeights(int inSize, int outSize, ResizeMode mode)
    {
        double scale = (double)inSize / outSize;
        var result = new (int, float[])[outSize];
        for (int i = 0; i < outSize; i++)
        {
            var w = new List<double>();
            int start;
            if (mode == ResizeMode.Area)
            {
                double a = i * scale, b = (i + 1) * scale;
                start = Math.Min((int)Math.Floor(a), inSize - 1);
                int end = Math.Min((int)Math.Ceiling(b), inSize);
                for (int k = start; k < end; k++) w.Add(Math.Max(0, Math.Min(b, k + 1) - Math.Max(a, k)));
            }
            else
            {
                double support = 2 * Math.Max(scale, 1), f = Math.Max(scale, 1);
                double center = (i + 0.5) * scale;
                start = Math.Max(0, (int)Math.Floor(center - support));
                int end = Math.Min(inSize, (int)Math.Ceiling(center + support) + 1);
                for (int k = start; k < end; k++) w.Add(Cubic((k + 0.5 - center) / f));
            }
            double sum = w.Sum();
            result[i] = (start, w.Select(v => (float)(v / sum)).ToArray());
        }
        return result;
    }

    private static double Cubic(double x)
    {
        const double a = -0.5;
        x = Math.Abs(x);
        if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
        if (x < 2) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
        return 0;
    }
}

/// <summary>Grayscale as the mean of R, G, B (an alpha channel, if any, is ignored); one-channel images pass through.</summary>
public sealed record GrayscaleTransform : IImageTransform
{
    /// <inheritdoc/>
    public string Description => "gray";

    /// <inheritdoc/>
    public ImageShape OutputShape(ImageShape input) => input with { Channels = 1 };

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> source, ImageShape input, Span<float> destination)
    {
        int plane = input.Height * input.Width;
        int colors = input.Channels >= 3 ? 3 : 1;
        for (int p = 0; p < plane; p++)
        {
            float acc = 0;
            for (int c = 0; c < colors; c++) acc += source[c * plane + p];
            destination[p] = acc / colors;
        }
    }
}

/// <summary>
/// The "shuffled" class: one fixed pixel permutation, drawn from <paramref name="seed"/>, applied to every image
/// (the same spatial permutation in every channel).
/// </summary>
public sealed class PixelShuffleTransform(long seed) : IImageTransform
{
    private int[]? _permutation;

    /// <summary>The seed of the permutation.</summary>
    public long Seed { get; } = seed;

    /// <inheritdoc/>
    public string Description => $"shuffle={Seed}";

    /// <inheritdoc/>
    public ImageShape OutputShape(ImageShape input) => input;

    /// <summary>The permutation for H·W pixels: output pixel p takes input pixel perm[p].</summary>
    public int[] Permutation(int pixels)
    {
        var p = Volatile.Read(ref _permutation);
        if (p is null || p.Length != pixels)
        {
            p = new DeterministicRng(Seed, stream: 0x54AFF1E).Permutation(pixels);
            Volatile.Write(ref _permutation, p);
        }
        return p;
    }

    /// <summary>
    /// Undoes <see cref="Apply"/> on a vector of the shuffled pixel space (a shuffled image, or an eigenvector of a
    /// network trained on shuffled images), so it can be shown in the original pixel order: destination[perm[p]] = source[p].
    /// </summary>
    public void Unshuffle<T>(ReadOnlySpan<T> shuffled, ImageShape shape, Span<T> destination)
    {
        int plane = shape.Height * shape.Width;
        if (shuffled.Length != shape.Size || destination.Length != shape.Size)
            throw new ArgumentException($"Unshuffle: {shape} needs {shape.Size} values (got {shuffled.Length} and {destination.Length}).");
        var perm = Permutation(plane);
        for (int c = 0; c < shape.Channels; c++)
        {
            var src = shuffled.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            for (int p = 0; p < plane; p++) dst[perm[p]] = src[p];
        }
    }

    /// <inheritdoc/>
    public void Apply(ReadOnlySpan<float> source, ImageShape input, Span<float> destination)
    {
        int plane = input.Height * input.Width;
        var perm = Permutation(plane);
        for (int c = 0; c < input.Channels; c++)
        {
            var src = source.Slice(c * plane, plane);
            var dst = destination.Slice(c * plane, plane);
            for (int p = 0; p < plane; p++) dst[p] = src[perm[p]];
        }
    }
}

/// <summary>Applying transforms to whole image sets, and layout conversions.</summary>
public static class ImageTransforms
{
    /// <summary>A new set with <paramref name="transform"/> applied to every image (in parallel).</summary>
    public static ImageSet Apply(ImageSet images, IImageTransform transform)
    {
        ArgumentNullException.ThrowIfNull(images);
        ArgumentNullException.ThrowIfNull(transform);
        var input = new ImageShape(images.Channels, images.Height, images.Width);
        var output = transform.OutputShape(input);
        if ((long)images.Count * output.Size > Array.MaxLength)
            throw new DataFormatException($"transform '{transform.Description}': result too large ({images.Count}×{output}).");
        var pixels = new float[images.Count * output.Size];
        if (transform is PixelShuffleTransform shuffle) shuffle.Permutation(input.Height * input.Width);
        Parallel.For(0, images.Count, i =>
            transform.Apply(images.Pixels.AsSpan(i * input.Size, input.Size), input, pixels.AsSpan(i * output.Size, output.Size)));
        return new ImageSet(pixels, images.Count, output.Channels, output.Height, output.Width,
            images.Provenance.With(transform.Description), images.Labels);
    }

    /// <summary>The first <paramref name="count"/> images (all of them if there are fewer).</summary>
    public static ImageSet Take(ImageSet images, int count)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        int n = Math.Min(count, images.Count);
        return images.Subset(Enumerable.Range(0, n).ToArray(), $"take={count}");
    }
}
