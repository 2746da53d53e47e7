using System.Globalization;
using MemGen.Nn;

namespace MemGen.Cli.Commands;

/// <summary>The parameter counts of common network specs, for the help texts of the commands that take <c>--model</c>.</summary>
public static class ModelHelp
{
    /// <summary>The specs named in help texts: the main job's blind UNet and conditioned UNets of about its size.</summary>
    public static IReadOnlyList<string> Examples { get; } =
        ["unet:blocks=2,width=32", "unet-cond:blocks=2,width=32", "unet-cond:blocks=2,width=32,emb=32", "bfcnn:layers=21,width=64"];

    /// <summary>"SPEC: N parameters; …" for one-channel images (closed form, <see cref="NetworkSpec.ParameterCount"/>).</summary>
    public static string Sizes() => string.Join("; ", Examples.Select(e =>
    {
        var spec = NetworkSpec.Parse(e);
        return string.Create(CultureInfo.InvariantCulture, $"{spec}: {spec.ParameterCount(1):N0} parameters");
    }));
}
