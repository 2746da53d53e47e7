using System.Globalization;
using MemGen.Machine;

namespace MemGen.Nn;

/// <summary>The two network families of docs/science.md §1.</summary>
public enum NetworkArchitecture
{
    /// <summary>DnCNN without biases: <c>bfcnn:layers=L,width=K</c>.</summary>
    BfCnn,

    /// <summary>Bias-free UNet: <c>unet:blocks=B,width=K</c>.</summary>
    Unet,
}

/// <summary>
/// Which network to build, written as <c>bfcnn:layers=21,width=64</c> or <c>unet:blocks=2,width=64</c>.
/// <paramref name="Depth"/> is the layer count L for BF-CNN and the block count B for the UNet.
/// </summary>
public sealed record NetworkSpec(NetworkArchitecture Architecture, int Depth, int Width)
{
    /// <summary>Parses a spec string; throws <see cref="FormatException"/> naming the offending part.</summary>
    public static NetworkSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var colon = text.IndexOf(':');
        var family = (colon < 0 ? text : text[..colon]).Trim().ToLowerInvariant();
        var (architecture, depthKey, depth, width) = family switch
        {
            "bfcnn" => (NetworkArchitecture.BfCnn, "layers", 21, 64),
            "unet" => (NetworkArchitecture.Unet, "blocks", 2, 64),
            _ => throw new FormatException($"Unknown model '{family}' in '{text}': expected 'bfcnn:layers=L,width=K' or 'unet:blocks=B,width=K'."),
        };
        if (colon >= 0)
        {
            foreach (var part in text[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = part.IndexOf('=');
                if (eq < 0) throw new FormatException($"Model option '{part}' in '{text}' is not of the form key=value.");
                var key = part[..eq].Trim().ToLowerInvariant();
                if (!int.TryParse(part[(eq + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) || value <= 0)
                    throw new FormatException($"Model option '{key}' in '{text}' must be a positive integer, got '{part[(eq + 1)..]}'.");
                if (key == depthKey) depth = value;
                else if (key == "width") width = value;
                else throw new FormatException($"Unknown model option '{key}' in '{text}': {family} takes '{depthKey}' and 'width'.");
            }
        }
        if (architecture == NetworkArchitecture.BfCnn && depth < 2)
            throw new FormatException($"Model '{text}': a BF-CNN needs at least 2 layers.");
        if (architecture == NetworkArchitecture.Unet && depth > 6)
            throw new FormatException($"Model '{text}': at most 6 UNet blocks are supported.");
        return new NetworkSpec(architecture, depth, width);
    }

    /// <summary>The canonical spec string, which <see cref="Parse"/> reads back.</summary>
    public override string ToString() => Architecture == NetworkArchitecture.BfCnn
        ? $"bfcnn:layers={Depth},width={Width}"
        : $"unet:blocks={Depth},width={Width}";

    /// <summary>For a UNet, image sides must be divisible by 2^blocks; this returns that divisor (1 for BF-CNN).</summary>
    public int SizeDivisor => Architecture == NetworkArchitecture.Unet ? 1 << Depth : 1;

    /// <summary>
    /// A lower estimate of the bytes of activations the network keeps for a batch of <paramref name="batch"/>
    /// <paramref name="height"/>×<paramref name="width"/> images: one output per layer in evaluation mode (a UNet
    /// level b has 2^b·K channels at 1/4^b of the pixels), about three times that in training (batch-norm inputs and
    /// gradients). Used to refuse absurd batches or image sizes before the first forward pass.
    /// </summary>
    public long ActivationBytes(int batch, int height, int width, bool training)
    {
        long pixels = MemoryBudget.Product(batch, height, width);
        long perPixel; // float32 values per full-resolution pixel
        if (Architecture == NetworkArchitecture.BfCnn)
        {
            perPixel = MemoryBudget.Product(Depth, Width);
        }
        else
        {
            double sum = 0;
            for (int b = 0; b < Depth; b++) sum += 6.0 * Width * (1L << b) / (1L << (2 * b));
            sum += 4.0 * Width * (1L << Depth) / (1L << (2 * Depth));
            perPixel = sum >= long.MaxValue ? long.MaxValue : (long)sum;
        }
        return MemoryBudget.Product(pixels, perPixel, sizeof(float), training ? 3 : 1);
    }

    /// <summary>
    /// The number of float32 values a checkpoint of this network for <paramref name="channels"/>-channel images holds
    /// (parameters and buffers), in closed form so a checkpoint's metadata can be checked against its tensors before
    /// anything is built. Saturates at <see cref="long.MaxValue"/> for absurd widths.
    /// </summary>
    public long StoredValueCount(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        long c = channels, k = Width;
        // 3×3 conv: in·out·9; a conv followed by batch norm adds γ and the running sd: 2·out.
        static long Conv(long cin, long cout, bool norm) => MemoryBudget.Sum(MemoryBudget.Product(cin, cout, 9), norm ? MemoryBudget.Product(2, cout) : 0);
        if (Architecture == NetworkArchitecture.BfCnn)
            return MemoryBudget.Sum(Conv(c, k, false), MemoryBudget.Product(Depth - 2, Conv(k, k, true)), Conv(k, c, false));
        var w = Enumerable.Range(0, Depth).Select(b => MemoryBudget.Product(k, 1L << b)).ToArray();
        long mid = MemoryBudget.Product(2, w[^1]);
        long total = MemoryBudget.Sum(Conv(w[^1], mid, true), Conv(mid, mid, true));
        for (int b = 0; b < Depth; b++)
        {
            long below = b == Depth - 1 ? mid : w[b + 1];
            total = MemoryBudget.Sum(total,
                Conv(b == 0 ? c : w[b - 1], w[b], b > 0), Conv(w[b], w[b], true),         // encoder
                MemoryBudget.Product(below, w[b], 4),                                     // 2×2 transposed conv up
                Conv(MemoryBudget.Product(2, w[b]), w[b], true), Conv(w[b], b == 0 ? c : w[b], b > 0)); // decoder
        }
        return total;
    }
}
