using System.Text.Json;
using MemGen.Cli;

namespace MemGen.Tests.Analysis;

public class EvalCommandTests
{
    private static int Run(params string[] args) => Program.BuildRoot().Parse(args).Invoke();

    [Fact]
    public void WritesCurveAndWienerReference()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"memgen-eval-{Guid.NewGuid():N}");
        try
        {
            Assert.Equal(0, Run("eval", "--denoiser", "empirical:disks:size=10,n=6,seed=1", "--train", "disks:size=10,n=6,seed=1",
                "--test", "disks:size=10,n=6,seed=2", "--images", "6", "--out", dir, "--no-svg"));
            Assert.Equal(31, File.ReadAllLines(Path.Combine(dir, "curves.csv")).Length); // header + 15 σ × (denoiser, Wiener)
            using var curves = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "curves.json")));
            Assert.True(curves.RootElement.GetProperty("psnr_gap").GetDouble() > 10); // the memorizer
            Assert.Equal("wiener", curves.RootElement.GetProperty("wiener_reference").GetProperty("denoiser").GetString());
        }
        finally
        {
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
        }
    }

    [Fact]
    public void MismatchedImageSizesFail()
    {
        var dir = Path.Combine(Path.GetTempPath(), $"memgen-eval-{Guid.NewGuid():N}");
        Assert.Equal(2, Run("eval", "--denoiser", "empirical:disks:size=10,n=6,seed=1", "--train", "disks:size=12,n=6,seed=1", "--out", dir));
        Assert.False(Directory.Exists(dir));
    }
}
