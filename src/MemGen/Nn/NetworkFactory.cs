using MemGen.Compute;

namespace MemGen.Nn;

/// <summary>Builds the network a <see cref="NetworkSpec"/> names.</summary>
public static class NetworkFactory
{
    /// <summary>
    /// A freshly initialized <see cref="BfCnn"/>, <see cref="BiasFreeUnet"/> or <see cref="ConditionedUnet"/> for images of <paramref name="channels"/>
    /// channels on <paramref name="backend"/> (the caller owns it), with
    /// weights drawn from <c>DeterministicRng(seed)</c>.
    /// </summary>
    public static LayeredNetwork Create(NetworkSpec spec, int channels, ComputeBackend backend, long seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.Architecture switch
        {
            NetworkArchitecture.BfCnn => new BfCnn(spec.Depth, spec.Width, channels, backend, seed),
            NetworkArchitecture.Unet => new BiasFreeUnet(spec.Depth, spec.Width, channels, backend, seed),
            NetworkArchitecture.ConditionedUnet => new ConditionedUnet(spec, channels, backend, seed),
            _ => throw new ArgumentOutOfRangeException(nameof(spec), spec.Architecture, "Unknown architecture."),
        };
    }
}
