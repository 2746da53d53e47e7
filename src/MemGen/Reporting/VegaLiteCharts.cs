using System.Text.Json;
using System.Text.Json.Nodes;

namespace MemGen.Reporting;

/// <summary>Options of <see cref="VegaLiteCharts.Line"/>.</summary>
public sealed record LineChartOptions
{
    /// <summary>Field whose values get one line (and colour) each; null for a single line.</summary>
    public string? Color { get; init; }

    /// <summary>Axis titles (default: the field names).</summary>
    public string? XTitle { get; init; }

    /// <summary>Axis titles (default: the field names).</summary>
    public string? YTitle { get; init; }

    /// <summary>Legend title (default: the colour field).</summary>
    public string? ColorTitle { get; init; }

    /// <summary>Logarithmic axes.</summary>
    public bool LogX { get; init; }

    /// <summary>Logarithmic axes.</summary>
    public bool LogY { get; init; }

    /// <summary>Fixed y range, e.g. (0, 1); null lets Vega-Lite choose.</summary>
    public (double Min, double Max)? YDomain { get; init; }

    /// <summary>Fields holding the lower and upper end of an error bar / band per point (e.g. mean ± std).</summary>
    public (string Lower, string Upper)? ErrorBand { get; init; }

    /// <summary>Dashed vertical marker lines at these x values (e.g. n = d).</summary>
    public IReadOnlyList<double> VerticalRules { get; init; } = [];

    /// <summary>Chart size in pixels.</summary>
    public int Width { get; init; } = 520;

    /// <summary>Chart size in pixels.</summary>
    public int Height { get; init; } = 300;
}

/// <summary>
/// Ready-made Vega-Lite specs for <see cref="ReportBuilder.AddFigure"/>. Rows are any objects (records,
/// anonymous types, dictionaries) serialised to JSON with their property names as fields; non-finite
/// numbers must be left out (JSON has no NaN/∞).
/// </summary>
public static class VegaLiteCharts
{
    /// <summary>A line chart (with points) of <paramref name="y"/> against <paramref name="x"/>.</summary>
    public static JsonObject Line<T>(IEnumerable<T> rows, string x, string y, LineChartOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        options ??= new LineChartOptions();
        var values = JsonSerializer.SerializeToNode(rows.ToList()) as JsonArray ?? [];
        var xEnc = Axis(x, options.XTitle, options.LogX, null);
        var yEnc = Axis(y, options.YTitle, options.LogY, options.YDomain);
        JsonObject? color = options.Color is null ? null : new JsonObject
        {
            ["field"] = options.Color,
            ["type"] = "nominal",
            ["title"] = options.ColorTitle ?? options.Color,
            ["scale"] = new JsonObject { ["scheme"] = "category10" },
        };
        var layers = new JsonArray();
        if (options.ErrorBand is var (lo, hi))
        {
            var band = new JsonObject
            {
                ["x"] = xEnc.DeepClone(),
                ["y"] = new JsonObject { ["field"] = lo, ["type"] = "quantitative" },
                ["y2"] = new JsonObject { ["field"] = hi },
            };
            if (color is not null) band["color"] = color.DeepClone();
            layers.Add(new JsonObject { ["mark"] = new JsonObject { ["type"] = "rule" }, ["encoding"] = band });
        }
        var line = new JsonObject { ["x"] = xEnc, ["y"] = yEnc };
        if (color is not null) line["color"] = color;
        line["tooltip"] = new JsonArray(new[] { options.Color, x, y }.Where(f => f is not null)
            .Select(f => (JsonNode)new JsonObject { ["field"] = f }).ToArray());
        layers.Add(new JsonObject { ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true }, ["encoding"] = line });
        if (options.VerticalRules.Count > 0)
        {
            layers.Add(new JsonObject
            {
                ["data"] = new JsonObject { ["values"] = new JsonArray(options.VerticalRules.Select(v => (JsonNode)new JsonObject { [x] = v }).ToArray()) },
                ["mark"] = new JsonObject { ["type"] = "rule", ["strokeDash"] = new JsonArray(4, 4), ["color"] = "gray" },
                ["encoding"] = new JsonObject { ["x"] = new JsonObject { ["field"] = x, ["type"] = "quantitative" } },
            });
        }
        return new JsonObject
        {
            ["width"] = options.Width,
            ["height"] = options.Height,
            ["data"] = new JsonObject { ["values"] = values },
            ["layer"] = layers,
        };
    }

    private static JsonObject Axis(string field, string? title, bool log, (double Min, double Max)? domain)
    {
        var axis = new JsonObject { ["field"] = field, ["type"] = "quantitative", ["title"] = title ?? field };
        var scale = new JsonObject();
        if (log) scale["type"] = "log";
        if (domain is var (min, max)) scale["domain"] = new JsonArray(min, max);
        else if (!log) scale["zero"] = false;
        axis["scale"] = scale;
        return axis;
    }
}
