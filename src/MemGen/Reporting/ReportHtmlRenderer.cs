using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace MemGen.Reporting;

/// <summary>
/// Renders a <see cref="ReportDocument"/> as one self-contained HTML page: styles, the vega / vega-lite /
/// vega-embed scripts and all figure specs are inlined, images are data URIs, so it opens offline.
/// After rendering, <c>body</c> carries <c>data-charts</c> (expected), <c>data-charts-rendered</c> and
/// <c>data-errors</c> (script errors seen by the page), which tests read from the DOM.
/// </summary>
public static class ReportHtmlRenderer
{
    private const string Style = """
        body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
        h1 { margin-bottom: .2em; } .subtitle { color: #555; margin-top: 0; }
        h2 { border-bottom: 1px solid #ddd; padding-bottom: .2em; margin-top: 1.8em; }
        figure { margin: 1.5em 0; } figcaption { color: #444; font-size: .95em; max-width: 900px; }
        table { border-collapse: collapse; font-size: .9em; margin: .5em 0; }
        figure[id^="table-"] { overflow-x: auto; }
        th, td { border: 1px solid #ccc; padding: .25em .6em; text-align: right; font-variant-numeric: tabular-nums; }
        th { background: #f3f3f3; } td.text { text-align: left; }
        details { margin: .5em 0; } pre { background: #f7f7f7; padding: .6em; overflow-x: auto; font-size: .85em; }
        .warning { background: #fff3cd; border: 1px solid #e0c060; padding: .6em; }
        .chart-error { color: #a00; white-space: pre-wrap; }
        img.report-image { max-width: 100%; image-rendering: pixelated; border: 1px solid #ddd; }
        footer { margin-top: 3em; color: #777; font-size: .85em; }
        """;

    // Installed before the vega scripts so that errors while loading them are counted too.
    private const string ErrorCapture = """
        window.__reportErrors = [];
        window.addEventListener('error', e => { window.__reportErrors.push(String(e.message)); });
        window.addEventListener('unhandledrejection', e => { window.__reportErrors.push(String(e.reason)); });
        (function () { const original = console.error; console.error = function (...args) { window.__reportErrors.push(args.map(String).join(' ')); original.apply(console, args); }; })();
        """;

    private const string EmbedAll = """
        (function () {
          const specs = JSON.parse(document.getElementById('report-specs').textContent);
          const ids = Object.keys(specs);
          let rendered = 0;
          const finish = () => {
            document.body.setAttribute('data-charts-rendered', String(rendered));
            document.body.setAttribute('data-errors', String(window.__reportErrors.length));
            document.body.setAttribute('data-error-messages', window.__reportErrors.join(' | '));
            document.body.setAttribute('data-done', 'true');
          };
          if (typeof vegaEmbed !== 'function') {
            window.__reportErrors.push('vega-embed is not loaded');
            finish();
            return;
          }
          // Every figure carries its data inline: a spec that asks for a URL (data, link or image) is refused, so a report
          // opened from a shared folder never fetches from or navigates to an address its report.json names.
          const refuse = (uri) => Promise.reject(new Error('external resource refused: ' + uri));
          const loader = { load: refuse, sanitize: refuse, http: refuse, file: refuse };
          Promise.all(ids.map(id => vegaEmbed('#chart-' + id, specs[id], { renderer: 'svg', loader: loader, actions: { export: true, source: true, compiled: false, editor: false } })
            .then(() => { rendered++; })
            .catch(err => {
              window.__reportErrors.push('chart ' + id + ': ' + err);
              const box = document.getElementById('chart-' + id);
              box.classList.add('chart-error');
              box.textContent = 'This chart could not be rendered: ' + err;
            }))).then(finish);
        })();
        """;

    /// <summary>
    /// Renders the page. With <paramref name="assets"/> null the charts cannot be drawn; the page says so
    /// (and how to fix it) instead of failing.
    /// </summary>
    public static string Render(ReportDocument document, VegaAssets? assets)
    {
        ArgumentNullException.ThrowIfNull(document);
        var html = new StringBuilder(1 << 20);
        var figures = document.Figures.ToList();
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
        html.Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
        html.Append("<title>").Append(Escape(document.Title)).Append("</title>\n");
        html.Append("<style>\n").Append(Style).Append("</style>\n");
        html.Append("<script>\n").Append(ErrorCapture).Append("</script>\n");
        if (assets is not null && figures.Count > 0)
        {
            foreach (var (package, script) in assets.ReadScripts())
                html.Append("<script data-package=\"").Append(package).Append("\">\n").Append(InlineScript(script)).Append("\n</script>\n");
        }
        html.Append("</head>\n<body data-charts=\"").Append(figures.Count.ToString(CultureInfo.InvariantCulture)).Append("\">\n");
        html.Append("<h1>").Append(Escape(document.Title)).Append("</h1>\n");
        if (!string.IsNullOrWhiteSpace(document.Subtitle))
            html.Append("<p class=\"subtitle\">").Append(Escape(document.Subtitle)).Append("</p>\n");
        if (assets is null && figures.Count > 0)
        {
            html.Append("<p class=\"warning\">The charting scripts (npm packages vega, vega-lite, vega-embed) were not found when this ")
                .Append("report was written, so the charts below are not drawn. Run <code>scripts/install-deps</code>, then ")
                .Append("<code>memgen report RUN_DIR</code> to render this page again. Each figure's data is in figures/&lt;id&gt;.vl.json.</p>\n");
        }

        foreach (var block in document.Blocks)
        {
            switch (block)
            {
                case TextBlock t: RenderText(html, t); break;
                case SettingsBlock s: RenderSettings(html, s); break;
                case FigureBlock f: RenderFigure(html, f); break;
                case TableBlock t: RenderTable(html, t); break;
                case ImageBlock i: RenderImage(html, i); break;
                default: throw new InvalidOperationException($"Unknown report block {block.GetType().Name}.");
            }
        }

        html.Append("<footer>Written by MemGen ").Append(Escape(MemGenInfo.Version)).Append(" on ")
            .Append(document.CreatedUtc.ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture));
        if (assets is not null)
            html.Append(". Charts: ").Append(Escape(string.Join(", ", assets.Versions.Select(kv => $"{kv.Key} {kv.Value}"))));
        html.Append(".</footer>\n");

        // Specs as one JSON object; the default encoder escapes <, > and & in names and values, so no "</script>" or
        // "<!--" can appear inside. Only figures with valid ids take part (an id also names an element and a file).
        var specs = new JsonObject();
        foreach (var f in figures.Where(f => ReportDocument.IsValidId(f.Id))) specs[f.Id] = f.Spec?.DeepClone();
        html.Append("<script type=\"application/json\" id=\"report-specs\">")
            .Append(specs.ToJsonString(new JsonSerializerOptions { WriteIndented = false }))
            .Append("</script>\n");
        html.Append("<script>\n").Append(EmbedAll).Append("</script>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static void RenderText(StringBuilder html, TextBlock t)
    {
        if (!string.IsNullOrWhiteSpace(t.Heading)) html.Append("<h2>").Append(Escape(t.Heading)).Append("</h2>\n");
        foreach (var paragraph in t.Text.Replace("\r\n", "\n").Split("\n\n", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            html.Append("<p>").Append(Escape(paragraph).Replace("\n", "<br>")).Append("</p>\n");
    }

    private static void RenderSettings(StringBuilder html, SettingsBlock s)
    {
        html.Append("<h2>What was run</h2>\n<table class=\"settings\">\n");
        foreach (var (key, value) in s.Environment)
            html.Append("<tr><th>").Append(Escape(key)).Append("</th><td class=\"text\">").Append(Escape(value)).Append("</td></tr>\n");
        foreach (var (key, value) in Flatten(s.Config, ""))
            html.Append("<tr><th>").Append(Escape(key)).Append("</th><td class=\"text\">").Append(Escape(value)).Append("</td></tr>\n");
        html.Append("</table>\n<details><summary>Configuration as JSON</summary><pre>")
            .Append(Escape(s.Config.ToJsonString(new JsonSerializerOptions { WriteIndented = true })))
            .Append("</pre></details>\n");
    }

    private static void RenderFigure(StringBuilder html, FigureBlock f)
    {
        html.Append("<figure id=\"figure-").Append(Escape(f.Id)).Append("\">\n<h3>").Append(Escape(f.Title)).Append("</h3>\n")
            .Append("<div class=\"chart\" id=\"chart-").Append(Escape(f.Id)).Append("\"></div>\n")
            .Append("<figcaption>").Append(Escape(f.Caption)).Append(" <small>(spec and data: figures/")
            .Append(Escape(f.Id)).Append(".vl.json)</small></figcaption>\n</figure>\n");
    }

    private static void RenderTable(StringBuilder html, TableBlock t)
    {
        html.Append("<figure id=\"table-").Append(Escape(t.Id)).Append("\">\n<h3>").Append(Escape(t.Title)).Append("</h3>\n<table>\n<tr>");
        foreach (var c in t.Columns) html.Append("<th>").Append(Escape(c)).Append("</th>");
        html.Append("</tr>\n");
        foreach (var row in t.Rows)
        {
            html.Append("<tr>");
            foreach (var cell in row)
            {
                bool numeric = cell is JsonValue v && v.GetValueKind() == JsonValueKind.Number;
                html.Append(numeric ? "<td>" : "<td class=\"text\">").Append(Escape(FormatCell(cell))).Append("</td>");
            }
            html.Append("</tr>\n");
        }
        html.Append("</table>\n");
        if (!string.IsNullOrWhiteSpace(t.Caption)) html.Append("<figcaption>").Append(Escape(t.Caption)).Append("</figcaption>\n");
        html.Append("</figure>\n");
    }

    private static void RenderImage(StringBuilder html, ImageBlock i)
    {
        html.Append("<figure id=\"image-").Append(Escape(i.Id)).Append("\">\n<h3>").Append(Escape(i.Title)).Append("</h3>\n");
        // Only validated base64 PNG data goes into the attribute; anything else could close it.
        if (ReportDocument.IsBase64Png(i.PngBase64))
            html.Append("<img class=\"report-image\" alt=\"").Append(Escape(i.Title)).Append("\" src=\"data:image/png;base64,").Append(i.PngBase64).Append("\">\n");
        else
            html.Append("<p class=\"warning\">This image is not base64-encoded PNG data and is not shown.</p>\n");
        html.Append("<figcaption>").Append(Escape(i.Caption)).Append("</figcaption>\n</figure>\n");
    }

    /// <summary>Formats a table cell: numbers with up to 4 significant digits (integers in full).</summary>
    public static string FormatCell(JsonNode? cell)
    {
        if (cell is null) return "";
        if (cell is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            double x = double.Parse(v.ToJsonString(), NumberStyles.Float, CultureInfo.InvariantCulture);
            if (x == Math.Floor(x) && Math.Abs(x) < 1e15) return x.ToString("0", CultureInfo.InvariantCulture);
            return x.ToString("G4", CultureInfo.InvariantCulture);
        }
        if (cell is JsonValue s && s.GetValueKind() == JsonValueKind.String) return s.GetValue<string>();
        return cell.ToJsonString();
    }

    private static IEnumerable<(string Key, string Value)> Flatten(JsonNode? node, string prefix)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (k, v) in o)
                    foreach (var item in Flatten(v, prefix.Length == 0 ? k : prefix + "." + k)) yield return item;
                break;
            default:
                yield return (prefix.Length == 0 ? "config" : prefix, FormatCell(node));
                break;
        }
    }

    private static string InlineScript(string script) =>
        script.Replace("</script", "<\\/script", StringComparison.OrdinalIgnoreCase);

    private static string Escape(string text) => WebUtility.HtmlEncode(text);
}
