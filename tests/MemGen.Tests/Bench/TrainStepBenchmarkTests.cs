using System.Text.Json;
using MemGen.Bench;
using MemGen.Cli;
using MemGen.Compute;
using MemGen.Nn;

namespace MemGen.Tests.Bench;

[Collection("Console")] // redirects Console.Out/Error: must not run beside other tests that do
public class TrainStepBenchmarkTests
{
    private static (int Code, string Stdout, string Stderr) Invoke(params string[] args)
    {
        var (savedOut, savedErr) = (Console.Out, Console.Error);
        var (output, error) = (new StringWriter(), new StringWriter());
        try
        {
            Console.SetOut(output);
            Console.SetError(error);
            return (Program.BuildRoot().Parse(args).Invoke(), output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetOut(savedOut);
            Console.SetError(savedErr);
        }
    }

    [Fact]
    public void BenchTrainPrintsJsonWithTheRequiredFields()
    {
        var (code, stdout, _) = Invoke("bench", "train", "--model", "unet:blocks=1,width=16", "--size", "8", "--batch", "2",
            "--steps", "1", "--warmup", "0", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        var root = json.RootElement;
        Assert.Equal("unet:blocks=1,width=16", root.GetProperty("model").GetString());
        double ms = root.GetProperty("step_ms_median").GetDouble();
        Assert.True(ms > 0);
        Assert.Equal(2 / (ms / 1e3), root.GetProperty("images_per_s").GetDouble(), 0.05 * 2 / (ms / 1e3));
        Assert.True(root.GetProperty("gflops_per_s").GetDouble() >= 0);
        Assert.True(root.GetProperty("peak_rss_mb").GetDouble() > 10);
        Assert.True(double.IsFinite(root.GetProperty("final_loss").GetDouble()));
        // Conv FLOPs of one step = 3 × forward: enc 1→16, 16→16 at 8×8; mid 16→32, 32→32 at 4×4; up 32→16 (4×4 in);
        // dec 32→16, 16→1 at 8×8.
        double forward = 2.0 * 2 * (64 * 9 * (1 * 16 + 16 * 16 + 32 * 16 + 16 * 1) + 16 * 9 * (16 * 32 + 32 * 32) + 16 * 4 * 32 * 16);
        Assert.Equal(3 * forward / 1e9, root.GetProperty("conv_gflop_per_step").GetDouble(), 6);
    }

    [Fact]
    public void BenchJacobianAssemblesAnExactJacobian()
    {
        var (code, stdout, _) = Invoke("bench", "jacobian", "--model", "bfcnn:layers=3,width=16", "--size", "6", "--batch", "8", "--json");
        Assert.Equal(0, code);
        using var json = JsonDocument.Parse(stdout);
        Assert.Equal(36, json.RootElement.GetProperty("dimension").GetInt32());
        Assert.True(json.RootElement.GetProperty("euler_relative_error").GetDouble() < 1e-5);
        Assert.True(json.RootElement.GetProperty("jacobian_seconds").GetDouble() > 0);
        using var engine = BenchmarkBackend.Open(ComputeDevice.Cpu);
        var vjp = JacobianBenchmark.Run(engine, NetworkSpec.Parse("unet:blocks=1,width=16"), 6, 5, vjp: true);
        Assert.Equal("vjp", vjp.Mode);
        Assert.True(vjp.EulerRelativeError < 1e-5, $"{vjp.EulerRelativeError}");
    }

    [Theory]
    [InlineData("train", "--model", "resnet:layers=3", "--model")]
    [InlineData("train", "--model", "bfcnn:layers=x", "layers")]
    [InlineData("train", "--batch", "0", "--batch")]
    [InlineData("train", "--steps", "0", "--steps")]
    [InlineData("train", "--model", "unet:blocks=2,width=8", "--size")] // default size 40 is fine; see next line
    [InlineData("jacobian", "--mode", "both", "--mode")]
    [InlineData("jacobian", "--model", "unet:blocks=3,width=8", "--size 28")]
    public void BadFlagsGiveOneLineErrors(string sub, string flag, string value, string mentioned)
    {
        var args = new List<string> { "bench", sub, flag, value };
        if (flag == "--model" && value == "unet:blocks=2,width=8") args.AddRange(["--size", "42"]);
        var (code, stdout, stderr) = Invoke([.. args]);
        Assert.NotEqual(0, code);
        Assert.Equal("", stdout);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Contains(mentioned, stderr);
    }
}
