using System.Globalization;
using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>What a network checkpoint says about itself (its safetensors <c>__metadata__</c>).</summary>
/// <param name="Spec">The architecture.</param>
/// <param name="Channels">Image channels the network takes.</param>
/// <param name="Height">Height of the training images.</param>
/// <param name="Width">Width of the training images.</param>
/// <param name="Step">Training steps taken when it was written.</param>
/// <param name="MemGenVersion">Version of MemGen that wrote it.</param>
/// <param name="Values">All metadata entries, including any extra ones the writer added.</param>
public sealed record CheckpointMetadata(
    NetworkSpec Spec, int Channels, int Height, int Width, long Step, string MemGenVersion, IReadOnlyDictionary<string, string> Values);

/// <summary>
/// Network checkpoints: the parameters and buffers of a <see cref="DenoisingNetwork"/> in a safetensors file
/// (tensor names = <see cref="Parameter.Name"/> / <see cref="NamedTensor.Name"/>), with the architecture,
/// channels, training image size and step in the metadata. Written atomically; every way a file can be
/// unusable (truncated, corrupt, other architecture, wrong shapes) raises a <see cref="CheckpointException"/>.
/// </summary>
public static class Checkpoint
{
    /// <summary>Value of the <c>format</c> metadata entry of a network checkpoint.</summary>
    public const string FormatName = "memgen-network-v1";

    private static readonly string[] s_reservedKeys = ["format", "architecture", "channels", "height", "width", "step", "memgen_version", "parameter_count"];

    /// <summary>
    /// Writes <paramref name="network"/>'s parameters and buffers to <paramref name="path"/> (atomically).
    /// <paramref name="extra"/> entries are added to the metadata (keys must not collide with MemGen's own).
    /// </summary>
    public static void Save(string path, DenoisingNetwork network, int height, int width, long step, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["format"] = FormatName,
            ["architecture"] = network.Spec.ToString(),
            ["channels"] = Invariant(network.Channels),
            ["height"] = Invariant(height),
            ["width"] = Invariant(width),
            ["step"] = Invariant(step),
            ["memgen_version"] = MemGenInfo.Version,
            ["parameter_count"] = Invariant(network.ParameterCount),
        };
        foreach (var (key, value) in extra ?? new Dictionary<string, string>())
        {
            if (s_reservedKeys.Contains(key)) throw new ArgumentException($"Checkpoint metadata key '{key}' is reserved.", nameof(extra));
            metadata[key] = value;
        }
        SafeTensors.Save(path, NetworkTensors(network), metadata);
    }

    /// <summary>Reads only the metadata of the checkpoint at <paramref name="path"/> (the data is not verified).</summary>
    public static CheckpointMetadata ReadMetadata(string path) => ParseMetadata(path, SafeTensors.ReadMetadata(path));

    /// <summary>
    /// Reads the checkpoint at <paramref name="path"/>, checks it belongs to <paramref name="network"/>'s architecture
    /// (same spec, channels, tensor names and shapes, finite values) and copies its values in. On any error the network is unchanged.
    /// </summary>
    public static CheckpointMetadata LoadInto(string path, DenoisingNetwork network)
    {
        ArgumentNullException.ThrowIfNull(network);
        var content = SafeTensors.Read(path);
        var metadata = ParseMetadata(path, content.Metadata);
        if (metadata.Spec != network.Spec)
            throw new CheckpointException(path, null, $"architecture {metadata.Spec} does not match the network {network.Spec}.");
        if (metadata.Channels != network.Channels)
            throw new CheckpointException(path, null, $"written for {metadata.Channels}-channel images, the network takes {network.Channels}.");
        CopyInto(content, NetworkTensors(network), network.Spec.ToString());
        return metadata;
    }

    /// <summary>
    /// Builds the network the checkpoint at <paramref name="path"/> describes through <paramref name="create"/>
    /// (given its spec and channel count) and loads the checkpoint into it.
    /// </summary>
    public static DenoisingNetwork Load(string path, Func<NetworkSpec, int, DenoisingNetwork> create) => Load(path, create, checkSize: false);

    /// <summary>
    /// Builds the network the checkpoint describes (<see cref="NetworkFactory"/> on <paramref name="backend"/>) and
    /// loads it. The metadata is checked against the stored tensors first (the architecture's size,
    /// <see cref="NetworkSpec.StoredValueCount"/>, must equal what the file holds), so a checkpoint whose metadata
    /// lies is refused before a network is allocated.
    /// </summary>
    public static DenoisingNetwork Load(string path, ComputeBackend backend)
    {
        ArgumentNullException.ThrowIfNull(backend);
        return Load(path, (spec, channels) => NetworkFactory.Create(spec, channels, backend, seed: 0), checkSize: true);
    }

    internal static DenoisingNetwork Load(string path, Func<NetworkSpec, int, DenoisingNetwork> create, bool checkSize)
    {
        ArgumentNullException.ThrowIfNull(create);
        var content = SafeTensors.Read(path);
        var metadata = ParseMetadata(path, content.Metadata);
        long expected = metadata.Spec.StoredValueCount(metadata.Channels);
        long stored = content.Tensors.Sum(t => (long)t.Values.Length);
        if (checkSize && expected != stored)
            throw new CheckpointException(path, null,
                $"metadata says {metadata.Spec} for {metadata.Channels}-channel images ({expected} values), but the file's tensors hold {stored} values: the metadata does not describe these tensors.");
        var network = create(metadata.Spec, metadata.Channels);
        try
        {
            CopyInto(content, NetworkTensors(network), network.Spec.ToString());
            return network;
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The tensors a checkpoint of <paramref name="network"/> holds: parameters, then buffers.</summary>
    internal static IReadOnlyList<(string Name, Tensor Value)> NetworkTensors(DenoisingNetwork network) =>
        [.. network.Parameters.Select(p => (p.Name, p.Value)), .. network.Buffers.Select(b => (b.Name, b.Value))];

    /// <summary>Largest image side a checkpoint may declare (the training images' height and width).</summary>
    public const int MaxImageSide = 8192;

    /// <summary>Largest channel count a checkpoint may declare (gray, gray+alpha, RGB, RGBA).</summary>
    public const int MaxChannels = MemGen.Images.ImageShape.MaxChannels;

    /// <summary>
    /// Checks that <paramref name="content"/> holds exactly the tensors of <paramref name="targets"/> with their shapes
    /// and only finite values (running standard deviations positive), then copies them in (nothing is written unless
    /// everything matches).
    /// </summary>
    internal static void CopyInto(SafeTensorsContent content, IReadOnlyList<(string Name, Tensor Value)> targets, string owner)
    {
        var path = content.Path;
        var sources = new StoredTensor[targets.Count];
        for (int i = 0; i < targets.Count; i++)
        {
            var (name, value) = targets[i];
            var stored = content.Find(name) ?? throw new CheckpointException(path, name, $"missing; {owner} needs it.");
            if (!stored.Shape.AsSpan().SequenceEqual(value.Shape))
                throw new CheckpointException(path, name, $"has shape [{stored.ShapeString}], {owner} expects [{value.ShapeString}].");
            CheckValues(path, stored);
            sources[i] = stored;
        }
        var expected = targets.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        foreach (var stored in content.Tensors)
            if (!expected.Contains(stored.Name))
                throw new CheckpointException(path, stored.Name, $"is not part of {owner} (wrong architecture?).");
        for (int i = 0; i < targets.Count; i++)
        {
            targets[i].Value.CopyFrom(sources[i].Values);
        }
    }

    /// <summary>Refuses NaN and ±∞ anywhere, and a running standard deviation that is not positive (it divides).</summary>
    private static void CheckValues(string path, StoredTensor stored)
    {
        var values = stored.Values;
        bool positive = stored.Name.EndsWith(".running_sd", StringComparison.Ordinal);
        // Fast path: a finite sum of squares means every value is finite.
        if (!positive && float.IsFinite(System.Numerics.Tensors.TensorPrimitives.SumOfSquares<float>(values))) return;
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i]))
                throw new CheckpointException(path, stored.Name, $"value {i} is {values[i].ToString(CultureInfo.InvariantCulture)}: the weights are not finite (a diverged training?).");
            if (positive && !(values[i] > 0))
                throw new CheckpointException(path, stored.Name, $"value {i} is {values[i].ToString(CultureInfo.InvariantCulture)}: a running standard deviation must be positive.");
        }
    }

    private static CheckpointMetadata ParseMetadata(string path, IReadOnlyDictionary<string, string> values)
    {
        var content = new SafeTensorsContent(path, values, []);
        var format = content.Require("format");
        if (format != FormatName)
            throw new CheckpointException(path, null, $"format '{format}' is not a network checkpoint ('{FormatName}').");
        NetworkSpec spec;
        try
        {
            spec = NetworkSpec.Parse(content.Require("architecture"));
        }
        catch (FormatException e)
        {
            throw new CheckpointException(path, null, $"metadata 'architecture' is invalid: {e.Message}", e);
        }
        int channels = BoundedInt(content, "channels", MaxChannels);
        int height = BoundedInt(content, "height", MaxImageSide), width = BoundedInt(content, "width", MaxImageSide);
        if (height % spec.SizeDivisor != 0 || width % spec.SizeDivisor != 0)
            throw new CheckpointException(path, null, $"metadata image size {height}×{width} is not divisible by {spec.SizeDivisor}, which {spec} needs.");
        long step = content.RequireLong("step");
        if (step < 0) throw new CheckpointException(path, null, $"metadata 'step' must not be negative, got {step}.");
        return new CheckpointMetadata(spec, channels, height, width, step, content.Require("memgen_version"), values);
    }

    private static int BoundedInt(SafeTensorsContent content, string key, int max)
    {
        var v = content.RequireLong(key);
        if (v <= 0 || v > max) throw new CheckpointException(content.Path, null, $"metadata '{key}' must be an integer from 1 to {max}, got {v}.");
        return (int)v;
    }

    private static string Invariant(long value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>
/// Adam's state (first and second moments per parameter, step count, β1, β2, ε) in its own safetensors file, so a
/// training run resumes exactly. Tensor names are <c>exp_avg.NAME</c> and <c>exp_avg_sq.NAME</c> (PyTorch's terms).
/// </summary>
public static class OptimizerCheckpoint
{
    /// <summary>Value of the <c>format</c> metadata entry of an optimizer-state file.</summary>
    public const string FormatName = "memgen-adam-v1";

    /// <summary>Writes <paramref name="adam"/>'s state for <paramref name="parameters"/> (the list it was built with) to <paramref name="path"/>.</summary>
    public static void Save(string path, Adam adam, IReadOnlyList<Parameter> parameters, IReadOnlyDictionary<string, string>? extra = null)
    {
        ArgumentNullException.ThrowIfNull(adam);
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in extra ?? new Dictionary<string, string>()) metadata[key] = value;
        metadata["format"] = FormatName;
        metadata["step_count"] = adam.StepCount.ToString(CultureInfo.InvariantCulture);
        metadata["beta1"] = adam.Beta1.ToString("R", CultureInfo.InvariantCulture);
        metadata["beta2"] = adam.Beta2.ToString("R", CultureInfo.InvariantCulture);
        metadata["epsilon"] = adam.Epsilon.ToString("R", CultureInfo.InvariantCulture);
        metadata["memgen_version"] = MemGenInfo.Version;
        SafeTensors.Save(path, Tensors(adam, parameters), metadata);
    }

    /// <summary>
    /// Restores <paramref name="adam"/>'s moments and step count from <paramref name="path"/>; the hyper-parameters
    /// (β1, β2, ε) must equal the optimizer's. Returns all metadata entries. On error the optimizer is unchanged.
    /// </summary>
    public static IReadOnlyDictionary<string, string> LoadInto(string path, Adam adam, IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(adam);
        var content = SafeTensors.Read(path);
        var format = content.Require("format");
        if (format != FormatName) throw new CheckpointException(path, null, $"format '{format}' is not an optimizer state ('{FormatName}').");
        foreach (var (key, value) in new[] { ("beta1", adam.Beta1), ("beta2", adam.Beta2), ("epsilon", adam.Epsilon) })
        {
            var stored = content.RequireDouble(key);
            if (stored != value) throw new CheckpointException(path, null, $"{key} = {stored} differs from the optimizer's {value}.");
        }
        var stepCount = content.RequireLong("step_count");
        if (stepCount < 0) throw new CheckpointException(path, null, $"step_count {stepCount} is negative.");
        Checkpoint.CopyInto(content, Tensors(adam, parameters), "the Adam state");
        adam.StepCount = stepCount;
        return content.Metadata;
    }

    private static IReadOnlyList<(string Name, Tensor Value)> Tensors(Adam adam, IReadOnlyList<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (parameters.Count != adam.FirstMoments.Count)
            throw new ArgumentException($"The optimizer holds {adam.FirstMoments.Count} parameters, {parameters.Count} were given.");
        return
        [
            .. parameters.Select((p, i) => ($"exp_avg.{p.Name}", adam.FirstMoments[i])),
            .. parameters.Select((p, i) => ($"exp_avg_sq.{p.Name}", adam.SecondMoments[i])),
        ];
    }
}
