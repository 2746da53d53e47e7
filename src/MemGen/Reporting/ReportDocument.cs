using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MemGen.Reporting;

/// <summary>
/// Everything a report shows, in order: the content of <c>report.json</c>, from which <c>report.html</c>
/// is rendered (again, by <c>memgen report RUN_DIR</c>). Built with <see cref="ReportBuilder"/>.
/// </summary>
public sealed record ReportDocument
{
    /// <summary>Format version of report.json.</summary>
    public int Format { get; init; } = 1;

    /// <summary>Title of the report (the experiment).</summary>
    public required string Title { get; init; }

    /// <summary>One line under the title, or null.</summary>
    public string? Subtitle { get; init; }

    /// <summary>When the report was built (UTC).</summary>
    public DateTimeOffset CreatedUtc { get; init; }

    /// <summary>The blocks, in display order.</summary>
    public List<ReportBlock> Blocks { get; init; } = [];

    /// <summary>JSON options of report.json (snake_case, indented).</summary>
    public static JsonSerializerOptions JsonOptions { get; } = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Serializes the document as report.json text.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, JsonOptions);

    /// <summary>Parses report.json text; throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static ReportDocument FromJson(string json, string source = "report.json")
    {
        ReportDocument? doc;
        try
        {
            doc = JsonSerializer.Deserialize<ReportDocument>(json, JsonOptions);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{source}: not a valid report ({e.Message})", e);
        }
        if (doc is null || string.IsNullOrWhiteSpace(doc.Title))
            throw new InvalidDataException($"{source}: not a valid report (missing title)");
        if (doc.Format != 1) throw new InvalidDataException($"{source}: unsupported report format {doc.Format} (expected 1)");
        return doc;
    }

    /// <summary>The figure blocks, in display order.</summary>
    public IEnumerable<FigureBlock> Figures => Blocks.OfType<FigureBlock>();
}

/// <summary>One piece of a report. The JSON property <c>kind</c> tells which.</summary>
[JsonPolymorphic(TypeDiscriminatorPropertyName = "kind")]
[JsonDerivedType(typeof(TextBlock), "text")]
[JsonDerivedType(typeof(SettingsBlock), "settings")]
[JsonDerivedType(typeof(FigureBlock), "figure")]
[JsonDerivedType(typeof(TableBlock), "table")]
[JsonDerivedType(typeof(ImageBlock), "image")]
public abstract record ReportBlock;

/// <summary>Plain text (paragraphs separated by blank lines) under an optional heading.</summary>
/// <param name="Heading">Section heading, or null.</param>
/// <param name="Text">The text; shown escaped, blank lines start new paragraphs.</param>
public sealed record TextBlock(string? Heading, string Text) : ReportBlock;

/// <summary>What was run: the configuration and the environment (versions, machine, time).</summary>
/// <param name="Config">The experiment's configuration (any JSON).</param>
/// <param name="Environment">Name → value: MemGen and .NET versions, OS, cores, start time, duration.</param>
public sealed record SettingsBlock(JsonNode Config, Dictionary<string, string> Environment) : ReportBlock;

/// <summary>A chart: a Vega-Lite spec with its data inline.</summary>
/// <param name="Id">File-name-safe id (figures/&lt;id&gt;.vl.json).</param>
/// <param name="Title">Heading shown above the chart.</param>
/// <param name="Caption">What the figure shows (one or two sentences).</param>
/// <param name="Spec">The Vega-Lite spec, data included (<c>data.values</c>).</param>
public sealed record FigureBlock(string Id, string Title, string Caption, JsonNode Spec) : ReportBlock;

/// <summary>A table of numbers or text.</summary>
/// <param name="Id">File-name-safe id.</param>
/// <param name="Title">Heading shown above the table.</param>
/// <param name="Caption">What the table shows.</param>
/// <param name="Columns">Column headers.</param>
/// <param name="Rows">Cells (JSON numbers, strings, booleans or null), one list per row.</param>
public sealed record TableBlock(string Id, string Title, string Caption, List<string> Columns, List<List<JsonNode?>> Rows) : ReportBlock;

/// <summary>A PNG image (e.g. an image grid), embedded as base64.</summary>
/// <param name="Id">File-name-safe id.</param>
/// <param name="Title">Heading shown above the image.</param>
/// <param name="Caption">What the image shows.</param>
/// <param name="PngBase64">The PNG file, base64-encoded.</param>
public sealed record ImageBlock(string Id, string Title, string Caption, string PngBase64) : ReportBlock;
