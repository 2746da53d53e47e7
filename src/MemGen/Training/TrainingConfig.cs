using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using System.Text.Json;
using MemGen.Data;
using MemGen.Images;
using MemGen.Nn;

namespace MemGen.Training;

/// <summary>Where the training images come from, as the caller describes it (recorded in config.json).</summary>
/// <param name="Spec">The dataset spec string (what <c>--data</c> was given).</param>
/// <param name="N">Training set size.</param>
/// <param name="Subset">Which disjoint subset (s1 = first N, s2 = last N), if any.</param>
/// <param name="SplitManifest">Path of the split manifest the subsets were drawn from, if any.</param>
public sealed record TrainingDataSource(string Spec, int N, string? Subset = null, string? SplitManifest = null);

/// <summary>Everything that determines a training run: the model, the data, the seed and the recipe.</summary>
/// <param name="Model">The network to train.</param>
/// <param name="Data">Where the training images come from.</param>
/// <param name="Seed">Seeds the initialization, the data order and the noise; same config ⇒ same weights.</param>
/// <param name="Options">The recipe.</param>
public sealed record TrainingConfig(NetworkSpec Model, TrainingDataSource Data, long Seed, TrainingOptions Options);

/// <summary>Shape and content hash of an image set, so a resumed run can check it trains on the same images.</summary>
/// <param name="Count">Images.</param>
/// <param name="Channels">Channels.</param>
/// <param name="Height">Height.</param>
/// <param name="Width">Width.</param>
/// <param name="Sha256">SHA-256 of the pixels (float32, little-endian, NCHW).</param>
public sealed record ImageSetFingerprint(int Count, int Channels, int Height, int Width, string Sha256)
{
    /// <summary>Computes the fingerprint of <paramref name="images"/>.</summary>
    public static ImageSetFingerprint Of(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        var bytes = MemoryMarshal.AsBytes(images.Pixels.AsSpan());
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("MemGen assumes a little-endian machine.");
        return new ImageSetFingerprint(images.Count, images.Channels, images.Height, images.Width, Convert.ToHexStringLower(SHA256.HashData(bytes)));
    }
}

/// <summary>The content of a run directory's config.json: the config, the data fingerprints and provenance.</summary>
/// <param name="Config">The training config, with resolved options.</param>
/// <param name="Train">Fingerprint of the training images.</param>
/// <param name="Test">Fingerprint of the test images, if any.</param>
/// <param name="MemGenVersion">Version that started the run.</param>
/// <param name="CreatedUtc">When the run was started.</param>
/// <param name="EngineThreads">Compute threads of the process that started the run (<see cref="CurrentEngineThreads"/>); a resume with
/// another count is still exact in its own arithmetic but not bit-identical to an uninterrupted run (reductions are ordered per thread).</param>
public sealed record RunConfigFile(
    TrainingConfig Config, ImageSetFingerprint Train, ImageSetFingerprint? Test, [property: JsonPropertyName("memgen_version")] string MemGenVersion, DateTime CreatedUtc,
    int? EngineThreads = null)
{
    /// <summary>The engine's thread count for this process: OMP_NUM_THREADS when set (the oneDNN runtime honours it), else the core count.</summary>
    public static int CurrentEngineThreads =>
        int.TryParse(Environment.GetEnvironmentVariable("OMP_NUM_THREADS"), System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var t) && t > 0
            ? t : Environment.ProcessorCount;

    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Converters = { new NetworkSpecJsonConverter() },
    };

    /// <summary>Serializes to indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, s_json);

    /// <summary>Parses config.json text; <paramref name="path"/> names the file in errors.</summary>
    public static RunConfigFile FromJson(string json, string path)
    {
        try
        {
            var file = JsonSerializer.Deserialize<RunConfigFile>(json, s_json)
                ?? throw new TrainingRunException($"'{path}' holds no config.");
            if (file.Config?.Model is null || file.Config.Data is null || file.Config.Options is null || file.Train is null)
                throw new TrainingRunException($"'{path}' lacks one of config.model, config.data, config.options, train.");
            file.Config.Options.Validate();
            return file;
        }
        catch (Exception e) when (e is JsonException or FormatException or ArgumentException or NotSupportedException)
        {
            throw new TrainingRunException($"'{path}' is not a valid MemGen training config: {e.Message}", e);
        }
    }

    /// <summary>The config as a JSON tree, for comparisons that name the differing key.</summary>
    internal static JsonNode ConfigTree(TrainingConfig config) => JsonSerializer.SerializeToNode(config, s_json)!;

    private sealed class NetworkSpecJsonConverter : JsonConverter<NetworkSpec>
    {
        public override NetworkSpec Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            NetworkSpec.Parse(reader.GetString() ?? throw new JsonException("model spec must be a string"));

        public override void Write(Utf8JsonWriter writer, NetworkSpec value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
    }
}

/// <summary>A training run cannot start or continue (existing directory, mismatched config or data, diverged loss).</summary>
public class TrainingRunException : Exception
{
    /// <summary>Creates the exception.</summary>
    public TrainingRunException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>The loss or the gradient became NaN or infinite; the run stopped and the last good checkpoint is kept.</summary>
public sealed class TrainingDivergedException : TrainingRunException
{
    /// <summary>Creates the exception for step <paramref name="step"/>.</summary>
    public TrainingDivergedException(string message, long step, string? lastCheckpoint) : base(message)
    {
        Step = step;
        LastCheckpoint = lastCheckpoint;
    }

    /// <summary>The (zero-based) step whose loss was not finite.</summary>
    public long Step { get; }

    /// <summary>The last good checkpoint, if any was written.</summary>
    public string? LastCheckpoint { get; }
}
