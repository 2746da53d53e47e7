using System.Text.Json;
using System.Text.Json.Nodes;

namespace MemGen.Reporting;

/// <summary>
/// The Vega-Lite specs of every report (one place for chart building): line charts (with bands, facets, dash groups,
/// reference lines, the identity line) and overlaid histograms. Rows are any objects (records, anonymous types,
/// dictionaries, <see cref="JsonObject"/>s) serialised to JSON with their property names as fields; non-finite numbers
/// must be left out or null (JSON has no NaN/∞).
/// </summary>
public static class VegaLiteCharts
{
    /// <summary>A line chart (with points) of <paramref name="y"/> against <paramref name="x"/>.</summary>
    public static JsonObject Line<T>(IEnumerable<T> rows, string x, string y, LineChartOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        options ??= new LineChartOptions();
        var values = ToValues(rows);
        var xEnc = Axis(x, options.XTitle, options.LogX ? "log" : null, options.LogX ? options.LogXBase : null, options.XDomain);
        if (options.XTicks is { } ticks) xEnc["axis"] = new JsonObject { ["values"] = new JsonArray([.. ticks.Select(t => (JsonNode?)t)]) };
        var yEnc = Axis(y, options.YTitle, options.SymLogY ? "symlog" : options.LogY ? "log" : null, null, options.YDomain);
        JsonObject? color = options.Color is null ? null : new JsonObject
        {
            ["field"] = options.Color,
            ["type"] = options.ColorOrdinal ? "ordinal" : "nominal",
            ["title"] = options.ColorTitle ?? options.Color,
            ["scale"] = Scale(options.ColorDomain, options.ColorRange),
        };
        var layers = new JsonArray();
        if (options.Diagonal)
        {
            layers.Add(new JsonObject
            {
                ["mark"] = new JsonObject { ["type"] = "line", ["color"] = "gray", ["strokeDash"] = new JsonArray(2, 2) },
                ["encoding"] = new JsonObject { ["x"] = xEnc.DeepClone(), ["y"] = new JsonObject { ["field"] = x, ["type"] = "quantitative" } },
            });
        }
        if (options.ErrorBand is var (lo, hi))
        {
            var band = new JsonObject
            {
                ["x"] = xEnc.DeepClone(),
                ["y"] = new JsonObject { ["field"] = lo, ["type"] = "quantitative" },
                ["y2"] = new JsonObject { ["field"] = hi },
            };
            if (color is not null) band["color"] = color.DeepClone();
            layers.Add(new JsonObject
            {
                ["mark"] = options.BandAsArea ? new JsonObject { ["type"] = "area", ["opacity"] = 0.2 } : new JsonObject { ["type"] = "rule" },
                ["encoding"] = band,
            });
        }
        var line = new JsonObject { ["x"] = xEnc, ["y"] = yEnc };
        if (color is not null) line["color"] = color.DeepClone();
        if (options.StrokeDash is string dash)
        {
            line["strokeDash"] = new JsonObject
            {
                ["field"] = dash,
                ["type"] = "nominal",
                ["title"] = options.StrokeDashTitle ?? dash,
                ["legend"] = new JsonObject { ["symbolType"] = "stroke", ["symbolStrokeWidth"] = 2, ["symbolSize"] = 300, ["symbolStrokeColor"] = "black" },
            };
        }
        var tooltip = new JsonArray();
        foreach (var f in new[] { options.Color, options.StrokeDash, options.Facet }.Where(f => f is not null)) tooltip.Add(new JsonObject { ["field"] = f });
        tooltip.Add(new JsonObject { ["field"] = x, ["type"] = "quantitative", ["format"] = ".4g" });
        tooltip.Add(new JsonObject { ["field"] = y, ["type"] = "quantitative", ["format"] = ".4g" });
        foreach (var (field, format) in options.Tooltip)
        {
            var t = new JsonObject { ["field"] = field };
            if (format is not null) (t["type"], t["format"]) = ("quantitative", format);
            tooltip.Add(t);
        }
        line["tooltip"] = tooltip;
        if (options.PointsOnly)
        {
            layers.Add(new JsonObject { ["mark"] = new JsonObject { ["type"] = "point", ["opacity"] = 0.6 }, ["encoding"] = line });
            if (options.MeanLine)
            {
                var mean = new JsonObject { ["x"] = xEnc.DeepClone(), ["y"] = new JsonObject { ["aggregate"] = "mean", ["field"] = y, ["type"] = "quantitative", ["title"] = options.YTitle ?? y } };
                if (color is not null) mean["color"] = color.DeepClone();
                layers.Add(new JsonObject { ["mark"] = new JsonObject { ["type"] = "line" }, ["encoding"] = mean });
            }
        }
        else
        {
            layers.Add(new JsonObject { ["mark"] = new JsonObject { ["type"] = "line", ["point"] = options.Points }, ["encoding"] = line });
        }
        if (options.VerticalRules.Count > 0)
        {
            layers.Add(new JsonObject
            {
                ["data"] = new JsonObject { ["values"] = new JsonArray([.. options.VerticalRules.Select(v => (JsonNode?)new JsonObject { [x] = v })]) },
                ["mark"] = new JsonObject { ["type"] = "rule", ["strokeDash"] = new JsonArray(4, 4), ["color"] = "gray" },
                ["encoding"] = new JsonObject { ["x"] = new JsonObject { ["field"] = x, ["type"] = "quantitative" } },
            });
        }
        var body = new JsonObject { ["width"] = options.Width, ["height"] = options.Height, ["layer"] = layers };
        return Faceted(values, body, options.Facet, options.FacetTitle, options.FacetColumns, row: false, options.IndependentScales, options.FacetOrder);
    }

    /// <summary>
    /// Overlaid histograms of pre-computed bins, one colour per group, optionally one row of panels per facet value.
    /// <paramref name="references"/> (optional) are dashed vertical lines: rows with the facet field (if any), <c>x</c> and
    /// <c>label</c> (e.g. the held-out images' median similarity), drawn in their panel.
    /// </summary>
    public static JsonObject Histogram<T>(IEnumerable<T> rows, HistogramChartOptions? options = null, JsonArray? references = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        options ??= new HistogramChartOptions();
        var values = ToValues(rows);
        var x = Axis(options.Lower, options.XTitle, null, null, options.XDomain);
        var bars = new JsonObject
        {
            ["mark"] = new JsonObject { ["type"] = "bar", ["opacity"] = 0.55 },
            ["encoding"] = new JsonObject
            {
                ["x"] = x,
                ["x2"] = new JsonObject { ["field"] = options.Upper },
                ["y"] = new JsonObject { ["field"] = options.Fraction, ["type"] = "quantitative", ["title"] = options.YTitle, ["stack"] = null },
                ["y2"] = new JsonObject { ["datum"] = 0 },
                ["color"] = new JsonObject
                {
                    ["field"] = options.Group,
                    ["type"] = "nominal",
                    ["title"] = null,
                    ["legend"] = new JsonObject { ["labelLimit"] = 400, ["orient"] = "top", ["direction"] = "vertical" },
                    ["scale"] = Scale(options.GroupDomain, options.GroupRange),
                },
                ["tooltip"] = new JsonArray(
                    new JsonObject { ["field"] = options.Group },
                    new JsonObject { ["field"] = options.Lower },
                    new JsonObject { ["field"] = options.Fraction, ["format"] = ".2f" }),
            },
        };
        JsonObject body;
        if (references is { Count: > 0 })
        {
            // One data set for the facet: bins and reference lines told apart by a "layer" field.
            foreach (var v in values) v!["layer"] = "bin";
            foreach (var r in references)
            {
                var copy = (JsonObject)r!.DeepClone();
                copy["layer"] = "reference";
                values.Add(copy);
            }
            bars["transform"] = new JsonArray(new JsonObject { ["filter"] = "datum.layer === 'bin'" });
            var rule = new JsonObject
            {
                ["transform"] = new JsonArray(new JsonObject { ["filter"] = "datum.layer === 'reference'" }),
                ["mark"] = new JsonObject { ["type"] = "rule", ["strokeDash"] = new JsonArray(5, 3), ["color"] = "black", ["strokeWidth"] = 1.5 },
                ["encoding"] = new JsonObject
                {
                    ["x"] = new JsonObject { ["field"] = "x", ["type"] = "quantitative" },
                    ["tooltip"] = new JsonArray(new JsonObject { ["field"] = "label" }, new JsonObject { ["field"] = "x", ["format"] = ".3f" }),
                },
            };
            body = new JsonObject { ["width"] = options.Width, ["height"] = options.Height, ["layer"] = new JsonArray(bars, rule) };
        }
        else
        {
            body = new JsonObject { ["width"] = options.Width, ["height"] = options.Height, ["mark"] = bars["mark"]!.DeepClone(), ["encoding"] = bars["encoding"]!.DeepClone() };
        }
        return Faceted(values, body, options.FacetRow, options.FacetTitle, 1, row: true, independent: false, order: null);
    }

    private static JsonObject Faceted(JsonArray values, JsonObject body, string? facet, string? title, int columns, bool row, bool independent, IReadOnlyList<string>? order)
    {
        if (facet is null)
        {
            body["data"] = new JsonObject { ["values"] = values };
            return body;
        }
        var field = new JsonObject { ["field"] = facet, ["type"] = "ordinal", ["title"] = title ?? facet };
        if (order is not null) field["sort"] = new JsonArray([.. order.Select(o => (JsonNode?)o)]);
        var spec = new JsonObject { ["data"] = new JsonObject { ["values"] = values } };
        if (row)
        {
            spec["facet"] = new JsonObject { ["row"] = field };
        }
        else
        {
            spec["facet"] = field;
            spec["columns"] = Math.Max(1, columns);
        }
        if (independent) spec["resolve"] = new JsonObject { ["scale"] = new JsonObject { ["x"] = "independent", ["y"] = "independent" } };
        spec["spec"] = body;
        return spec;
    }

    private static JsonArray ToValues<T>(IEnumerable<T> rows) => rows switch
    {
        JsonArray a => (JsonArray)a.DeepClone(),
        _ => JsonSerializer.SerializeToNode(rows.ToList()) as JsonArray ?? [],
    };

    private static JsonObject Scale(IReadOnlyList<string>? domain, IReadOnlyList<string>? range)
    {
        var scale = new JsonObject();
        if (domain is not null) scale["domain"] = new JsonArray([.. domain.Select(d => (JsonNode?)d)]);
        if (range is not null) scale["range"] = new JsonArray([.. range.Select(r => (JsonNode?)r)]);
        else scale["scheme"] = "category10";
        return scale;
    }

    private static JsonObject Axis(string field, string? title, string? scaleType, double? logBase, (double Min, double Max)? domain)
    {
        var axis = new JsonObject { ["field"] = field, ["type"] = "quantitative", ["title"] = title ?? field };
        var scale = new JsonObject();
        if (scaleType is not null) scale["type"] = scaleType;
        if (logBase is double b && b != 10) scale["base"] = b;
        if (domain is var (min, max)) scale["domain"] = new JsonArray(min, max);
        else if (scaleType is null) scale["zero"] = false;
        axis["scale"] = scale;
        return axis;
    }
}
