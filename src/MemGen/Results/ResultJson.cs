using System.Text.Json.Nodes;

namespace MemGen.Results;

/// <summary>Numbers as they go into result JSON: NaN and ±∞ become null (JSON has no such values).</summary>
public static class ResultJson
{
    /// <summary><paramref name="value"/> as a JSON number, or null when it is not finite.</summary>
    public static JsonNode? Finite(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    /// <summary>A {"mean", "std"} object over the run-to-run spread of a quantity.</summary>
    public static JsonObject MeanStd(double mean, double std) => new() { ["mean"] = Finite(mean), ["std"] = Finite(std) };
}
