using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MemGen.Reporting;

namespace MemGen.Tests.Reporting;

/// <summary>
/// A report must be safe to open whatever report.json holds (run folders are shared): script injected through each
/// field of report.json, string values and object keys alike, is either refused when the file is read or rendered
/// inert — never as markup.
/// </summary>
public sealed class ReportInjectionTests
{
    private const string Payload = "AAAA\"><script>alert(document.domain)</script><img src=x onerror=alert(1)></script><!--";

    /// <summary>report.json of the shared test report (every kind of block), as a JSON tree.</summary>
    private static JsonObject Original() => (JsonObject)JsonNode.Parse(ReportTestData.Build().Document.ToJson())!;

    /// <summary>Every place a string can be injected: each string value, and each key of an object inside a block.</summary>
    private static IEnumerable<(string Path, Func<JsonObject, JsonObject> Inject)> Fields()
    {
        var paths = new List<(string, bool)>();
        void Walk(JsonNode? node, string path, bool insideBlock)
        {
            switch (node)
            {
                case JsonObject o:
                    foreach (var (k, v) in o)
                    {
                        if (insideBlock && path.Count(c => c == '/') >= 3) paths.Add(($"{path}/{k}", true)); // a key inside config, environment, spec or a cell
                        Walk(v, $"{path}/{k}", insideBlock || path == "/blocks");
                    }
                    break;
                case JsonArray a:
                    for (int i = 0; i < a.Count; i++) Walk(a[i], $"{path}/{i}", insideBlock || path == "/blocks");
                    break;
                case JsonValue v when v.GetValueKind() == System.Text.Json.JsonValueKind.String:
                    paths.Add((path, false));
                    break;
            }
        }
        Walk(Original(), "", false);
        foreach (var (path, isKey) in paths)
        {
            yield return (isKey ? $"key {path}" : path, doc =>
            {
                var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
                JsonNode parent = doc;
                foreach (var p in parts[..^1]) parent = parent is JsonArray a ? a[int.Parse(p)]! : parent[p]!;
                var last = parts[^1];
                if (isKey)
                {
                    var o = (JsonObject)parent;
                    var value = o[last]?.DeepClone();
                    o.Remove(last);
                    o[Payload + last] = value;
                }
                else if (parent is JsonArray array) array[int.Parse(last)] = Payload;
                else parent[last] = Payload;
                return doc;
            }
            );
        }
    }

    [Fact]
    public void ScriptInjectedThroughEachFieldIsRefusedOrRenderedInert()
    {
        var refused = new List<string>();
        int rendered = 0;
        foreach (var (path, inject) in Fields())
        {
            var json = inject(Original()).ToJsonString();
            ReportDocument document;
            try
            {
                document = ReportDocument.FromJson(json);
            }
            catch (InvalidDataException)
            {
                refused.Add(path);
                continue;
            }
            var html = ReportHtmlRenderer.Render(document, assets: null);
            Assert.False(html.Contains("<script>alert", StringComparison.Ordinal), $"{path}: a script element came out raw");
            Assert.False(html.Contains("<img src=x", StringComparison.Ordinal), $"{path}: an img element came out raw");
            Assert.False(html.Contains("AAAA\">", StringComparison.Ordinal), $"{path}: an attribute was closed");
            Assert.False(html.Contains("<!--", StringComparison.Ordinal), $"{path}: a comment was opened");
            Assert.Equal(Regex.Matches(html, "<script").Count, Regex.Matches(html, "</script>").Count);
            rendered++;
        }
        // What must be refused: the block kind, the date, the ids (element ids and file names) and the image data.
        Assert.All(refused, p => Assert.Matches(@"^(/created_utc|/blocks/\d+/(kind|id|png_base64))$", p));
        Assert.Contains(refused, p => p.EndsWith("/png_base64", StringComparison.Ordinal));
        Assert.Contains(refused, p => p.EndsWith("/id", StringComparison.Ordinal));
        Assert.True(rendered >= 40, $"only {rendered} injected fields were rendered; the test would prove little");
    }

    [Fact]
    public void TheRendererItselfNeverPutsInvalidImageDataIntoTheAttribute()
    {
        var document = new ReportDocument { Title = "t", Blocks = [new ImageBlock("pixel", "p", "c", Payload)] };
        var html = ReportHtmlRenderer.Render(document, assets: null);
        Assert.DoesNotContain("<script>alert", html);
        Assert.DoesNotContain("data:image/png;base64,AAAA", html);
        Assert.Contains("not base64-encoded PNG data", html);
    }

    [Theory]
    [InlineData("../../outside")]
    [InlineData("a/b")]
    [InlineData("UPPER")]
    [InlineData("")]
    public void IdsThatAreNotFileNameSafeAreRefused(string id)
    {
        var doc = Original();
        doc["blocks"]!.AsArray().OfType<JsonObject>().First(b => b["kind"]!.GetValue<string>() == "figure")["id"] = id;
        var e = Assert.Throws<InvalidDataException>(() => ReportDocument.FromJson(doc.ToJsonString()));
        Assert.Contains("id", e.Message);
    }

    [Fact]
    public void ValidImageDataIsStillShown()
    {
        var html = ReportHtmlRenderer.Render(ReportDocument.FromJson(Original().ToJsonString()), assets: null);
        Assert.Contains("data:image/png;base64," + Convert.ToBase64String(ReportTestData.Png) + "\"", html);
    }
}
