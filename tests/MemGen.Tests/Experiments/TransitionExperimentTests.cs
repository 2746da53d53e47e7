using MemGen.Cli;
using MemGen.Data;
using MemGen.Experiments.Kit;
using MemGen.Experiments.Transition;
using MemGen.Images;
using MemGen.Reporting;
using MemGen.Tests.Reporting;

namespace MemGen.Tests.Experiments;

public class TransitionExperimentTests
{
    /// <summary>The whole pipeline on 12×12 disks in seconds: two sizes, a tiny BF-CNN, a few training steps.</summary>
    private static TransitionSettings Tiny() => new()
    {
        Data = "disks:size=12,n=120,seed=3",
        Sizes = [1, 4],
        Model = "bfcnn:layers=3,width=4",
        Budget = 64,
        BatchSize = 16,
        Samples = 4,
        EvalImages = 12,
        GridRows = 3,
        Sampler = "algorithm1:variant=code,max_steps=300",
        Seed = 5,
    };

    private static readonly ReportWriteOptions NoSvg = new() { ExportSvg = false };

    private static string[] Files(string dir) =>
        [.. Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(dir, f)).Order(StringComparer.Ordinal)];

    /// <summary>summary.csv without the timing columns (wall times differ between runs).</summary>
    private static string[] SummaryWithoutTimes(string dir)
    {
        var lines = File.ReadAllLines(Path.Combine(dir, "summary.csv"));
        var header = lines[0].Split(',');
        int[] skip = [Array.IndexOf(header, "training_s"), Array.IndexOf(header, "search_pairs_per_s")];
        Assert.DoesNotContain(-1, skip);
        return [.. lines.Select(l => string.Join(",", l.Split(',').Where((_, i) => !skip.Contains(i))))];
    }

    [Fact]
    public void RunsEndToEndWritesEveryArtefactAndTheBaselineMemorizes()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            var dir = Path.Combine(root, "run");
            var stages = new List<string>();
            var result = TransitionExperiment.Run(Tiny(), dir, "test", new SynchronousProgress<ExperimentProgress>(p => stages.Add($"{p.Unit}:{p.Stage}")), reportOptions: NoSvg);

            Assert.Equal([1, 4], result.Points.Select(p => p.N));
            Assert.Empty(result.ReusedSizes);
            foreach (var n in new[] { 1, 4 })
            {
                var pointDir = TransitionExperiment.PointDirectory(dir, n);
                foreach (var f in new[] { "split.json", "curve-s1.csv", "curve-s2.json", "curve-optimal.csv", "samples-s1.npy", "samples-optimal-s2.npy",
                    "memorization-s1.csv", "cross-model-network.csv", "nearest-pairs.csv", "grid.png", "point.json", "s1/checkpoints/final.safetensors",
                    "s2/config.json" })
                    Assert.True(File.Exists(Path.Combine(pointDir, f)), $"n-{n}/{f}");
                var samples = NpyReader.ReadImages(Path.Combine(pointDir, "samples-s1.npy"));
                Assert.Equal(4, samples.Count);
                var manifest = SplitManifest.Load(Path.Combine(pointDir, "split.json"));
                Assert.Empty(manifest.S1Indices.Intersect(manifest.S2Indices));
                Assert.Empty(manifest.TestIndices.Intersect(manifest.S1Indices.Concat(manifest.S2Indices)));
            }
            Assert.Contains("N=4:train S2", stages);
            Assert.Contains("N=4:sample optimal-s2", stages);

            // The empirical optimal denoiser is a pure memorizer: its samples are copies of its training images.
            foreach (var p in result.Points)
            {
                Assert.True(p.Optimal.Nearest.Median > 0.98, $"N={p.N}: optimal nearest similarity {p.Optimal.Nearest.Median}");
                Assert.Equal(15, p.Sigmas.Length);
                Assert.True(p.CurveOptimal.TrainPsnr[0] > p.CurveOptimal.TestPsnr[0] + 3, $"N={p.N}: optimal denoiser should do far better on its training images");
            }
            Assert.True(result.Points[0].Optimal.Cross.Median < 0.98, "optimal S1 and S2 samples at N=1 are two different images");
            foreach (var p in result.Points)
            {
                // Sample quality: held-out images' similarity to the training set, and the samples' high-frequency power.
                Assert.Equal(2 * 12, p.HeldOutNearestCenteredCosine!.Length);
                Assert.InRange(p.HeldOutNearestMedian, -1, 1);
                Assert.True(p.HighFrequencyRatio > 0 && double.IsFinite(p.HighFrequencyRatio), $"N={p.N}: HF ratio {p.HighFrequencyRatio}");
                Assert.Equal(12 / 2 + 1, p.SampleSpectrum!.Length);
                Assert.True(p.IntensityRatio > 0 && double.IsFinite(p.IntensityRatio), $"N={p.N}: brightness ratio {p.IntensityRatio}");
                Assert.True(p.ContrastRatio > 0 && double.IsFinite(p.ContrastRatio), $"N={p.N}: contrast ratio {p.ContrastRatio}");
            }

            var summary = File.ReadAllLines(Path.Combine(dir, "summary.csv"));
            Assert.Equal(3, summary.Length);
            Assert.StartsWith("1,", summary[1], StringComparison.Ordinal);
            var html = File.ReadAllText(result.ReportPath);
            Assert.Contains("grid-n4", html, StringComparison.Ordinal);
            Assert.Contains("psnr-gap", html, StringComparison.Ordinal);
            Assert.Contains("Verdict per N", html, StringComparison.Ordinal);
            Assert.True(File.Exists(Path.Combine(dir, "figures", "similarity-histograms.vl.json")));

            // The five charts render in a browser without errors.
            var page = HeadlessChromium.Open(result.ReportPath);
            Assert.Contains("data-charts=\"5\"", page.Dom, StringComparison.Ordinal);
            Assert.Contains("data-charts-rendered=\"5\"", page.Dom, StringComparison.Ordinal);
            Assert.Contains("data-errors=\"0\"", page.Dom, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void RunsEndToEndWithANoiseConditionedNetwork()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            var dir = Path.Combine(root, "run");
            var result = TransitionExperiment.Run(Tiny() with { Model = "unet-cond:blocks=1,width=4,emb=8" }, dir, "test", reportOptions: NoSvg);
            Assert.Equal([1, 4], result.Points.Select(p => p.N));
            foreach (var p in result.Points)
            {
                var pointDir = TransitionExperiment.PointDirectory(dir, p.N);
                var meta = MemGen.Nn.Checkpoint.ReadMetadata(Path.Combine(pointDir, "s1", "checkpoints", "final.safetensors"));
                Assert.True(meta.Spec.IsConditioned, meta.Spec.ToString());
                Assert.Equal(4, NpyReader.ReadImages(Path.Combine(pointDir, "samples-s1.npy")).Count);
                // The conditioned network's PSNR curve (told σ through NetworkDenoiser) is finite at every level.
                Assert.All(p.CurveS1.TestPsnr, v => Assert.True(double.IsFinite(v), $"N={p.N}: test PSNR {v}"));
            }
            Assert.True(File.Exists(result.ReportPath));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void TheGaussianStartAndAWiderTrainingNoiseRangeAreRecordedAndUsed()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            var dir = Path.Combine(root, "run");
            var settings = Tiny() with { Start = "gaussian", TrainingSigmaMax = 2, Sampler = "flow:heun,steps=8,sigma_max=1,sigma_min=0.01" };
            var result = TransitionExperiment.Run(settings, dir, "test", reportOptions: NoSvg);
            var json = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "experiment.json")))!;
            Assert.Equal("covariance of S1 ∪ S2", json["sampler"]!["start_covariance"]!.GetValue<string>());
            Assert.Equal(2.0, json["training_sigma_max"]!.GetValue<double>());
            var training = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(TransitionExperiment.PointDirectory(dir, 4), "s1", "config.json")))!;
            Assert.Contains("\"sigma_max\": 2", training.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }), StringComparison.Ordinal);
            // From the Gaussian start the pure memorizer still returns its training images.
            foreach (var p in result.Points)
                Assert.True(p.Optimal.Nearest.Median > 0.98, $"N={p.N}: optimal nearest similarity {p.Optimal.Nearest.Median}");
            Assert.Contains("starts from the Gaussian of S1 ∪ S2", File.ReadAllText(result.ReportPath), StringComparison.Ordinal);
            // The plain start gives other samples from the same seeds and networks.
            var plain = Path.Combine(root, "plain");
            TransitionExperiment.Run(settings with { Start = "mean" }, plain, "test", reportOptions: NoSvg);
            Assert.NotEqual(File.ReadAllBytes(Path.Combine(TransitionExperiment.PointDirectory(dir, 4), "samples-s1.npy")),
                File.ReadAllBytes(Path.Combine(TransitionExperiment.PointDirectory(plain, 4), "samples-s1.npy")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void JobsRunOneByOneGiveTheSameResultsAsTheWholeRun()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            var settings = Tiny();
            var whole = Path.Combine(root, "whole");
            TransitionExperiment.Run(settings, whole, "test", reportOptions: NoSvg);
            var jobs = TransitionExperiment.Jobs(settings);
            Assert.Equal(["train-n1-s1", "train-n1-s2", "train-n4-s1", "train-n4-s2", "measure-n1", "measure-n4", "report"], jobs.Select(j => j.Id));
            var byJob = Path.Combine(root, "jobs");
            // A measure job before its networks are trained, or the report before every point, is refused.
            Assert.Equal("job", Assert.Throws<InvalidSettingException>(() => TransitionExperiment.RunJob(settings, byJob, "test", "measure-n4", reportOptions: NoSvg)).Setting);
            Assert.Equal("job", Assert.Throws<InvalidSettingException>(() => TransitionExperiment.RunJob(settings, byJob, "test", "train-n7-s1", reportOptions: NoSvg)).Setting);
            foreach (var job in jobs.Reverse().Where(j => j.Stage == "train").Concat(jobs.Where(j => j.Stage != "train")))
            {
                Assert.False(File.Exists(Path.Combine(byJob, job.Marker)), job.Id);
                TransitionExperiment.RunJob(settings, byJob, "test", job.Id, reportOptions: NoSvg);
                Assert.True(File.Exists(Path.Combine(byJob, job.Marker)), job.Id);
            }
            Assert.Equal(SummaryWithoutTimes(whole), SummaryWithoutTimes(byJob));
            Assert.Equal(File.ReadAllBytes(Path.Combine(whole, "n-4", "samples-s2.npy")), File.ReadAllBytes(Path.Combine(byJob, "n-4", "samples-s2.npy")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void TestImagesCanComeFromAnotherDatasetAndThenTheWholePoolIsAvailable()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            // 120 pool images, N = 60 uses all of them; the 12 test images come from another set.
            var settings = Tiny() with { Sizes = [60], TestData = "disks:size=12,n=20,seed=8" };
            var result = TransitionExperiment.Run(settings, Path.Combine(root, "run"), "test", reportOptions: NoSvg);
            var manifest = SplitManifest.Load(Path.Combine(TransitionExperiment.PointDirectory(Path.Combine(root, "run"), 60), "split.json"));
            Assert.Equal(60, manifest.S1Indices.Length);
            Assert.Equal(12, result.Points[0].HeldOutNearestCenteredCosine!.Length / 2);
            var tooFew = Assert.Throws<InvalidSettingException>(() => TransitionExperiment.Run(settings with { TestData = "disks:size=12,n=5,seed=8" }, Path.Combine(root, "few"), "test", reportOptions: NoSvg));
            Assert.Equal("test-data", tooFew.Setting);
            Assert.False(Directory.Exists(Path.Combine(root, "few")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void ResumesAfterCancellationAndAfterLosingArtefactsWithTheSameResults()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            var settings = Tiny();
            var reference = Path.Combine(root, "reference");
            TransitionExperiment.Run(settings, reference, "test", reportOptions: NoSvg);

            // Cancel while the N = 4 S2 network trains, then run the same command again.
            var dir = Path.Combine(root, "resumed");
            using (var cancel = new CancellationTokenSource())
            {
                var progress = new SynchronousProgress<ExperimentProgress>(p =>
                {
                    if (p.Unit == "N=4" && p.Stage == "train S2" && p.Detail.StartsWith("step 2/", StringComparison.Ordinal)) cancel.Cancel();
                });
                Assert.ThrowsAny<OperationCanceledException>(() => TransitionExperiment.Run(settings, dir, "test", progress, cancel.Token, NoSvg));
            }
            Assert.True(File.Exists(Path.Combine(dir, "n-1", "point.json")));
            Assert.False(File.Exists(Path.Combine(dir, "n-4", "point.json")));
            Assert.False(File.Exists(Path.Combine(dir, "n-4", "s2", "checkpoints", "final.safetensors")));
            var resumed = TransitionExperiment.Run(settings, dir, "test", reportOptions: NoSvg);
            Assert.Equal([1], resumed.ReusedSizes);
            Assert.Equal(SummaryWithoutTimes(reference), SummaryWithoutTimes(dir));
            // Same weights ⇒ same samples, bit for bit (checkpoint files themselves differ in their wall-time metadata).
            foreach (var f in new[] { "n-4/samples-s1.npy", "n-4/samples-s2.npy", "n-4/samples-optimal-s2.npy" })
                Assert.Equal(File.ReadAllBytes(Path.Combine(reference, f)), File.ReadAllBytes(Path.Combine(dir, f)));

            // Lose a later artefact (and a finished network): the re-run rebuilds them, identically.
            File.Delete(Path.Combine(dir, "n-4", "samples-s2.npy"));
            File.Delete(Path.Combine(dir, "n-4", "grid.png"));
            File.Delete(Path.Combine(dir, "n-4", "s1", "checkpoints", "final.safetensors"));
            var again = TransitionExperiment.Run(settings, dir, "test", reportOptions: NoSvg);
            Assert.Equal([1], again.ReusedSizes);
            Assert.Equal(File.ReadAllBytes(Path.Combine(reference, "n-4", "samples-s2.npy")), File.ReadAllBytes(Path.Combine(dir, "n-4", "samples-s2.npy")));
            Assert.True(File.Exists(Path.Combine(dir, "n-4", "grid.png")));
            Assert.Equal(SummaryWithoutTimes(reference), SummaryWithoutTimes(dir));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void RejectsBadInputWithOneLineMessagesAndWritesNothing()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            string Dir(string name) => Path.Combine(root, name);
            InvalidSettingException Fails(TransitionSettings s, string dir) =>
                Assert.Throws<InvalidSettingException>(() => TransitionExperiment.Run(s, dir, "test", reportOptions: NoSvg));

            var unknown = Fails(Tiny() with { Data = "nosuch:x=1" }, Dir("unknown"));
            Assert.Contains("unknown source kind 'nosuch'", unknown.Message, StringComparison.Ordinal);
            var tooLarge = Fails(Tiny() with { Sizes = [1, 61] }, Dir("large"));
            Assert.Contains("more than half of the 120 images", tooLarge.Message, StringComparison.Ordinal);
            var noTest = Fails(Tiny() with { Sizes = [1, 55] }, Dir("notest"));
            Assert.Contains("fewer than the 12 test images", noTest.Message, StringComparison.Ordinal);
            var order = Fails(Tiny() with { Sizes = [10, 4] }, Dir("order"));
            Assert.Equal("sizes: must be strictly increasing, but 4 follows 10", order.Message);
            Assert.Contains("strictly increasing", Fails(Tiny() with { Sizes = [4, 4] }, Dir("order2")).Message, StringComparison.Ordinal);
            Fails(Tiny() with { Model = "resnet" }, Dir("model"));
            foreach (var name in new[] { "unknown", "large", "notest", "order", "order2", "model" })
                Assert.False(Directory.Exists(Dir(name)), name);
            foreach (var e in new[] { unknown, tooLarge, noTest, order }) Assert.DoesNotContain('\n', e.Message);

            // A directory holding a different experiment is refused and left untouched.
            var other = Dir("other");
            Directory.CreateDirectory(other);
            var config = Tiny().ToJson("test");
            config["seed"] = 99;
            File.WriteAllText(Path.Combine(other, RunDirectory.ExperimentFile), config.ToJsonString());
            var before = File.ReadAllBytes(Path.Combine(other, RunDirectory.ExperimentFile));
            var different = Fails(Tiny(), other);
            Assert.Contains("seed: 99 there, 5 requested", different.Message, StringComparison.Ordinal);
            Assert.Equal(before, File.ReadAllBytes(Path.Combine(other, RunDirectory.ExperimentFile)));
            Assert.Single(Files(other));

            File.WriteAllText(Path.Combine(other, RunDirectory.ExperimentFile), """{"experiment":"linear-gaussian"}""");
            Assert.Contains("different experiment", Fails(Tiny(), other).Message, StringComparison.Ordinal);
            var stranger = Dir("stranger");
            Directory.CreateDirectory(stranger);
            File.WriteAllText(Path.Combine(stranger, "notes.txt"), "mine");
            Assert.Contains("holds no experiment.json", Fails(Tiny(), stranger).Message, StringComparison.Ordinal);
            Assert.Equal(["notes.txt"], Files(stranger));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void CliRejectsBadFlagsWithExitCodeTwoAndNoOutput()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            string Dir(string name) => Path.Combine(root, name);
            int Run(params string[] args) => Program.BuildRoot().Parse(args).Invoke();
            Assert.Equal(2, Run("experiment", "transition", "--out", Dir("a"), "--data", "nosuch:1", "--sizes", "1,2"));
            Assert.Equal(2, Run("experiment", "transition", "--out", Dir("b"), "--sizes", "10,1"));
            Assert.Equal(2, Run("experiment", "transition", "--out", Dir("c"), "--sizes", "1,x"));
            Assert.Equal(2, Run("experiment", "transition", "--out", Dir("d"), "--data", "disks:size=12,n=20,seed=1", "--sizes", "1,11", "--model", "bfcnn:layers=2,width=2"));
            Assert.NotEqual(0, Run("experiment", "transition", "--out", Dir("e"), "--preset", "huge"));
            foreach (var bad in new[] { "a", "b", "c", "d", "e" }) Assert.False(Directory.Exists(Dir(bad)), bad);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void VerdictFollowsTheStatedCriterion()
    {
        static TransitionPoint Point(double cross, double nearest, double ratio, double steps = 100)
        {
            double[] Fill(double v) => Enumerable.Repeat(v, 8).ToArray();
            var family = new FamilyMeasures(Fill(cross), Fill(cross), Fill(nearest), Fill(nearest), Fill(nearest), Fill(nearest), Fill(ratio), Fill(ratio), 0, steps);
            var curve = new CurveValues([30, 20], [25, 18]);
            return new TransitionPoint(10, [0.1, 0.2], curve, curve, curve, family, family, Fill(0.5), Fill(0.5), 1);
        }
        Assert.Equal(TransitionRegime.Memorizing, Point(cross: 0.3, nearest: 0.99, ratio: 0.1).Regime);
        Assert.Equal(TransitionRegime.Generalizing, Point(cross: 0.95, nearest: 0.8, ratio: 0.9).Regime);
        Assert.Equal(TransitionRegime.Transitional, Point(cross: 0.7, nearest: 0.85, ratio: 0.6).Regime);
        Assert.Equal(TransitionRegime.Transitional, Point(cross: 0.95, nearest: 0.8, ratio: 0.2).Regime);
        Assert.Equal(TransitionRegime.Undetermined, Point(cross: 1, nearest: 0.1, ratio: 0.9, steps: 1).Regime);
        // Samples far less similar to the training set than held-out images are (noise, smudges) get no verdict.
        var heldOut = Enumerable.Repeat(0.9, 8).ToArray();
        Assert.Equal(TransitionRegime.Generalizing, (Point(cross: 0.95, nearest: 0.8, ratio: 0.9) with { HeldOutNearestCenteredCosine = heldOut }).Regime);
        var smudges = Point(cross: 0.97, nearest: 0.6, ratio: 0.9) with { HeldOutNearestCenteredCosine = heldOut };
        Assert.Equal(TransitionRegime.Undetermined, smudges.Regime);
        Assert.Contains("not images of the data", smudges.Verdict, StringComparison.Ordinal);
        // N = 1: no second neighbour; copies are recognized by similarity.
        Assert.Equal(TransitionRegime.Memorizing, Point(cross: 0.3, nearest: 0.99, ratio: double.NaN).Regime);
        var p = Point(cross: 0.3, nearest: 0.99, ratio: 0.1);
        Assert.Equal(3.5, p.PsnrGap, 12);
        Assert.Contains("memorizing", p.Verdict, StringComparison.Ordinal);
        var reloaded = Path.GetTempFileName();
        try
        {
            p.Save(reloaded);
            var back = TransitionPoint.TryLoad(reloaded)!;
            Assert.Equal(p.Verdict, back.Verdict);
            Point(0.1, 0.2, double.NaN).Save(reloaded);
            Assert.True(double.IsNaN(TransitionPoint.TryLoad(reloaded)!.Network.RatioS1[0]));
        }
        finally
        {
            File.Delete(reloaded);
        }
    }

    [Fact]
    public void HistogramFractionsSumToOneAndClampToTheRange()
    {
        var h = TransitionReport.Histogram([-0.9, -0.2, 0.0, 0.49, 1.0, double.NaN]);
        Assert.Equal(1.0, h.Sum(), 12);
        Assert.Equal(2 / 5.0, h[0], 12);
        Assert.Equal(1 / 5.0, h[^1], 12);
        Assert.Equal(1 / 5.0, h[(int)Math.Floor((0.49 + 0.2) / 0.05)], 12);
    }
}
