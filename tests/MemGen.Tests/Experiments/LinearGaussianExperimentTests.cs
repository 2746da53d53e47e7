using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MemGen.Analysis.LinearGaussian;
using MemGen.Cli;
using MemGen.Experiments;
using MemGen.Reporting;
using MemGen.Tests.Reporting;

namespace MemGen.Tests.Experiments;

public class LinearGaussianExperimentTests
{
    private static readonly LinearGaussianSettings Tiny = new()
    {
        Dimensions = [4, 6],
        Ratios = [0.5, 1.0, 2.0, 4.0],
        OriginalCount = 200,
        Runs = 5,
        Seed = 1,
    };

    [Fact]
    public void RunWritesResultFilesAndAReportWhoseChartsRender()
    {
        var dir = ReportTestData.NewRunDirectory();
        try
        {
            var result = LinearGaussianExperiment.Run(Tiny, dir, "test", reportOptions: new ReportWriteOptions { ExportSvg = false });
            Assert.Equal(8, result.Summaries.Count);
            foreach (var name in new[] { "config.json", "measurements.csv", "summary.csv", "summary.json", "report.json", "report.html" })
                Assert.True(File.Exists(Path.Combine(dir, name)), name);
            foreach (var id in new[] { "p-delta-positive", "hellinger", "kl", "distances" })
                Assert.True(File.Exists(Path.Combine(dir, "figures", id + ".vl.json")), id);

            var measurements = File.ReadAllLines(Path.Combine(dir, "measurements.csv"));
            Assert.Equal("d,n,run,e_tg,e_og,delta,hellinger2,kl,rank", measurements[0]);
            Assert.Equal(1 + 8 * 5, measurements.Length);
            Assert.Contains(measurements, l => l.EndsWith(",1,inf,1", StringComparison.Ordinal)); // d = 4, n = 2: H² = 1, KL = ∞, rank 1

            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
            var rows = summary["summary"]!.AsArray();
            Assert.Equal(8, rows.Count);
            var singular = rows.First(r => r!["d"]!.GetValue<int>() == 6 && r["n"]!.GetValue<int>() == 6)!;
            Assert.Null(singular["kl"]!["mean"]);
            Assert.True(singular["kl_infinite"]!.GetValue<bool>());
            Assert.Equal(1.0, singular["hellinger2"]!["mean"]!.GetValue<double>());
            var csv = File.ReadAllLines(Path.Combine(dir, "summary.csv"));
            Assert.Equal(9, csv.Length);
            Assert.StartsWith("d,n,n_over_d,runs,p_delta_positive,p_stderr,e_tg_mean,e_tg_std", csv[0]);

            var page = HeadlessChromium.Open(Path.Combine(dir, "report.html"));
            Assert.Contains("data-charts=\"4\"", page.Dom);
            Assert.Contains("data-charts-rendered=\"4\"", page.Dom);
            Assert.Contains("data-errors=\"0\"", page.Dom);
            Assert.Equal(4, Regex.Matches(page.Dom, "<div class=\"chart[^\"]*\" id=\"chart-[^\"]+\"[^>]*>.*?<svg", RegexOptions.Singleline).Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TransitionRatioInterpolatesWhereProbabilityCrossesOneHalf()
    {
        LinearGaussianSummary S(int n, double p) => new(10, n, 100, default, default, default, p, 0, default, default, 0);
        Assert.Equal(1.5, LinearGaussianExperiment.TransitionRatio([S(10, 0.0), S(20, 1.0), S(30, 1.0)])!.Value, 1e-12);
        Assert.Equal(2.25, LinearGaussianExperiment.TransitionRatio([S(20, 0.4), S(25, 0.6)])!.Value, 1e-12);
        Assert.Null(LinearGaussianExperiment.TransitionRatio([S(10, 0.1), S(20, 0.2)]));
    }

    [Fact]
    public void PresetsAreValidAndPaperUsesTheReferenceValues()
    {
        var paper = LinearGaussianExperiment.Preset("paper");
        Assert.Null(paper.Validate());
        Assert.Null(LinearGaussianExperiment.Preset("quick").Validate());
        Assert.Equal(300, paper.Runs);
        Assert.Equal(10_000, paper.OriginalCount);
        Assert.Equal(100, paper.Dimensions.Max());
        Assert.Equal(Math.Exp(-4), paper.EffectiveLambda, 1e-15);
        Assert.Equal(0.25, paper.Ratios.Min());
        Assert.True(paper.Ratios.Max() >= 4.0);
        Assert.Throws<ArgumentException>(() => LinearGaussianExperiment.Preset("huge"));
    }

    [Fact]
    public void CliRunsTheExperimentAndRejectsBadFlagsWithoutOutput()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            string Dir(string name) => Path.Combine(root, name);
            int Run(params string[] args) => Program.BuildRoot().Parse(args).Invoke();
            string[] small = ["--ratios", "0.5,2", "--original-count", "50", "--no-svg"];

            Assert.Equal(0, Run(["experiment", "linear-gaussian", "--out", Dir("ok"), "--dimensions", "4", "--runs", "2", .. small]));
            Assert.True(File.Exists(Path.Combine(Dir("ok"), "report.html")));
            Assert.True(File.Exists(Path.Combine(Dir("ok"), "summary.csv")));

            Assert.Equal(2, Run(["experiment", "linear-gaussian", "--out", Dir("bad1"), .. small, "--dimensions", "4,x", "--runs", "2"]));
            Assert.Equal(2, Run(["experiment", "linear-gaussian", "--out", Dir("bad2"), .. small, "--dimensions", "4", "--runs", "0"]));
            Assert.Equal(2, Run(["experiment", "linear-gaussian", "--out", Dir("bad3"), .. small, "--dimensions", "4", "--runs", "2", "--std", "-1"]));
            Assert.NotEqual(0, Run(["experiment", "linear-gaussian", "--out", Dir("bad4"), "--preset", "nope"]));
            Assert.NotEqual(0, Run(["experiment", "linear-gaussian", .. small]));
            foreach (var bad in new[] { "bad1", "bad2", "bad3", "bad4" }) Assert.False(Directory.Exists(Dir(bad)), bad);

            // memgen report RUN_DIR re-renders; bad directories fail with exit code 2.
            File.Delete(Path.Combine(Dir("ok"), "report.html"));
            Assert.Equal(0, Run("report", Dir("ok"), "--no-svg"));
            Assert.True(File.Exists(Path.Combine(Dir("ok"), "report.html")));
            Assert.Equal(2, Run("report", Dir("missing")));
            Directory.CreateDirectory(Dir("empty"));
            Assert.Equal(2, Run("report", Dir("empty")));
            File.WriteAllText(Path.Combine(Dir("empty"), "report.json"), "{ not json");
            Assert.Equal(2, Run("report", Dir("empty")));
            Assert.False(File.Exists(Path.Combine(Dir("empty"), "report.html")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
