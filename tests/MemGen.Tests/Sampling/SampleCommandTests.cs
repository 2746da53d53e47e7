using System.Text.Json;
using MemGen.Cli;
using MemGen.Data;

namespace MemGen.Tests.Sampling;

public class SampleCommandTests
{
    private static int Run(params string[] args) => Program.BuildRoot().Parse(args).Invoke();

    [Fact]
    public void WritesSamplesGridTrajectoriesAndSummary()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"memgen-sample-{Guid.NewGuid():N}");
        try
        {
            Assert.Equal(0, Run("sample", "--denoiser", "empirical:disks:size=10,n=5,seed=1", "--variant", "code", "--count", "4",
                "--seed", "3", "--out", dir));
            var samples = NpyReader.ReadImages(Path.Combine(dir, "samples.npy"));
            Assert.Equal((4, 1, 10, 10), (samples.Count, samples.Channels, samples.Height, samples.Width));
            Assert.True(File.Exists(Path.Combine(dir, "samples.png")));
            Assert.Equal(5, File.ReadAllLines(Path.Combine(dir, "trajectories.csv")).Length);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "sampling.json")));
            Assert.Equal(3, json.RootElement.GetProperty("seed").GetInt64());
            Assert.Equal(0, json.RootElement.GetProperty("diverged").GetInt32());
            // Refuses to overwrite; same seed with --overwrite gives the same samples.
            Assert.Equal(2, Run("sample", "--denoiser", "empirical:disks:size=10,n=5,seed=1", "--count", "4", "--out", dir));
            Assert.Equal(0, Run("sample", "--denoiser", "empirical:disks:size=10,n=5,seed=1", "--variant", "code", "--count", "4",
                "--seed", "3", "--out", dir, "--overwrite", "--batch", "1"));
            Assert.Equal(samples.Pixels, NpyReader.ReadImages(Path.Combine(dir, "samples.npy")).Pixels);
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Theory]
    [InlineData("--denoiser", "nonsense:x")]
    [InlineData("--denoiser", "checkpoint:/nonexistent/model.safetensors")]
    [InlineData("--sampler", "ddim")]
    [InlineData("--count", "0")]
    [InlineData("--denoiser", "identity")]
    public void BadInputFailsWithoutOutput(string flag, string value)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"memgen-sample-{Guid.NewGuid():N}");
        var args = new List<string> { "sample", "--out", dir };
        if (flag != "--denoiser") args.AddRange(["--denoiser", "empirical:disks:size=10,n=5,seed=1"]);
        args.AddRange([flag, value]);
        Assert.Equal(2, Run([.. args]));
        Assert.False(Directory.Exists(dir) && Directory.EnumerateFiles(dir).Any());
    }
}
