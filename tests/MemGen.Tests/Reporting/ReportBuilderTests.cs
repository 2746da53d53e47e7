using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MemGen.Reporting;

namespace MemGen.Tests.Reporting;

public class ReportBuilderTests
{
    [Fact]
    public void WritesJsonSpecsAndHtmlThatRoundTrip()
    {
        var dir = ReportTestData.NewRunDirectory();
        try
        {
            var report = ReportTestData.Build();
            var output = report.Write(dir, new ReportWriteOptions { ExportSvg = false });
            Assert.True(File.Exists(output.HtmlPath));
            Assert.Equal(3, output.SpecPaths.Count);
            var spec = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "figures", "second-fig.vl.json")))!;
            Assert.Equal(16, spec["data"]!["values"]!.AsArray().Count);
            Assert.StartsWith("https://vega.github.io/schema/vega-lite/", spec["$schema"]!.GetValue<string>());

            var back = ReportDocument.FromJson(File.ReadAllText(output.JsonPath));
            Assert.Equal(report.Document.Title, back.Title);
            Assert.Equal(report.Document.Blocks.Count, back.Blocks.Count);
            Assert.Equal(report.Document.ToJson(), back.ToJson());
            Assert.IsType<ImageBlock>(back.Blocks[^2]);

            var html = File.ReadAllText(output.HtmlPath);
            Assert.Contains("Test report &lt;&amp;&gt;", html);
            Assert.Contains("&lt;b&gt;markup&lt;/b&gt;", html);
            Assert.Contains("data:image/png;base64,", html);
            Assert.Contains("3.142", html); // pi, 4 significant digits
            // The only </script> closings are those of the script elements themselves.
            int opened = Regex.Matches(html, "<script").Count, closed = Regex.Matches(html, "</script>").Count;
            Assert.Equal(opened, closed);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void RejectsBadIdsAndRowsAndNonPng()
    {
        var report = new ReportBuilder("t");
        report.AddFigure("a", "A", "", ReportTestData.LineSpec(2, "a"));
        Assert.Throws<ArgumentException>(() => report.AddFigure("a", "A again", "", ReportTestData.LineSpec(2, "a")));
        Assert.Throws<ArgumentException>(() => report.AddFigure("Bad Id", "B", "", ReportTestData.LineSpec(2, "b")));
        Assert.Throws<ArgumentException>(() => report.AddTable("t1", "T", "", ["x", "y"], [[1]]));
        Assert.Throws<ArgumentException>(() => report.AddImage("img", "I", "", new byte[] { 1, 2, 3 }));
        Assert.Throws<ArgumentException>(() => report.AddFigure("arr", "A", "", new JsonArray()));
    }

    [Fact]
    public void WithoutScriptsThePageSaysHowToFixIt()
    {
        var html = ReportHtmlRenderer.Render(ReportTestData.Build().Document, assets: null);
        Assert.Contains("scripts/install-deps", html);
        Assert.DoesNotContain("data-package=", html);
    }

    [Fact]
    public void FromJsonNamesTheFileOnBadInput()
    {
        var e = Assert.Throws<InvalidDataException>(() => ReportDocument.FromJson("{\"title\": 3", "x/report.json"));
        Assert.StartsWith("x/report.json:", e.Message);
        Assert.Throws<InvalidDataException>(() => ReportDocument.FromJson("{\"format\": 1}", "r.json"));
    }
}
