using System.Globalization;
using MemGen.Machine;

namespace MemGen.Nn;

/// <summary>The network families of docs/science.md §1 and §9.3.</summary>
public enum NetworkArchitecture
{
    /// <summary>DnCNN without biases: <c>bfcnn:layers=L,width=K</c>.</summary>
    BfCnn,

    /// <summary>Bias-free UNet: <c>unet:blocks=B,width=K</c>.</summary>
    Unet,

    /// <summary>
    /// Noise-conditioned UNet with biases, affine batch norm and FiLM from an embedding of σ, in EDM preconditioning:
    /// <c>unet-cond:blocks=B,width=K,emb=E,sigma_data=S</c>.
    /// </summary>
    ConditionedUnet,
}

/// <summary>
/// Which network to build, written as <c>bfcnn:layers=21,width=64</c>, <c>unet:blocks=2,width=64</c> or
/// <c>unet-cond:blocks=2,width=32,emb=64,sigma_data=0.5</c>. <paramref name="Depth"/> is the layer count L for BF-CNN and
/// the block count B for the UNets; <paramref name="Embedding"/> (E, the width of the noise-level embedding) and
/// <paramref name="SigmaData"/> (σ_data of the EDM preconditioning) belong to the conditioned UNet only (0 otherwise).
/// </summary>
public sealed record NetworkSpec(NetworkArchitecture Architecture, int Depth, int Width, int Embedding = 0, double SigmaData = 0)
{
    /// <summary>Width E of the noise-level embedding when <c>emb</c> is not given.</summary>
    public const int DefaultEmbedding = 64;

    /// <summary>σ_data of the EDM preconditioning when <c>sigma_data</c> is not given (Karras et al. 2022's value).</summary>
    public const double DefaultSigmaData = 0.5;

    /// <summary>Short syntax reference for help texts.</summary>
    public const string SyntaxHelp = "bfcnn:layers=L,width=K | unet:blocks=B,width=K | unet-cond:blocks=B,width=K[,emb=E][,sigma_data=S]";

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
            "unet-cond" => (NetworkArchitecture.ConditionedUnet, "blocks", 2, 64),
            _ => throw new FormatException($"Unknown model '{family}' in '{text}': expected {SyntaxHelp}."),
        };
        bool conditioned = architecture == NetworkArchitecture.ConditionedUnet;
        int embedding = conditioned ? DefaultEmbedding : 0;
        double sigmaData = conditioned ? DefaultSigmaData : 0;
        if (colon >= 0)
        {
            foreach (var part in text[(colon + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var eq = part.IndexOf('=');
                if (eq < 0) throw new FormatException($"Model option '{part}' in '{text}' is not of the form key=value.");
                var key = part[..eq].Trim().ToLowerInvariant();
                var value = part[(eq + 1)..].Trim();
                if (conditioned && key is "sigma_data" or "sigma-data")
                {
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out sigmaData) || !(sigmaData > 0) || !double.IsFinite(sigmaData))
                        throw new FormatException($"Model option 'sigma_data' in '{text}' must be a positive number, got '{value}'.");
                    continue;
                }
                if (!int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) || number <= 0)
                    throw new FormatException($"Model option '{key}' in '{text}' must be a positive integer, got '{value}'.");
                if (key == depthKey) depth = number;
                else if (key == "width") width = number;
                else if (conditioned && key == "emb") embedding = number;
                else
                    throw new FormatException($"Unknown model option '{key}' in '{text}': {family} takes " +
                        (conditioned ? "'blocks', 'width', 'emb' and 'sigma_data'." : $"'{depthKey}' and 'width'."));
            }
        }
        if (architecture == NetworkArchitecture.BfCnn && depth < 2)
            throw new FormatException($"Model '{text}': a BF-CNN needs at least 2 layers.");
        if (architecture != NetworkArchitecture.BfCnn && depth > 6)
            throw new FormatException($"Model '{text}': at most 6 UNet blocks are supported.");
        if (conditioned && embedding % 2 != 0)
            throw new FormatException($"Model '{text}': emb must be even (cosine and sine features), got {embedding}.");
        return new NetworkSpec(architecture, depth, width, embedding, sigmaData);
    }

    /// <summary>True for a network that takes the noise level σ as an input (<see cref="NetworkArchitecture.ConditionedUnet"/>).</summary>
    public bool IsConditioned => Architecture == NetworkArchitecture.ConditionedUnet;

    /// <summary>The canonical spec string, which <see cref="Parse"/> reads back.</summary>
    public override string ToString() => Architecture switch
    {
        NetworkArchitecture.BfCnn => $"bfcnn:layers={Depth},width={Width}",
        NetworkArchitecture.Unet => $"unet:blocks={Depth},width={Width}",
        _ => string.Create(CultureInfo.InvariantCulture, $"unet-cond:blocks={Depth},width={Width},emb={Embedding},sigma_data={SigmaData:R}"),
    };

    /// <summary>
    /// Trainable scalars of this network for <paramref name="channels"/>-channel images, in closed form (equal to
    /// <see cref="DenoisingNetwork.ParameterCount"/> of the built network; the conditioned UNet's shapes are listed by
    /// <see cref="ConditionedUnet.TensorShapes"/>).
    /// </summary>
    public long ParameterCount(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        long c = channels, k = Width;
        static long Conv(long cin, long cout, bool norm) => cin * cout * 9 + (norm ? cout : 0); // weights, γ
        switch (Architecture)
        {
            case NetworkArchitecture.BfCnn:
                return Conv(c, k, false) + (Depth - 2) * Conv(k, k, true) + Conv(k, c, false);
            case NetworkArchitecture.Unet:
                {
                    var w = Enumerable.Range(0, Depth).Select(b => k << b).ToArray();
                    long mid = 2 * w[^1], total = Conv(w[^1], mid, true) + Conv(mid, mid, true);
                    for (int b = 0; b < Depth; b++)
                    {
                        long below = b == Depth - 1 ? mid : w[b + 1];
                        total += Conv(b == 0 ? c : w[b - 1], w[b], b > 0) + Conv(w[b], w[b], true) // encoder
                            + below * w[b] * 4 // 2×2 transposed conv up
                            + Conv(2 * w[b], w[b], true) + Conv(w[b], b == 0 ? c : w[b], b > 0); // decoder
                    }
                    return total;
                }
            default:
                return ConditionedUnet.ParameterCountOf(this, channels);
        }
    }

    /// <summary>For a UNet, image sides must be divisible by 2^blocks; this returns that divisor (1 for BF-CNN).</summary>
    public int SizeDivisor => Architecture == NetworkArchitecture.BfCnn ? 1 : 1 << Depth;

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
    /// anything is built (for the conditioned UNet the same count as <see cref="ConditionedUnet.TensorShapes"/>).
    /// Saturates at <see cref="long.MaxValue"/> for absurd widths.
    /// </summary>
    public long StoredValueCount(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        long c = channels, k = Width, e = Embedding;
        bool conditioned = IsConditioned;
        // 3×3 conv: in·out·9. Bias-free: a conv followed by batch norm adds γ and the running sd (2·out). Conditioned: the
        // norm adds γ, β, the FiLM map (2·out×E weights, 2·out biases), the running mean and sd (out·(6 + 2E)); a conv
        // without a norm has a bias (out).
        long Conv(long cin, long cout, bool norm) => MemoryBudget.Sum(MemoryBudget.Product(cin, cout, 9),
            norm ? MemoryBudget.Product(cout, conditioned ? MemoryBudget.Sum(6, MemoryBudget.Product(2, e)) : 2) : conditioned ? cout : 0);
        if (Architecture == NetworkArchitecture.BfCnn)
            return MemoryBudget.Sum(Conv(c, k, false), MemoryBudget.Product(Depth - 2, Conv(k, k, true)), Conv(k, c, false));
        var w = Enumerable.Range(0, Depth).Select(b => MemoryBudget.Product(k, 1L << b)).ToArray();
        long mid = MemoryBudget.Product(2, w[^1]);
        long total = MemoryBudget.Sum(Conv(w[^1], mid, true), Conv(mid, mid, true));
        if (conditioned) total = MemoryBudget.Sum(total, MemoryBudget.Product(2, MemoryBudget.Sum(MemoryBudget.Product(e, e), e))); // embedding MLP
        for (int b = 0; b < Depth; b++)
        {
            long below = b == Depth - 1 ? mid : w[b + 1];
            total = MemoryBudget.Sum(total,
                Conv(b == 0 ? c : w[b - 1], w[b], b > 0), Conv(w[b], w[b], true),         // encoder
                MemoryBudget.Product(below, w[b], 4), conditioned ? w[b] : 0,             // 2×2 transposed conv up (and its bias)
                Conv(MemoryBudget.Product(2, w[b]), w[b], true), Conv(w[b], b == 0 ? c : w[b], b > 0)); // decoder
        }
        return total;
    }
}
