using System.Text.Json.Nodes;
using MemGen.Reporting;

namespace MemGen.Tests.Reporting;

/// <summary>A small report with every kind of block, shared by the reporting tests.</summary>
internal static class ReportTestData
{
    // A 1×1 PNG.
    public static readonly byte[] Png = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");

    public static JsonObject LineSpec(int points, string title)
    {
        var values = new JsonArray();
        for (int i = 0; i < points; i++)
        {
            values.Add(new JsonObject { ["x"] = i, ["y"] = i * i * 0.5, ["series"] = "a</script>" });
            values.Add(new JsonObject { ["x"] = i, ["y"] = i + 1.0, ["series"] = "b & <c>" });
        }
        return new JsonObject
        {
            ["title"] = title,
            ["width"] = 300,
            ["height"] = 200,
            ["data"] = new JsonObject { ["values"] = values },
            ["mark"] = new JsonObject { ["type"] = "line", ["point"] = true },
            ["encoding"] = new JsonObject
            {
                ["x"] = new JsonObject { ["field"] = "x", ["type"] = "quantitative" },
                ["y"] = new JsonObject { ["field"] = "y", ["type"] = "quantitative" },
                ["color"] = new JsonObject { ["field"] = "series", ["type"] = "nominal" },
            },
        };
    }

    public static ReportBuilder Build()
    {
        var report = new ReportBuilder("Test report <&>", "subtitle");
        report.AddText("First paragraph with <b>markup</b>.\n\nSecond paragraph.", heading: "Summary");
        report.AddSettings(new JsonObject { ["seed"] = 7, ["nested"] = new JsonObject { ["d"] = new JsonArray(16, 32) } }, TimeSpan.FromSeconds(1.5));
        report.AddFigure("first", "First figure", "A line chart.", LineSpec(5, "one"));
        report.AddTable("numbers", "Numbers", "A table.", ["name", "value"], [["pi", Math.PI], ["nan", double.NaN], ["none", null]]);
        report.AddFigure("second-fig", "Second figure", "Another line chart.", LineSpec(8, "two"));
        report.AddImage("pixel", "A pixel", "One pixel.", Png);
        report.AddFigure("helper-line", "Helper line chart", "VegaLiteCharts.Line with bands and a marker.",
            VegaLiteCharts.Line(
                Enumerable.Range(1, 6).SelectMany(i => new[] { new { n = i * 10.0, p = i / 6.0, lo = i / 7.0, hi = i / 5.0, d = "16" }, new { n = i * 10.0, p = i / 8.0, lo = i / 9.0, hi = i / 7.0, d = "32" } }),
                "n", "p", new LineChartOptions { Color = "d", LogX = true, YDomain = (0, 1.2), ErrorBand = ("lo", "hi"), VerticalRules = [16, 32] }));
        return report;
    }

    public static string NewRunDirectory()
    {
        var dir = Path.Combine(Path.GetTempPath(), "memgen-report-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
