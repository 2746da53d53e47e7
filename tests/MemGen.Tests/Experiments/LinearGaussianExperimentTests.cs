using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MemGen.Analysis.LinearGaussian;
using MemGen.Cli;
using MemGen.Experiments.LinearGaussian;
using MemGen.Reporting;
using MemGen.Tests.Reporting;

namespace MemGen.Tests.Experiments;

[Collection(MemGen.Tests.TestSupport.BlasThreadsCollection.Name)]
public class LinearGaussianExperimentTests
{
    private static readonly LinearGaussianSettings Tiny = new()
    {
        Dimensions = [4, 6],
        Ratios = [0.5, 1.0, 2.0, 4.0],
        OriginalCount = 200,
        Runs = 5,
        Seed = 1,
        Covariances = [.. GeneratedCovariances.All],
    };

    [Fact]
    public void RunWritesResultFilesAndAReportWhoseChartsRender()
    {
        var dir = ReportTestData.NewRunDirectory();
        try
        {
            var result = LinearGaussianExperiment.Run(Tiny, dir, "test", reportOptions: new ReportWriteOptions { ExportSvg = false });
            Assert.Equal(16, result.Summaries.Count); // 2 covariances × 2 d × 4 n
            foreach (var name in new[] { "experiment.json", "run.json", "measurements.csv", "measurements.json", "summary.csv", "summary.json", "report.json", "report.html" })
                Assert.True(File.Exists(Path.Combine(dir, name)), name);
            string[] figures = ["p-delta-covariances", "p-delta-positive", "delta-decomposition", "lambda-max", "hellinger", "kl", "distances"];
            foreach (var id in figures)
                Assert.True(File.Exists(Path.Combine(dir, "figures", id + ".vl.json")), id);

            var measurements = File.ReadAllLines(Path.Combine(dir, "measurements.csv"));
            Assert.Equal("covariance,d,n,run,e_tg,e_og,delta,train_self,original_self,train_cross,original_cross,delta_exact,below_float32,sign_flipped," +
                         "hellinger2,kl,rank,lambda_max", measurements[0]);
            Assert.Equal(1 + 16 * 5, measurements.Length);
            Assert.Contains(measurements, l => l.StartsWith("model,4,2,", StringComparison.Ordinal) && l.Contains(",1,inf,1,", StringComparison.Ordinal)); // H² = 1, KL = ∞, rank 1
            Assert.Contains(measurements, l => l.StartsWith("reference-code,", StringComparison.Ordinal));

            var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "summary.json")))!;
            Assert.Equal("linear-gaussian", summary["config"]!["experiment"]!.GetValue<string>());
            var rows = summary["rows"]!.AsArray();
            Assert.Equal(16, rows.Count);
            var singular = rows.First(r => r!["d"]!.GetValue<int>() == 6 && r["n"]!.GetValue<int>() == 6)!;
            Assert.Null(singular["kl_mean"]); // infinite: null in JSON, inf in the CSV
            Assert.Equal(1.0, singular["singular_fraction"]!.GetValue<double>());
            Assert.Equal(1.0, singular["hellinger2_mean"]!.GetValue<double>());
            Assert.Equal(SetSizeBias.Expected(6, 200, 6), singular["self_part_predicted"]!.GetValue<double>(), 1e-15);
            var csv = File.ReadAllLines(Path.Combine(dir, "summary.csv"));
            Assert.Equal(17, csv.Length);
            Assert.StartsWith("covariance,d,n,n_over_d,runs,p_delta_positive,p_stderr,e_tg_mean,e_tg_std", csv[0]);
            Assert.Contains("self_part_mean,self_part_std,self_part_predicted,cross_part_mean,cross_part_std,lambda_max_mean,lambda_max_std,lambda_max_median", csv[0]);

            var report = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "report.json")))!.ToJsonString(new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
            Assert.Contains("Bᵀ·B: the reference code's law, not the model's", report);
            Assert.Contains("Under the model's law", report);
            Assert.Contains("With the reference code's covariance", report);

            var page = HeadlessChromium.Open(Path.Combine(dir, "report.html"));
            Assert.Contains($"data-charts=\"{figures.Length}\"", page.Dom);
            Assert.Contains($"data-charts-rendered=\"{figures.Length}\"", page.Dom);
            Assert.Contains("data-errors=\"0\"", page.Dom);
            Assert.Equal(figures.Length, Regex.Matches(page.Dom, "<div class=\"chart[^\"]*\" id=\"chart-[^\"]+\"[^>]*>.*?<svg", RegexOptions.Singleline).Count);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void TransitionRatioInterpolatesWhereProbabilityCrossesOneHalf()
    {
        LinearGaussianSummary S(int n, double p) => new(GeneratedCovariance.Model, 10, n, 100, default, default, default, p, 0, default, default, 0, default, default, default, 0, 0, 0);
        Assert.Equal(1.5, LinearGaussianExperiment.TransitionRatio([S(10, 0.0), S(20, 1.0), S(30, 1.0)])!.Value, 1e-12);
        Assert.Equal(2.25, LinearGaussianExperiment.TransitionRatio([S(20, 0.4), S(25, 0.6)])!.Value, 1e-12);
        Assert.Null(LinearGaussianExperiment.TransitionRatio([S(10, 0.1), S(20, 0.2)]));
        // Above n = d (n = 10): a crossing below d is skipped.
        LinearGaussianSummary[] dip = [S(5, 0.8), S(10, 0.0), S(15, 0.2), S(20, 0.6)];
        Assert.Equal(0.5, LinearGaussianExperiment.TransitionRatio(dip)!.Value, 1e-12);
        Assert.Equal(1.5 + 0.75 * 0.5, LinearGaussianExperiment.TransitionRatio(dip, fromRatio: 1)!.Value, 1e-12);
    }

    [Fact]
    public void PresetsAreValidAndPaperUsesTheReferenceValues()
    {
        var paper = LinearGaussianExperiment.Preset("paper");
        paper.Validate();
        LinearGaussianExperiment.Preset("quick").Validate();
        Assert.Equal(300, paper.Runs);
        Assert.Equal(10_000, paper.OriginalCount);
        Assert.Equal(100, paper.Dimensions.Max());
        Assert.Equal(Math.Exp(-4), paper.EffectiveLambda, 1e-15);
        Assert.Equal([GeneratedCovariance.Model, GeneratedCovariance.ReferenceCode], paper.Covariances);
        Assert.Equal([GeneratedCovariance.Model], LinearGaussianExperiment.Preset("quick").Covariances);
        Assert.Equal(KernelSumPrecision.Float64, paper.Precision);
        Assert.Equal(0.25, paper.Ratios.Min());
        Assert.True(paper.Ratios.Max() >= 4.0);
        Assert.Equal("preset", Assert.Throws<InvalidSettingException>(() => LinearGaussianExperiment.Preset("huge")).Setting);
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
            Assert.DoesNotContain("reference-code", File.ReadAllText(Path.Combine(Dir("ok"), "summary.csv"))); // quick preset: the model's law only

            Assert.Equal(0, Run(["experiment", "linear-gaussian", "--out", Dir("both"), "--dimensions", "4", "--runs", "2", "--covariance", "both",
                "--kernel-precision", "float32", .. small]));
            var config = JsonNode.Parse(File.ReadAllText(Path.Combine(Dir("both"), "experiment.json")))!;
            Assert.Equal("float32", config["precision"]!.GetValue<string>());
            Assert.Equal(["model", "reference-code"], config["covariances"]!.AsArray().Select(c => c!.GetValue<string>()));
            Assert.Equal(0, Run(["experiment", "linear-gaussian", "--out", Dir("ref"), "--dimensions", "4", "--runs", "2", "--covariance", "reference-code", .. small]));
            Assert.All(File.ReadAllLines(Path.Combine(Dir("ref"), "summary.csv")).Skip(1), l => Assert.StartsWith("reference-code,", l));

            Assert.Equal(2, Run(["experiment", "linear-gaussian", "--out", Dir("bad1"), .. small, "--dimensions", "4,x", "--runs", "2"]));
            Assert.Equal(2, Run(["experiment", "linear-gaussian", "--out", Dir("bad2"), .. small, "--dimensions", "4", "--runs", "0"]));
            Assert.Equal(2, Run(["experiment", "linear-gaussian", "--out", Dir("bad3"), .. small, "--dimensions", "4", "--runs", "2", "--std", "-1"]));
            Assert.NotEqual(0, Run(["experiment", "linear-gaussian", "--out", Dir("bad4"), "--preset", "nope"]));
            Assert.NotEqual(0, Run(["experiment", "linear-gaussian", "--out", Dir("bad5"), .. small, "--covariance", "btb"]));
            Assert.NotEqual(0, Run(["experiment", "linear-gaussian", "--out", Dir("bad6"), .. small, "--kernel-precision", "float16"]));
            Assert.NotEqual(0, Run(["experiment", "linear-gaussian", .. small]));
            foreach (var bad in new[] { "bad1", "bad2", "bad3", "bad4", "bad5", "bad6" }) Assert.False(Directory.Exists(Dir(bad)), bad);

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
