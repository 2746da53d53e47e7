using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>Builds the network a <see cref="NetworkSpec"/> names.</summary>
public static class NetworkFactory
{
    /// <summary>
    /// A freshly initialized <see cref="BfCnn"/> or <see cref="BiasFreeUnet"/> for images of <paramref name="channels"/>
    /// channels, running its convolutions on <paramref name="convolutions"/> (the caller owns the factory), with
    /// weights drawn from <c>DeterministicRng(seed)</c>.
    /// </summary>
    public static LayeredNetwork Create(NetworkSpec spec, int channels, IConvolutionFactory convolutions, long seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Architecture switch
        {
            NetworkArchitecture.BfCnn => new BfCnn(spec.Depth, spec.Width, channels, convolutions, seed),
            NetworkArchitecture.Unet => new BiasFreeUnet(spec.Depth, spec.Width, channels, convolutions, seed),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Architecture, "Unknown architecture."),
        };
    }
}
