using MemGen.Data;
using MemGen.Images;
using MemGen.Compute;
using MemGen.Nn;

namespace MemGen.Denoisers;

/// <summary>The kinds of denoiser a <see cref="DenoiserSpec"/> can name.</summary>
public enum DenoiserKind
{
    /// <summary>A trained network checkpoint (evaluation mode, blind).</summary>
    Checkpoint,

    /// <summary>The empirical optimal denoiser (pure memorizer) of a dataset (docs/science.md §4).</summary>
    Empirical,

    /// <summary>The Gaussian (Wiener) denoiser of a dataset's mean and covariance (docs/science.md §4).</summary>
    Wiener,

    /// <summary>f(y) = y.</summary>
    Identity,
}

/// <summary>
/// A denoiser named on the command line: <c>checkpoint:PATH</c>, <c>empirical:SPEC</c>, <c>wiener:SPEC</c> or
/// <c>identity</c>, where SPEC is a dataset spec (<see cref="DatasetSpec"/>). Parsing only checks the syntax;
/// <see cref="Open"/> reads the checkpoint or the data and builds the <see cref="IDenoiser"/>.
/// </summary>
public sealed class DenoiserSpec
{
    /// <summary>Short syntax reference for help texts.</summary>
    public const string SyntaxHelp =
        "checkpoint:PATH (a network .safetensors or a training run directory) | empirical:SPEC (empirical optimal denoiser of a dataset) | " +
        "wiener:SPEC (Gaussian denoiser of a dataset's mean and covariance) | identity";

    private DenoiserSpec(DenoiserKind kind, string? path, DatasetSpec? data)
    {
        Kind = kind;
        Path = path;
        Data = data;
    }

    /// <summary>The kind of denoiser.</summary>
    public DenoiserKind Kind { get; }

    /// <summary>The checkpoint file (<see cref="DenoiserKind.Checkpoint"/> only).</summary>
    public string? Path { get; }

    /// <summary>The dataset (<see cref="DenoiserKind.Empirical"/> and <see cref="DenoiserKind.Wiener"/> only).</summary>
    public DatasetSpec? Data { get; }

    /// <summary>The spec in canonical form (dataset specs canonicalized).</summary>
    public override string ToString() => Kind switch
    {
        DenoiserKind.Checkpoint => $"checkpoint:{Path}",
        DenoiserKind.Empirical => $"empirical:{Data}",
        DenoiserKind.Wiener => $"wiener:{Data}",
        _ => "identity",
    };

    /// <summary>Parses the value of setting <paramref name="setting"/>; a bad spec is an <see cref="InvalidSettingException"/> for it.</summary>
    public static DenoiserSpec ParseAs(string setting, string text)
    {
        try
        {
            return Parse(text);
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException(setting, e.Message, e);
        }
    }

    /// <summary><see cref="Open"/> for the value of setting <paramref name="setting"/>: an unusable checkpoint or dataset is an <see cref="InvalidSettingException"/> for it.</summary>
    public OpenedDenoiser OpenAs(string setting, int batchSize = 64, ComputeBackend? backend = null)
    {
        try
        {
            return Open(batchSize, backend: backend);
        }
        catch (Exception e) when (e is CheckpointException or DataFormatException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidSettingException(setting, e.Message, e);
        }
    }

    /// <summary>Parses <paramref name="text"/>; nothing is read yet.</summary>
    /// <exception cref="FormatException">The text is not a denoiser spec; the message says what is wrong.</exception>
    public static DenoiserSpec Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text))
            throw new FormatException($"denoiser spec is empty (expected {SyntaxHelp}).");
        text = text.Trim();
        int colon = text.IndexOf(':', StringComparison.Ordinal);
        string kind = (colon < 0 ? text : text[..colon]).Trim().ToLowerInvariant();
        string? argument = colon < 0 ? null : text[(colon + 1)..].Trim();
        switch (kind)
        {
            case "identity":
                if (!string.IsNullOrEmpty(argument))
                    throw new FormatException($"denoiser spec '{text}': identity takes no argument.");
                return new DenoiserSpec(DenoiserKind.Identity, null, null);
            case "checkpoint":
                if (string.IsNullOrEmpty(argument))
                    throw new FormatException($"denoiser spec '{text}': missing path after 'checkpoint:'.");
                return new DenoiserSpec(DenoiserKind.Checkpoint, argument, null);
            case "empirical" or "wiener":
                {
                    if (string.IsNullOrEmpty(argument))
                        throw new FormatException($"denoiser spec '{text}': missing dataset spec after '{kind}:' (e.g. '{kind}:fashion-mnist:train|take=1000').");
                    DatasetSpec data;
                    try
                    {
                        data = DatasetSpec.Parse(argument);
                    }
                    catch (DataFormatException e)
                    {
                        throw new FormatException($"denoiser spec '{text}': {e.Message.TrimEnd('.')}.", e);
                    }
                    return new DenoiserSpec(kind == "empirical" ? DenoiserKind.Empirical : DenoiserKind.Wiener, null, data);
                }
            default:
                throw new FormatException($"denoiser spec '{text}': unknown kind '{kind}' (expected {SyntaxHelp}).");
        }
    }

    /// <summary>
    /// The checkpoint file <paramref name="path"/> names: the file itself, or for a training run directory its
    /// <c>checkpoints/final.safetensors</c>.
    /// </summary>
    public static string CheckpointFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!Directory.Exists(path)) return path;
        var final = System.IO.Path.Combine(path, "checkpoints", "final.safetensors");
        if (!File.Exists(final))
            throw new CheckpointException(final, null, "not found; the directory is not a finished training run (give a .safetensors file instead).");
        return final;
    }

    /// <summary>
    /// Builds the denoiser: loads the checkpoint (network in evaluation mode on <paramref name="backend"/>, the CPU
    /// when null, <paramref name="batchSize"/> images per call) or the dataset. <paramref name="progress"/> (0..1) is
    /// reported while a dataset is read.
    /// </summary>
    /// <exception cref="CheckpointException">The checkpoint cannot be used (the message names the file).</exception>
    /// <exception cref="DataFormatException">The dataset cannot be read (the message names the file or key).</exception>
    public OpenedDenoiser Open(int batchSize = 64, IProgress<double>? progress = null, ComputeBackend? backend = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        switch (Kind)
        {
            case DenoiserKind.Identity:
                return new OpenedDenoiser(this, new IdentityDenoiser(), null, null, null, []);
            case DenoiserKind.Checkpoint:
                {
                    var file = CheckpointFile(Path!);
                    var metadata = Checkpoint.ReadMetadata(file);
                    var ownBackend = backend is null ? new Compute.Cpu.CpuBackend() : null;
                    try
                    {
                        var network = Checkpoint.Load(file, backend ?? ownBackend!);
                        var shape = new ImageShape(metadata.Channels, metadata.Height, metadata.Width);
                        return new OpenedDenoiser(this, new NetworkDenoiser(network, batchSize), shape, null, metadata, ownBackend is null ? [network] : [network, ownBackend]);
                    }
                    catch
                    {
                        ownBackend?.Dispose();
                        throw;
                    }
                }
            default:
                {
                    var images = DatasetLoader.Load(Data!, progress);
                    if (images.Count == 0)
                        throw new DataFormatException($"dataset spec '{Data}': no images (the {Kind.ToString().ToLowerInvariant()} denoiser needs at least one).");
                    IDenoiser denoiser = Kind == DenoiserKind.Empirical
                        ? new EmpiricalOptimalDenoiser(images)
                        : GaussianDenoiser.FromImages(images);
                    return new OpenedDenoiser(this, denoiser, new ImageShape(images.Channels, images.Height, images.Width), images, null, []);
                }
        }
    }
}

/// <summary>
/// A denoiser built from a <see cref="DenoiserSpec"/>, with what is known about it: the image shape it works on
/// (null for the identity), the dataset it was built from (empirical, Wiener) or the checkpoint's metadata.
/// Disposing releases the network (and the backend, when it opened one of its own).
/// </summary>
public sealed class OpenedDenoiser : IDisposable
{
    private readonly IDisposable[] _owned;

    internal OpenedDenoiser(DenoiserSpec spec, IDenoiser denoiser, ImageShape? shape, ImageSet? data, CheckpointMetadata? checkpoint, IDisposable[] owned)
    {
        Spec = spec;
        Denoiser = denoiser;
        Shape = shape;
        Data = data;
        Checkpoint = checkpoint;
        _owned = owned;
    }

    /// <summary>The spec it was built from.</summary>
    public DenoiserSpec Spec { get; }

    /// <summary>The denoiser.</summary>
    public IDenoiser Denoiser { get; }

    /// <summary>The image shape the denoiser was built for (training image size of a checkpoint); null for the identity.</summary>
    public ImageShape? Shape { get; }

    /// <summary>The dataset of an empirical or Wiener denoiser; null otherwise.</summary>
    public ImageSet? Data { get; }

    /// <summary>The checkpoint's metadata; null unless <see cref="DenoiserKind.Checkpoint"/>.</summary>
    public CheckpointMetadata? Checkpoint { get; }

    /// <inheritdoc />
    public void Dispose()
    {
        foreach (var d in _owned) d.Dispose();
    }
}
