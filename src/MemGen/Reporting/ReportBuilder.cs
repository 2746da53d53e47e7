using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MemGen.Reporting;

/// <summary>
/// Builds the report every experiment writes: add blocks in display order, then <see cref="Write"/> the
/// run directory's report.html (self-contained, opens offline), report.json and figures/&lt;id&gt;.vl.json.
/// <code>
/// var report = new ReportBuilder("Linear-Gaussian transition", "d = 16..100, R = 300 runs per point");
/// report.AddText("The model memorizes for n &lt; d ...", heading: "Summary");
/// report.AddSettings(JsonSerializer.SerializeToNode(config)!, elapsed: stopwatch.Elapsed);
/// report.AddFigure("p-delta", "P(Δ &gt; 0) vs n/d", "One line per d ...", vegaLiteSpec);
/// report.AddTable("summary", "Per-n summary", "...", ["d", "n", "P"], rows);
/// report.AddImage("samples", "Samples", "...", "samples.png");
/// report.Write(runDir);
/// </code>
/// </summary>
public sealed class ReportBuilder
{
    private readonly ReportDocument _document;
    private readonly HashSet<string> _ids = [];

    /// <summary>Starts a report with a title and an optional one-line subtitle.</summary>
    public ReportBuilder(string title, string? subtitle = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(title);
        _document = new ReportDocument { Title = title, Subtitle = subtitle, CreatedUtc = DateTimeOffset.UtcNow };
    }

    /// <summary>The document built so far (what report.json will hold).</summary>
    public ReportDocument Document => _document;

    /// <summary>Adds plain text (blank lines separate paragraphs) under an optional section heading.</summary>
    public ReportBuilder AddText(string text, string? heading = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        _document.Blocks.Add(new TextBlock(heading, text));
        return this;
    }

    /// <summary>
    /// Adds "what was run": <paramref name="config"/> (any JSON, e.g. <c>JsonSerializer.SerializeToNode(config)</c>)
    /// plus MemGen and .NET versions, OS, cores, command line, start time and (if given) the duration.
    /// </summary>
    public ReportBuilder AddSettings(JsonNode config, TimeSpan? elapsed = null, DateTimeOffset? startedUtc = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        var env = new Dictionary<string, string>
        {
            ["memgen"] = MemGenInfo.Version,
            [".NET"] = Environment.Version.ToString(),
            ["os"] = RuntimeInformation.OSDescription,
            ["cores"] = Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture),
            ["command line"] = string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            ["started (UTC)"] = (startedUtc ?? _document.CreatedUtc).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture),
        };
        if (elapsed is TimeSpan e) env["duration"] = e.TotalSeconds.ToString("F1", CultureInfo.InvariantCulture) + " s";
        return AddSettings(config, env);
    }

    /// <summary>Adds "what was run": <paramref name="config"/> and the given environment lines (name → value).</summary>
    public ReportBuilder AddSettings(JsonNode config, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentNullException.ThrowIfNull(environment);
        _document.Blocks.Add(new SettingsBlock(config.DeepClone(), environment.ToDictionary()));
        return this;
    }

    /// <summary>
    /// Adds a chart. <paramref name="vegaLiteSpec"/> is a Vega-Lite spec with its data inline
    /// (<c>"data": {"values": [...]}</c>); <c>$schema</c> is added if missing. <paramref name="id"/> names
    /// figures/&lt;id&gt;.vl.json and must be unique, lower-case letters, digits, '-' or '_'.
    /// </summary>
    public ReportBuilder AddFigure(string id, string title, string caption, JsonNode vegaLiteSpec)
    {
        ArgumentNullException.ThrowIfNull(vegaLiteSpec);
        if (vegaLiteSpec is not JsonObject) throw new ArgumentException($"Figure '{id}': the Vega-Lite spec must be a JSON object.", nameof(vegaLiteSpec));
        ClaimId(id);
        _document.Blocks.Add(new FigureBlock(id, title, caption, ReportWriter.WithSchema(vegaLiteSpec.DeepClone())));
        return this;
    }

    /// <summary>
    /// Adds a table. Cells may be numbers, strings, booleans or null (numbers are shown with up to 4
    /// significant digits; pass a string to control the format).
    /// </summary>
    public ReportBuilder AddTable(string id, string title, string caption, IReadOnlyList<string> columns, IEnumerable<IReadOnlyList<object?>> rows)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentNullException.ThrowIfNull(rows);
        ClaimId(id);
        var cells = new List<List<JsonNode?>>();
        foreach (var row in rows)
        {
            if (row.Count != columns.Count)
                throw new ArgumentException($"Table '{id}': a row has {row.Count} cells, expected {columns.Count}.", nameof(rows));
            cells.Add(row.Select(ToCell).ToList());
        }
        _document.Blocks.Add(new TableBlock(id, title, caption, columns.ToList(), cells));
        return this;
    }

    /// <summary>Adds a PNG image (read now and embedded as base64).</summary>
    public ReportBuilder AddImage(string id, string title, string caption, string pngPath)
    {
        var bytes = File.ReadAllBytes(pngPath);
        return AddImage(id, title, caption, bytes);
    }

    /// <summary>Adds a PNG image given as bytes (embedded as base64).</summary>
    public ReportBuilder AddImage(string id, string title, string caption, ReadOnlySpan<byte> png)
    {
        if (!ReportDocument.IsPng(png)) throw new ArgumentException($"Image '{id}': not a PNG file.", nameof(png));
        ClaimId(id);
        _document.Blocks.Add(new ImageBlock(id, title, caption, Convert.ToBase64String(png)));
        return this;
    }

    /// <summary>
    /// Writes report.json, figures/&lt;id&gt;.vl.json (and .svg where node can render them) and report.html
    /// into <paramref name="runDirectory"/>. Check <see cref="ReportOutput.Problems"/> for warnings.
    /// </summary>
    public ReportOutput Write(string runDirectory, ReportWriteOptions? options = null) =>
        ReportWriter.Write(_document, runDirectory, options);

    private void ClaimId(string id)
    {
        if (!ReportDocument.IsValidId(id))
            throw new ArgumentException($"Report id '{id}' must be lower-case letters, digits, '-' or '_'.", nameof(id));
        if (!_ids.Add(id)) throw new ArgumentException($"Report id '{id}' is used twice.", nameof(id));
    }

    private static JsonNode? ToCell(object? value) => value switch
    {
        null => null,
        JsonNode n => n.DeepClone(),
        double d when !double.IsFinite(d) => JsonValue.Create(d.ToString(CultureInfo.InvariantCulture)),
        float f when !float.IsFinite(f) => JsonValue.Create(f.ToString(CultureInfo.InvariantCulture)),
        _ => JsonSerializer.SerializeToNode(value),
    };

}
