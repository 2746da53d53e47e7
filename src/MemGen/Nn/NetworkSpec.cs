using System.Globalization;

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
}
