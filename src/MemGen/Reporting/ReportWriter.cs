using System.Text.Json.Nodes;
using System.Text.Json;
using MemGen.Images;

namespace MemGen.Reporting;

/// <summary>What <see cref="ReportWriter.Write"/> produced.</summary>
/// <param name="HtmlPath">report.html (self-contained).</param>
/// <param name="JsonPath">report.json (re-render with <c>memgen report RUN_DIR</c>).</param>
/// <param name="SpecPaths">figures/&lt;id&gt;.vl.json, one per figure.</param>
/// <param name="SvgPaths">figures/&lt;id&gt;.svg written (empty if SVG export was skipped or failed).</param>
/// <param name="ChartsInlined">Whether the vega scripts were found and inlined (charts draw offline).</param>
/// <param name="Problems">Human-readable warnings (scripts missing, SVG export failed); empty if none.</param>
public sealed record ReportOutput(
    string HtmlPath, string JsonPath, IReadOnlyList<string> SpecPaths, IReadOnlyList<string> SvgPaths,
    bool ChartsInlined, IReadOnlyList<string> Problems);

/// <summary>Options of <see cref="ReportWriter.Write"/>.</summary>
public sealed record ReportWriteOptions
{
    /// <summary>Also write figures/&lt;id&gt;.svg through node + vega (default true; skipped quietly if node is missing).</summary>
    public bool ExportSvg { get; init; } = true;

    /// <summary>The charting scripts; null means <see cref="VegaAssets.Locate"/>.</summary>
    public VegaAssets? Assets { get; init; }

    /// <summary>Time limit of the SVG export.</summary>
    public TimeSpan SvgTimeout { get; init; } = TimeSpan.FromSeconds(60);
}

/// <summary>
/// Writes a report into a run directory: report.json, figures/&lt;id&gt;.vl.json (+ .svg), report.html.
/// Every file is written atomically.
/// </summary>
public static class ReportWriter
{
    /// <summary>File name of the rendered report.</summary>
    public const string HtmlFileName = "report.html";

    /// <summary>File name of the report's content.</summary>
    public const string JsonFileName = "report.json";

    /// <summary>Writes all report files of <paramref name="document"/> into <paramref name="runDirectory"/>.</summary>
    public static ReportOutput Write(ReportDocument document, string runDirectory, ReportWriteOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(document);
        options ??= new ReportWriteOptions();
        Directory.CreateDirectory(runDirectory);
        var problems = new List<string>();
        var assets = options.Assets ?? VegaAssets.Locate();
        if (assets is null && document.Figures.Any())
            problems.Add("charting scripts not found (run scripts/install-deps, then memgen report RUN_DIR); charts are not drawn");

        var jsonPath = Path.Combine(runDirectory, JsonFileName);
        AtomicFile.WriteAllText(jsonPath, document.ToJson());

        var figuresDir = Path.Combine(runDirectory, "figures");
        var specPaths = new List<string>();
        var pairs = new List<(string, string)>();
        foreach (var f in document.Figures)
        {
            var specPath = Path.Combine(figuresDir, f.Id + ".vl.json");
            AtomicFile.WriteAllText(specPath, f.Spec.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
            specPaths.Add(specPath);
            pairs.Add((specPath, Path.Combine(figuresDir, f.Id + ".svg")));
        }

        var htmlPath = Path.Combine(runDirectory, HtmlFileName);
        AtomicFile.WriteAllText(htmlPath, ReportHtmlRenderer.Render(document, assets));

        var svgPaths = new List<string>();
        if (options.ExportSvg && assets is not null && pairs.Count > 0)
        {
            foreach (var (_, svg) in pairs) File.Delete(svg); // no stale SVG from an earlier render
            var problem = FigureSvgExporter.TryExport(assets, pairs, options.SvgTimeout);
            svgPaths.AddRange(pairs.Select(p => p.Item2).Where(File.Exists));
            if (problem is not null) problems.Add($"SVG export incomplete: {problem}");
        }
        return new ReportOutput(htmlPath, jsonPath, specPaths, svgPaths, assets is not null, problems);
    }

    /// <summary>
    /// Reads <c>RUN_DIR/report.json</c> and writes report.html (and the figure files) again, e.g. after
    /// installing the charting scripts. Throws <see cref="FileNotFoundException"/> or
    /// <see cref="InvalidDataException"/> with a one-line message.
    /// </summary>
    public static ReportOutput Rerender(string runDirectory, ReportWriteOptions? options = null)
    {
        var jsonPath = Path.Combine(runDirectory, JsonFileName);
        if (!File.Exists(jsonPath)) throw new FileNotFoundException($"{jsonPath}: no such file (is {runDirectory} a run directory?)", jsonPath);
        var document = ReportDocument.FromJson(File.ReadAllText(jsonPath), jsonPath);
        return Write(document, runDirectory, options);
    }

    /// <summary>Adds <c>$schema</c> (Vega-Lite v6) to a spec that has none; returns the spec.</summary>
    internal static JsonNode WithSchema(JsonNode spec)
    {
        if (spec is JsonObject o && !o.ContainsKey("$schema"))
        {
            var copy = new JsonObject { ["$schema"] = "https://vega.github.io/schema/vega-lite/v6.json" };
            foreach (var (k, v) in o) copy[k] = v?.DeepClone();
            return copy;
        }
        return spec;
    }
}
