using MemGen.Analysis;
using MemGen.Data;
using MemGen.Native;
using MemGen.Nn;

namespace MemGen.Denoisers;

/// <summary>
/// A denoiser made from a command-line spec, with the image shape it works on and, where it has one, its training set
/// (whose mean image is the start of Algorithm 1 in the reference code). Owns the native resources of a network.
/// </summary>
public sealed class LoadedDenoiser : IDisposable
{
    private readonly IDisposable[] _owned;

    internal LoadedDenoiser(IDenoiser denoiser, string spec, int? channels, int? height, int? width, ImageSet? training, params IDisposable[] owned)
    {
        Denoiser = denoiser;
        Spec = spec;
        Channels = channels;
        Height = height;
        Width = width;
        Training = training;
        _owned = owned;
    }

    /// <summary>The denoiser.</summary>
    public IDenoiser Denoiser { get; }

    /// <summary>The spec it was made from.</summary>
    public string Spec { get; }

    /// <summary>Image channels it was made for (null: any, e.g. identity).</summary>
    public int? Channels { get; }

    /// <summary>Image height it was made for (null: any).</summary>
    public int? Height { get; }

    /// <summary>Image width it was made for (null: any).</summary>
    public int? Width { get; }

    /// <summary>The training set of a closed-form denoiser (null for networks and identity).</summary>
    public ImageSet? Training { get; }

    /// <summary>The mean image of <see cref="Training"/>, or null.</summary>
    public float[]? TrainingMean() => Training is null ? null : ImageStatistics.MeanImage(Training);

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var o in _owned) o.Dispose();
    }
}

/// <summary>
/// Parses denoiser specs: <c>checkpoint:PATH</c> (a trained network, eval mode), <c>empirical:DATASPEC</c> (the empirical
/// optimal denoiser of a dataset), <c>wiener:DATASPEC</c> (the Gaussian denoiser of its mean and covariance),
/// <c>identity</c>.
/// </summary>
public static class DenoiserSpec
{
    /// <summary>One-line syntax summary for help texts and error messages.</summary>
    public const string SyntaxHelp = "checkpoint:PATH | empirical:DATASPEC | wiener:DATASPEC | identity";

    /// <summary>
    /// Builds the denoiser <paramref name="spec"/> names. Throws <see cref="ArgumentException"/> for an unknown kind, and the
    /// loaders' exceptions (<see cref="CheckpointException"/>, <see cref="DataFormatException"/>, I/O) for unusable files.
    /// </summary>
    public static LoadedDenoiser Load(string spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var text = spec.Trim();
        if (text == "identity") return new LoadedDenoiser(new IdentityDenoiser(), text, null, null, null, null);
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0 || colon == text.Length - 1)
            throw new ArgumentException($"denoiser spec '{spec}' is not of the form {SyntaxHelp}");
        string kind = text[..colon], argument = text[(colon + 1)..];
        switch (kind)
        {
            case "checkpoint":
                {
                    var metadata = Checkpoint.ReadMetadata(argument);
                    var convolutions = new OneDnnConvolutionFactory();
                    try
                    {
                        var network = Checkpoint.Load(argument, (s, c) => NetworkFactory.Create(s, c, convolutions, seed: 0));
                        var name = $"{metadata.Spec} ({Path.GetFileName(argument)})";
                        return new LoadedDenoiser(new NetworkDenoiser(network, name: name), text, metadata.Channels, metadata.Height, metadata.Width,
                            null, network, convolutions);
                    }
                    catch
                    {
                        convolutions.Dispose();
                        throw;
                    }
                }
            case "empirical":
                {
                    var data = DatasetLoader.Load(argument);
                    return new LoadedDenoiser(new EmpiricalOptimalDenoiser(data), text, data.Channels, data.Height, data.Width, data);
                }
            case "wiener":
                {
                    var data = DatasetLoader.Load(argument);
                    return new LoadedDenoiser(GaussianDenoiser.FromImages(data), text, data.Channels, data.Height, data.Width, data);
                }
            default:
                throw new ArgumentException($"denoiser spec '{spec}': unknown kind '{kind}' (expected {SyntaxHelp})");
        }
    }
}
