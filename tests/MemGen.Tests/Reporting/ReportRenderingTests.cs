using System.Text.RegularExpressions;
using MemGen.Reporting;

namespace MemGen.Tests.Reporting;

/// <summary>The generated report opened in headless Chromium (offline): every chart draws, no script errors.</summary>
public class ReportRenderingTests
{
    [Fact]
    public void EveryChartRendersInHeadlessChromiumWithoutErrors()
    {
        var assets = VegaAssets.Locate();
        Assert.True(assets is not null, "vega scripts not found in .cache/npm: run scripts/install-deps");
        Assert.True(File.Exists(HeadlessChromium.Executable), "chromium not installed: run scripts/install-deps");
        var dir = ReportTestData.NewRunDirectory();
        try
        {
            var output = ReportTestData.Build().Write(dir, new ReportWriteOptions { ExportSvg = false, Assets = assets });
            Assert.True(output.ChartsInlined);
            var page = HeadlessChromium.Open(output.HtmlPath);
            var dom = page.Dom;
            Assert.Contains("data-done=\"true\"", dom);
            Assert.Contains("data-charts=\"3\"", dom);
            Assert.Contains("data-charts-rendered=\"3\"", dom);
            Assert.Contains("data-errors=\"0\"", dom);
            foreach (var id in new[] { "first", "second-fig", "helper-line" })
            {
                var chart = Regex.Match(dom, $"<div class=\"chart[^\"]*\" id=\"chart-{id}\".*?</div>\\s*<figcaption", RegexOptions.Singleline);
                Assert.True(chart.Success, $"chart {id} missing from the DOM");
                Assert.Matches("<svg|<canvas", chart.Value);
                Assert.Contains("<path", chart.Value);
            }
            // Offline: nothing is loaded from outside the file.
            Assert.DoesNotMatch("<script[^>]+src=|<link[^>]+href=|<img[^>]+src=\"http", File.ReadAllText(output.HtmlPath));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ABrokenSpecIsReportedAsAnErrorOnThePage()
    {
        var assets = VegaAssets.Locate();
        Assert.True(assets is not null, "vega scripts not found in .cache/npm: run scripts/install-deps");
        var dir = ReportTestData.NewRunDirectory();
        try
        {
            var report = new ReportBuilder("broken");
            report.AddFigure("good", "Good", "", ReportTestData.LineSpec(3, "good"));
            report.AddFigure("bad", "Bad", "", new System.Text.Json.Nodes.JsonObject { ["mark"] = "no-such-mark", ["data"] = new System.Text.Json.Nodes.JsonObject { ["values"] = new System.Text.Json.Nodes.JsonArray() } });
            var output = report.Write(dir, new ReportWriteOptions { ExportSvg = false, Assets = assets });
            var dom = HeadlessChromium.Open(output.HtmlPath).Dom;
            Assert.Contains("data-charts-rendered=\"1\"", dom);
            Assert.Contains("data-errors=\"1\"", dom);
            Assert.Contains("could not be rendered", dom);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void ExportsEachFigureAsSvgThroughNode()
    {
        var assets = VegaAssets.Locate();
        Assert.True(assets is not null, "vega scripts not found in .cache/npm: run scripts/install-deps");
        var dir = ReportTestData.NewRunDirectory();
        try
        {
            var output = ReportTestData.Build().Write(dir, new ReportWriteOptions { Assets = assets });
            Assert.Empty(output.Problems);
            Assert.Equal(3, output.SvgPaths.Count);
            foreach (var svg in output.SvgPaths)
            {
                var text = File.ReadAllText(svg);
                Assert.StartsWith("<svg", text);
                Assert.Contains("<path", text);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
