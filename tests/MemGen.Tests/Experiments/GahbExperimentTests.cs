using System.Globalization;
using MemGen.Analysis.AdaptiveBasis;
using MemGen.Cli;
using MemGen.Compute.Cpu;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Experiments.Gahb;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Reporting;
using MemGen.Tests.Reporting;
using MemGen.Training;

namespace MemGen.Tests.Experiments;

public class GahbExperimentTests
{
    /// <summary>The whole study on 8×8 disks in seconds: two sizes and the shuffled control, a tiny BF-CNN, a few training steps.</summary>
    private static GahbSettings Tiny() => new()
    {
        Data = "disks:size=16,n=60,seed=3|resize=8",
        Sizes = [1, 4],
        Model = "bfcnn:layers=3,width=4",
        Budget = 64,
        BatchSize = 16,
        Sigmas = [0.1, 0.3],
        Images = 2,
        Draws = 2,
        Top = 4,
        PsnrImages = 4,
        ShuffleSeed = 7,
        Sampler = "algorithm1:variant=code,beta=0.5,h0=0.1,max_steps=40",
        SaveEvery = 2,
        Trajectories = 2,
        Seed = 5,
    };

    private static readonly ReportWriteOptions NoSvg = new() { ExportSvg = false };

    [Fact]
    public void RunsEndToEndWithConsistentSpectraAndResumesBitForBit()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            var dir = Path.Combine(root, "run");
            var settings = Tiny();
            var result = GahbExperiment.Run(settings, dir, "test", reportOptions: NoSvg);

            Assert.Equal(["N=1", "N=4", "N=4 shuffled"], result.Networks.Select(g => g.Label));
            foreach (var f in new[] { "experiment.json", "run.json", "summary.csv", "summary.json", "profiles.csv", "psnr.csv", "trajectories.csv",
                "report.html", "grids/eigenvectors-sigma-0.1.png", "grids/eigenvectors-sigma-0.3.png", "n-1/s1/checkpoints/final.safetensors",
                "n-4/s2/checkpoints/final.safetensors", "shuffled/s1/checkpoints/final.safetensors", "jacobians/shuffled-n-4/kept.json" })
                Assert.True(File.Exists(Path.Combine(dir, f)), f);

            // Kept: the top 4, then k = 8, 16, 32, 64 (1-based) of d = 64.
            int[] kept = [0, 1, 2, 3, 7, 15, 31, 63];
            foreach (var name in new[] { "n-1", "n-4", "shuffled-n-4" })
            {
                var eigenvalues = NpyReader.Read(Path.Combine(dir, "jacobians", name, "eigenvalues.npy"));
                Assert.Equal([2, 2, 2, 64], eigenvalues.Shape);
                var vectors = NpyReader.Read(Path.Combine(dir, "jacobians", name, "eigenvectors.npy"));
                Assert.Equal([2, 2, kept.Length, 64], vectors.Shape);
                for (int row = 0; row < eigenvalues.Values.Length / 64; row++)
                    for (int k = 1; k < 64; k++)
                        Assert.True(eigenvalues.Values[row * 64 + k] <= eigenvalues.Values[row * 64 + k - 1], $"{name}: eigenvalues not descending");
                for (int v = 0; v < vectors.Values.Length / 64; v++)
                    Assert.Equal(1.0, Math.Sqrt(vectors.Values.AsSpan(v * 64, 64).ToArray().Sum(x => (double)x * x)), 4);
                // tr J of the table is Σλ of the .npy (σ index 0, image 0, draw 0 is the first row).
                var row0 = File.ReadAllLines(Path.Combine(dir, "jacobians", name, "measurements.csv"))[1].Split(',');
                double trace = double.Parse(row0[3], CultureInfo.InvariantCulture);
                Assert.Equal(trace, eigenvalues.Values.AsSpan(0, 64).ToArray().Sum(x => (double)x), 3); // NpyReader reads float64 files as float32
            }
            foreach (var g in result.Networks)
                foreach (var m in g.Summaries)
                {
                    Assert.True(m.MaxHomogeneityError < 1e-3, $"{g.Label}: a bias-free network must satisfy f(y) = J·y, error {m.MaxHomogeneityError}");
                    Assert.Equal(4, m.Count);
                    Assert.Equal(1.0, m.MeanCompaction[^1], 6);
                    Assert.InRange(m.Trace.Mean, -64, 64);
                }

            // The control's stored eigenvectors are its Jacobian's, taken at the shuffled test image and mapped back to pixel order.
            var permutation = new PixelShuffleTransform(7);
            using (var backend = new CpuBackend())
            using (var network = Checkpoint.Load(Path.Combine(dir, "shuffled", "s1", TrainingRun.CheckpointFolder, TrainingRun.FinalCheckpointFile), backend))
            {
                var pool = DatasetLoader.Load(settings.Data);
                var test = DisjointSplit.Create(pool, 4, 4).Test;
                var shuffled = ImageTransforms.Apply(test, permutation);
                var shape = new ImageShape(1, 8, 8);
                var m = JacobianStudy.Measure(new NetworkDenoiser(network), shuffled.Image(0), shape, 0.1, settings.Seed, 0, 0, new JacobianStudyOptions { Top = 4 });
                var expected = new double[64];
                permutation.Unshuffle<double>(m.Eigenvectors.AsSpan(0, 64), shape, expected);
                var stored = NpyReader.Read(Path.Combine(dir, "jacobians", "shuffled-n-4", "eigenvectors.npy")).Values.AsSpan(0, 64).ToArray();
                for (int i = 0; i < 64; i++) Assert.Equal(expected[i], stored[i], 5);
            }

            // Both networks start every trajectory from the same y0, so their first iterates agree.
            Assert.Equal(2, result.Trajectories.Count);
            foreach (var c in result.Trajectories.SelectMany(t => t.Comparisons))
            {
                Assert.Equal(0, c.Steps[0]);
                Assert.Equal(1.0, c.Cosine[0], 6);
                Assert.All(c.Cosine, x => Assert.InRange(x, -1.0000001, 1.0000001));
            }
            var html = File.ReadAllText(result.ReportPath);
            foreach (var id in new[] { "spectra", "effective-dimension", "oracle", "compaction", "shuffled", "trajectories", "checks" })
                Assert.Contains(id, html, StringComparison.Ordinal);

            // A re-run resumes: nothing retrained, the same numbers bit for bit.
            var checkpoint = Path.Combine(dir, "n-4", "s1", TrainingRun.CheckpointFolder, TrainingRun.FinalCheckpointFile);
            var written = File.GetLastWriteTimeUtc(checkpoint);
            var before = File.ReadAllBytes(Path.Combine(dir, "jacobians", "n-4", "eigenvalues.npy"));
            GahbExperiment.Run(settings, dir, "test", reportOptions: NoSvg);
            Assert.Equal(written, File.GetLastWriteTimeUtc(checkpoint));
            Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, "jacobians", "n-4", "eigenvalues.npy")));

            // --from that run analyzes its networks without training: the same eigenvalues for the same network.
            var fromDir = Path.Combine(root, "from");
            var transitionLike = Path.Combine(root, "transition");
            MemGen.Experiments.Transition.TransitionExperiment.Run(new MemGen.Experiments.Transition.TransitionSettings
            {
                Data = settings.Data,
                Sizes = [4],
                Model = settings.Model,
                Budget = 64,
                BatchSize = 16,
                Samples = 2,
                EvalImages = 4,
                GridRows = 2,
                Sampler = "algorithm1:variant=code,max_steps=40",
                Seed = 5,
            }, transitionLike, "test", reportOptions: NoSvg);
            var fromResult = GahbExperiment.Run(settings with { From = transitionLike, Sizes = null, ShuffleSeed = null }, fromDir, "test", reportOptions: NoSvg);
            Assert.Equal(["N=4"], fromResult.Networks.Select(g => g.Label));
            Assert.False(Directory.Exists(Path.Combine(fromDir, "n-4")));
            Assert.Equal(before, File.ReadAllBytes(Path.Combine(fromDir, "jacobians", "n-4", "eigenvalues.npy")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    [Fact]
    public void BadSettingsAreRefusedWithNothingWritten()
    {
        var root = ReportTestData.NewRunDirectory();
        try
        {
            string Dir(string name) => Path.Combine(root, name);
            var sigmas = Assert.Throws<InvalidSettingException>(() => GahbExperiment.Run(Tiny() with { Sigmas = [0.3, 0.1] }, Dir("s"), "test", reportOptions: NoSvg));
            Assert.Equal("sigmas", sigmas.Setting);
            var from = Assert.Throws<InvalidSettingException>(() => GahbExperiment.Run(Tiny() with { From = Dir("nothing") }, Dir("f"), "test", reportOptions: NoSvg));
            Assert.Equal("from", from.Setting);
            Assert.False(Directory.Exists(Dir("s")));
            Assert.False(Directory.Exists(Dir("f")));

            static int Memgen(params string[] args) => Program.BuildRoot().Parse(args).Invoke();
            var error = new StringWriter();
            var old = Console.Error;
            Console.SetError(error);
            try
            {
                Assert.Equal(2, Memgen("experiment", "gahb", "--out", Dir("cli"), "--sigmas", "0.1,-1"));
                Assert.Equal(2, Memgen("experiment", "gahb", "--out", Dir("cli"), "--from", Dir("nothing")));
                Assert.Equal(2, Memgen("experiment", "gahb", "--out", Dir("cli"), "--from", Dir("nothing"), "--model", "bfcnn:layers=3,width=4"));
            }
            finally
            {
                Console.SetError(old);
            }
            var lines = error.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(3, lines.Length);
            Assert.Contains("--sigmas", lines[0], StringComparison.Ordinal);
            Assert.Contains("--from", lines[1], StringComparison.Ordinal);
            Assert.Contains("--model", lines[2], StringComparison.Ordinal);
            Assert.False(Directory.Exists(Dir("cli")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }
}
