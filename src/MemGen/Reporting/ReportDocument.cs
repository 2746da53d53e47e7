using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace MemGen.Reporting;

/// <summary>
/// Everything a report shows, in order: the content of <c>report.json</c>, from which <c>report.html</c>
/// is rendered (again, by <c>memgen report RUN_DIR</c>). Built with <see cref="ReportBuilder"/>.
/// </summary>
public sealed partial record ReportDocument
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
        doc.Validate(source);
        return doc;
    }

    /// <summary>
    /// Checks what report.json may not be trusted to hold, since run folders are shared: every block present with its
    /// text fields, ids that are file-name safe and unique (they name elements and figures/&lt;id&gt;.vl.json), figure specs
    /// that are JSON objects, table rows that fit their columns, images that are base64-encoded PNG data.
    /// Throws <see cref="InvalidDataException"/> naming the block.
    /// </summary>
    public void Validate(string source = "report.json")
    {
        var ids = new HashSet<string>(StringComparer.Ordinal);
        for (int b = 0; b < Blocks.Count; b++)
        {
            var block = Blocks[b];
            string Where() => $"{source}: block {b + 1}";
            string? problem = block switch
            {
                null => "is empty",
                TextBlock t when t.Text is null => "text block has no text",
                SettingsBlock s when s.Config is null || s.Environment is null => "settings block lacks its config or environment",
                FigureBlock f when f.Spec is not JsonObject => $"figure '{f.Id}': spec is not a JSON object",
                TableBlock t when t.Columns is null || t.Rows is null || t.Columns.Any(c => c is null) => $"table '{t.Id}': columns or rows are missing",
                TableBlock t when t.Rows.Any(r => r is null || r.Count > t.Columns.Count) => $"table '{t.Id}': a row has more cells than there are columns",
                ImageBlock i when !IsBase64Png(i.PngBase64) => $"image '{i.Id}': png_base64 is not base64-encoded PNG data",
                _ => null,
            };
            if (problem is not null) throw new InvalidDataException($"{Where()}: {problem}");
            string? id = block switch { FigureBlock f => f.Id, TableBlock t => t.Id, ImageBlock i => i.Id, _ => null };
            if (block is FigureBlock or TableBlock or ImageBlock)
            {
                if (!IsValidId(id)) throw new InvalidDataException($"{Where()}: id '{id}' must be 1-100 lower-case letters, digits, '-' or '_'");
                if (!ids.Add(id!)) throw new InvalidDataException($"{Where()}: id '{id}' is used twice");
            }
        }
    }

    /// <summary>True for an id that is safe as an element id and a file name: lower-case letters, digits, '-', '_' (1-100, not starting with '-' or '_').</summary>
    public static bool IsValidId(string? id) => id is { Length: > 0 and <= 100 } && IdPattern().IsMatch(id);

    /// <summary>True when <paramref name="base64"/> is plain base64 (no other characters) of a file that starts with the PNG signature.</summary>
    public static bool IsBase64Png(string? base64)
    {
        if (string.IsNullOrEmpty(base64) || base64.Length % 4 != 0 || base64.AsSpan().ContainsAnyExcept(s_base64Characters)) return false;
        var bytes = new byte[base64.Length / 4 * 3];
        return Convert.TryFromBase64String(base64, bytes, out int written) && IsPng(bytes.AsSpan(0, written));
    }

    /// <summary>True when <paramref name="bytes"/> start with the PNG signature.</summary>
    public static bool IsPng(ReadOnlySpan<byte> bytes) => bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);

    private static readonly System.Buffers.SearchValues<char> s_base64Characters =
        System.Buffers.SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=");

    [System.Text.RegularExpressions.GeneratedRegex("^[a-z0-9][a-z0-9_-]*$")]
    private static partial System.Text.RegularExpressions.Regex IdPattern();

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
