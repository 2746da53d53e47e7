using System.Text.Json.Serialization;
using System.Text.Json;
using MemGen.Data;
using MemGen.Images;

namespace MemGen.Analysis;

/// <summary>
/// JSON for analysis results: snake_case property names, indented, and NaN/±∞ written as null (plain JSON has no
/// literal for them, and System.Text.Json refuses them by default). Use it for summaries such as
/// <see cref="MemorizationSummary"/> and <see cref="SimilaritySummary"/>.
/// </summary>
public static class AnalysisJson
{
    /// <summary>The serializer options used by <see cref="Serialize"/>.</summary>
    public static JsonSerializerOptions Options { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new FiniteOrNullConverter() },
    };

    /// <summary>Serializes <paramref name="value"/> (non-finite doubles become null).</summary>
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    /// <summary>Writes <see cref="Serialize"/>'s text to <paramref name="path"/> atomically.</summary>
    public static void Write<T>(string path, T value) => AtomicFile.WriteAllText(path, Serialize(value));

    private sealed class FiniteOrNullConverter : JsonConverter<double>
    {
        public override bool HandleNull => true;

        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? double.NaN : reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (double.IsFinite(value)) writer.WriteNumberValue(value);
            else writer.WriteNullValue();
        }
    }
}
