using MemGen.Images;
using MemGen.Nn;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Analysis;

public sealed class AnalyzeJacobianCommandTests : IDisposable
{
    private const string Data = "gaussian:size=8,mean=0.5,std=0.1,n=3,seed=3";
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-analyze-jacobian-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static int Run(params string[] args) => MemGen.Cli.Program.BuildRoot().Parse(args).Invoke();

    private string SaveCheckpoint(int channels = 1)
    {
        var path = Path.Combine(_folder, "net.safetensors");
        using var convolutions = new MemGen.Compute.Cpu.CpuBackend();
        using var network = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=3,width=4"), channels, convolutions, seed: 5);
        foreach (var p in network.Parameters.Where(p => p.Name.EndsWith(".gamma", StringComparison.Ordinal))) p.Value.Span.Fill(1f);
        Checkpoint.Save(path, network, 8, 8, 1);
        return path;
    }

    [Fact]
    public void WritesEveryOutputWithConsistentNumbers()
    {
        var checkpoint = SaveCheckpoint();
        var outDir = Path.Combine(_folder, "out");
        Assert.Equal(0, Run("analyze", "jacobian", "--denoiser", "checkpoint:" + checkpoint, "--data", Data, "--index", "1",
            "--sigma", "0.1", "--top", "4", "--out", outDir));
        foreach (var f in MemGen.Analysis.JacobianJob.OutputFiles) Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        var lines = File.ReadAllLines(Path.Combine(outDir, "eigenvalues.csv"));
        Assert.Equal(1 + 64, lines.Length);
        var lambdas = lines.Skip(1).Select(l => double.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var summary = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")))!;
        Assert.Equal(lambdas.Sum(), (double)summary["effective_dimensionality_trace"]!, 1e-9);
        Assert.True((double)summary["euler_relative_error"]! < 1e-4);
        var vectors = MemGen.Images.NpyReader.Read(Path.Combine(outDir, "eigenvectors.npy"));
        Assert.Equal([4, 1, 8, 8], vectors.Shape);
        var jacobian = MemGen.Images.NpyReader.Read(Path.Combine(outDir, "jacobian.npy"));
        Assert.Equal([64, 64], jacobian.Shape);
    }

    [Theory]
    [InlineData("--sigma", "0")]
    [InlineData("--top", "0")]
    [InlineData("--index", "3")]
    [InlineData("--denoiser", "identity")]
    [InlineData("--data", "nosuchsource:x")]
    [InlineData("--denoiser", "rgb")]
    public void BadInputWritesNothing(string flag, string value)
    {
        var checkpoint = SaveCheckpoint(value == "rgb" ? 3 : 1);
        if (value == "rgb") value = "checkpoint:" + checkpoint; // a 3-channel network for 1-channel data
        var outDir = Path.Combine(_folder, "bad");
        var args = new Dictionary<string, string>
        {
            ["--denoiser"] = "checkpoint:" + checkpoint,
            ["--data"] = Data,
            ["--sigma"] = "0.1",
            ["--out"] = outDir,
        };
        args[flag] = value;
        Assert.Equal(MemGen.Cli.Commands.CommandError.ExitCode, Run(["analyze", "jacobian", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]));
        Assert.False(Directory.Exists(outDir));
    }
}
