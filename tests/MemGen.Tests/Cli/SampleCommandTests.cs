using System.Text.Json.Nodes;
using MemGen.Cli;
using MemGen.Data;
using MemGen.Images;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Cli;

public sealed class SampleCommandTests : IDisposable
{
    private const string Data = "gaussian:size=8,mean=0.5,std=0.2,n=4,seed=3";
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-cli-sample-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Dir(string name) => Path.Combine(_folder, name);

    private static int Memgen(params string[] args) => Program.BuildRoot().Parse(args).Invoke();

    [Fact]
    public void EmpiricalDenoiserSamplesAreTrainingImages()
    {
        var dir = Dir("empirical");
        Assert.Equal(0, Memgen("sample", "--denoiser", "empirical:" + Data, "--count", "6", "--seed", "4", "--out", dir,
            "--sampler", "algorithm1-code", "--h0", "0.05"));
        var training = DatasetLoader.Load(Data);
        var samples = NpyReader.Read(Path.Combine(dir, "samples.npy"));
        Assert.Equal([6, 1, 8, 8], samples.Shape);
        var rows = File.ReadAllLines(Path.Combine(dir, "trajectories.csv"));
        Assert.Equal("index,steps,final_sigma,outcome,diverged", rows[0]);
        Assert.Equal(7, rows.Length);
        int converged = 0;
        for (int k = 0; k < 6; k++)
        {
            var fields = rows[k + 1].Split(',');
            Assert.Equal(k.ToString(System.Globalization.CultureInfo.InvariantCulture), fields[0]);
            if (fields[4] != "0") continue;
            converged++;
            var sample = samples.Values.AsSpan(k * 64, 64).ToArray();
            double best = Enumerable.Range(0, training.Count).Min(i =>
            {
                var x = training.Image(i);
                double m = 0;
                for (int j = 0; j < 64; j++) m = Math.Max(m, Math.Abs(x[j] - sample[j]));
                return m;
            });
            Assert.True(best < 1e-3, $"sample {k} is {best} away from every training image");
        }
        Assert.True(converged >= 4, $"only {converged} of 6 samples converged");
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "sample-config.json")))!;
        Assert.Equal(6, (int)config["count"]!);
        Assert.Equal("empirical:" + Data, (string)config["denoiser"]!["spec"]!);
        Assert.Equal(6 - converged, (int)config["results"]!["diverged"]!);
        var png = File.ReadAllBytes(Path.Combine(dir, "samples.png"));
        Assert.Equal(0x89, png[0]);
    }

    [Fact]
    public void SaveEveryKeepsTheIteratesOfEachTrajectoryEndingAtTheSample()
    {
        var dir = Dir("iterates");
        Assert.Equal(0, Memgen("sample", "--denoiser", "empirical:" + Data, "--count", "3", "--seed", "4", "--out", dir,
            "--sampler", "algorithm1", "--h0", "0.05", "--save-every", "3"));
        var samples = NpyReader.Read(Path.Combine(dir, "samples.npy"));
        var iterates = NpyReader.Read(Path.Combine(dir, "iterates.npy"));
        Assert.Equal(3, iterates.Shape[0]);
        Assert.Equal([1, 8, 8], iterates.Shape[2..]);
        int length = iterates.Shape[1];
        var rows = File.ReadAllLines(Path.Combine(dir, "iterate-steps.csv"))[1..].Select(l => l.Split(',').Select(int.Parse).ToArray()).ToArray();
        var trajectories = File.ReadAllLines(Path.Combine(dir, "trajectories.csv"))[1..].Select(l => l.Split(',')).ToArray();
        for (int i = 0; i < 3; i++)
        {
            var steps = rows.Where(r => r[0] == i).Select(r => r[2]).ToArray();
            Assert.Equal(0, steps[0]);
            int total = int.Parse(trajectories[i][1], System.Globalization.CultureInfo.InvariantCulture);
            Assert.InRange(steps[^1], total - 1, total);
            Assert.Equal(Enumerable.Range(0, steps[^1] / 3 + 1).Select(k => 3 * k), steps.Where(s => s % 3 == 0));
            Assert.True(steps.Count(s => s % 3 != 0) <= 1, "only the last kept iterate may fall between multiples of k");
            // The paper variant returns its last iterate: the last kept iterate (and the padding after it) is the sample.
            var last = iterates.Values.AsSpan((i * length + length - 1) * 64, 64).ToArray();
            Assert.Equal(samples.Values.AsSpan(i * 64, 64).ToArray(), last);
        }
        Assert.Equal(3, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "sample-config.json")))!["sampler"]!["save_every"]!);
        Assert.Equal(2, Memgen("sample", "--denoiser", "empirical:" + Data, "--out", Dir("bad"), "--save-every", "-1"));
        Assert.False(Directory.Exists(Dir("bad")));
    }

    [Fact]
    public void SameSeedGivesTheSameSamplesForAnyBatchSize()
    {
        string[] Args(string dir, string batch) =>
            ["sample", "--denoiser", "wiener:" + Data, "--count", "5", "--seed", "11", "--out", dir, "--batch", batch, "--h0", "0.1", "--sigma-final", "0.1"];
        Assert.Equal(0, Memgen(Args(Dir("b1"), "1")));
        Assert.Equal(0, Memgen(Args(Dir("b5"), "5")));
        var a = NpyReader.Read(Path.Combine(Dir("b1"), "samples.npy")).Values;
        var b = NpyReader.Read(Path.Combine(Dir("b5"), "samples.npy")).Values;
        Assert.Equal(a.Length, b.Length);
        for (int i = 0; i < a.Length; i++) Assert.Equal(a[i], b[i], 1e-4f);
    }

    [Fact]
    public void IdentityNeedsAShapeAndFlowSamplersRun()
    {
        Assert.NotEqual(0, Memgen("sample", "--denoiser", "identity", "--out", Dir("noshape")));
        Assert.False(Directory.Exists(Dir("noshape")));
        var dir = Dir("identity");
        Assert.Equal(0, Memgen("sample", "--denoiser", "identity", "--shape", "1x3x5", "--count", "3", "--out", dir, "--sampler", "flow-heun", "--steps", "4"));
        Assert.Equal([3, 1, 3, 5], NpyReader.Read(Path.Combine(dir, "samples.npy")).Shape);
    }

    [Fact]
    public void CheckpointDenoiserSamplesAtItsTrainingSizeOrAGivenShape()
    {
        var path = Path.Combine(_folder, "net.safetensors");
        using (var convolutions = new MemGen.Compute.Cpu.CpuBackend())
        using (var network = MemGen.Nn.NetworkFactory.Create(MemGen.Nn.NetworkSpec.Parse("bfcnn:layers=3,width=4"), 1, convolutions, seed: 2))
            MemGen.Nn.Checkpoint.Save(path, network, 6, 5, 10);
        var dir = Dir("checkpoint");
        Assert.Equal(0, Memgen("sample", "--denoiser", "checkpoint:" + path, "--count", "3", "--out", dir, "--max-steps", "20", "--sampler", "algorithm1-code"));
        Assert.Equal([3, 1, 6, 5], NpyReader.Read(Path.Combine(dir, "samples.npy")).Shape);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "sample-config.json")))!;
        Assert.Equal("bfcnn:layers=3,width=4", (string)config["denoiser"]!["architecture"]!);
        Assert.Equal(3, File.ReadAllLines(Path.Combine(dir, "trajectories.csv")).Length - 1);

        var other = Dir("checkpoint-shape");
        Assert.Equal(0, Memgen("sample", "--denoiser", "checkpoint:" + path, "--count", "2", "--out", other, "--max-steps", "5", "--shape", "1x8x8"));
        Assert.Equal([2, 1, 8, 8], NpyReader.Read(Path.Combine(other, "samples.npy")).Shape);
        Assert.NotEqual(0, Memgen("sample", "--denoiser", "checkpoint:" + path, "--out", Dir("bad-channels"), "--shape", "3x8x8"));
        Assert.NotEqual(0, Memgen("sample", "--denoiser", "checkpoint:" + path, "--out", Dir("bad-mean"), "--start-mean", Data)); // 8x8 mean, 6x5 samples

        // The start mean from a dataset spec: with the identity denoiser probability flow leaves y0 = m + σ0·z unchanged,
        // and both runs share z (same seed), so their difference is the dataset's mean image.
        var withMean = Dir("mean-spec");
        var plain = Dir("mean-zero");
        Assert.Equal(0, Memgen("sample", "--denoiser", "identity", "--shape", "1x8x8", "--count", "2", "--out", withMean, "--start-mean", Data, "--sampler", "flow-euler", "--steps", "1"));
        Assert.Equal(0, Memgen("sample", "--denoiser", "identity", "--shape", "1x8x8", "--count", "2", "--out", plain, "--start-mean", "0", "--sampler", "flow-euler", "--steps", "1"));
        var mean = MemGen.Images.ImageStatistics.MeanImage(DatasetLoader.Load(Data));
        var a = NpyReader.Read(Path.Combine(withMean, "samples.npy")).Values;
        var b = NpyReader.Read(Path.Combine(plain, "samples.npy")).Values;
        for (int i = 0; i < a.Length; i++) Assert.Equal(mean[i % 64], a[i] - b[i], 1e-5f);
        Assert.StartsWith("mean image of gaussian:", (string)JsonNode.Parse(File.ReadAllText(Path.Combine(withMean, "sample-config.json")))!["sampler"]!["start_mean"]!, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Dir("bad-channels")));
    }

    [Fact]
    public void StartCovarianceGivesTheStartTheDataCovariancePlusTheNoise()
    {
        // With the identity denoiser the flow leaves y0 unchanged, so the samples are the starts m + (Σ + σ0²I)^½·z themselves.
        const string data = "gaussian:size=4,mean=0.5,std=0.6,n=60,seed=9";
        var dir = Dir("gaussian-start");
        Assert.Equal(0, Memgen("sample", "--denoiser", "identity", "--shape", "1x4x4", "--count", "3000", "--out", dir, "--start-mean", data,
            "--start-covariance", data, "--sampler", "flow:euler,steps=1,sigma_max=0.5", "--batch", "500"));
        var images = DatasetLoader.Load(data);
        var target = ImageStatistics.Covariance(images, out _);
        for (int j = 0; j < 16; j++) target[j * 16 + j] += 0.25;
        var x = NpyReader.Read(Path.Combine(dir, "samples.npy")).Values;
        var mean = new double[16];
        for (int i = 0; i < 3000; i++)
            for (int j = 0; j < 16; j++) mean[j] += x[i * 16 + j] / 3000.0;
        double error = 0, norm = 0;
        for (int a = 0; a < 16; a++)
            for (int b = 0; b < 16; b++)
            {
                double c = 0;
                for (int i = 0; i < 3000; i++) c += (x[i * 16 + a] - mean[a]) * (x[i * 16 + b] - mean[b]);
                c /= 2999;
                error += (c - target[a * 16 + b]) * (c - target[a * 16 + b]);
                norm += target[a * 16 + b] * target[a * 16 + b];
            }
        // The relative error of a covariance estimated from 3000 draws in d = 16 is about √(16/3000) ≈ 0.07.
        Assert.True(Math.Sqrt(error / norm) < 0.15, $"start covariance off by {Math.Sqrt(error / norm)} (relative)");
        Assert.Equal(data, (string)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "sample-config.json")))!["sampler"]!["start_covariance"]!);
        Assert.NotEqual(0, Memgen("sample", "--denoiser", "identity", "--shape", "1x8x8", "--out", Dir("bad-cov"), "--start-covariance", data)); // 4x4 data
        Assert.False(Directory.Exists(Dir("bad-cov")));
    }

    [Theory]
    [InlineData("--count", "0")]
    [InlineData("--denoiser", "network:x")]
    [InlineData("--denoiser", "empirical:gaussian:size=8")]
    [InlineData("--denoiser", "checkpoint:/nonexistent/net.safetensors")]
    [InlineData("--sampler", "euler")]
    [InlineData("--h0", "2")]
    [InlineData("--beta", "0")]
    [InlineData("--max-steps", "0")]
    [InlineData("--steps", "10")]
    [InlineData("--shape", "1x0x8")]
    [InlineData("--shape", "1x4x4")]
    [InlineData("--start-mean", "middle")]
    [InlineData("--start-mean", "npy:/nonexistent.npy")]
    [InlineData("--start-covariance", "npy:/nonexistent.npy")]
    [InlineData("--start-covariance", "gaussian:size=8,n=1")]
    [InlineData("--batch", "0")]
    [InlineData("--seed", "abc")]
    public void BadFlagsFailWithoutWritingAnything(string flag, string value)
    {
        var dir = Dir("bad");
        var args = new List<string> { "sample", "--denoiser", "empirical:" + Data, "--count", "2", "--out", dir };
        int at = args.IndexOf(flag);
        if (at >= 0) args[at + 1] = value;
        else args.AddRange([flag, value]);
        Assert.NotEqual(0, Memgen([.. args]));
        Assert.False(Directory.Exists(dir), $"{flag} {value} left {dir} behind");
    }

    [Fact]
    public void FlowSamplersRejectAlgorithm1Flags()
    {
        Assert.NotEqual(0, Memgen("sample", "--denoiser", "identity", "--shape", "1x4x4", "--out", Dir("f"), "--sampler", "flow-euler", "--h0", "0.1"));
        Assert.False(Directory.Exists(Dir("f")));
    }

    [Fact]
    public void ExistingSamplesAreKeptUnlessForced()
    {
        var dir = Dir("twice");
        string[] args = ["sample", "--denoiser", "identity", "--shape", "1x4x4", "--count", "2", "--out", dir];
        Assert.Equal(0, Memgen(args));
        var before = File.ReadAllBytes(Path.Combine(dir, "samples.npy"));
        Assert.NotEqual(0, Memgen([.. args, "--seed", "9"]));
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(dir, "samples.npy")));
        Assert.Equal(0, Memgen([.. args, "--seed", "9", "--force"]));
        Assert.NotEqual(before, File.ReadAllBytes(Path.Combine(dir, "samples.npy")));
    }
}
