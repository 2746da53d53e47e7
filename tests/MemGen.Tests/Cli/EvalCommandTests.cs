using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Cli;

namespace MemGen.Tests.Cli;

public sealed class EvalCommandTests : IDisposable
{
    private const string Train = "gaussian:size=8,mean=0.5,std=0.1,n=120,seed=1";
    private const string Test = "gaussian:size=8,mean=0.5,std=0.1,n=40,seed=2";
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-cli-eval-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Dir(string name) => Path.Combine(_folder, name);

    private static int Memgen(params string[] args) => Program.BuildRoot().Parse(args).Invoke();

    private static double Parse(string s) => s == "inf" ? double.PositiveInfinity : double.Parse(s, CultureInfo.InvariantCulture);

    private static Dictionary<string, List<string[]>> Rows(string dir)
    {
        var lines = File.ReadAllLines(Path.Combine(dir, "curves.csv"));
        Assert.Equal("denoiser,sigma,sigma_255,input_psnr,train_psnr,train_psnr_se,test_psnr,test_psnr_se,gap", lines[0]);
        return lines.Skip(1).Select(l => l.Split(',')).GroupBy(f => f[0]).ToDictionary(g => g.Key, g => g.ToList());
    }

    [Fact]
    public void WienerDenoiserMatchesItsOwnReferenceAndFilesAgree()
    {
        var dir = Dir("wiener");
        Assert.Equal(0, Memgen("eval", "--denoiser", "wiener:" + Train, "--train", Train, "--test", Test, "--out", dir, "--images", "50", "--no-svg"));
        var rows = Rows(dir);
        Assert.Equal(["wiener"], rows.Keys.Distinct());
        // The denoiser and the reference are the same Wiener filter on the same noise: identical rows, twice.
        Assert.Equal(30, rows["wiener"].Count);
        for (int k = 0; k < 15; k++) Assert.Equal(rows["wiener"][k], rows["wiener"][k + 15]);

        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "curves.json")))!;
        double gap = (double)json["psnr_gap"]!;
        double fromCsv = rows["wiener"].Take(15).Average(f => Parse(f[4]) - Parse(f[6]));
        Assert.Equal(fromCsv, gap, 1e-9);
        Assert.Equal(gap, (double)json["wiener_psnr_gap"]!, 1e-12);
        Assert.Equal(50, (int)json["curve"]!["train_images"]!);
        Assert.Equal(40, (int)json["curve"]!["test_images"]!);
        Assert.Equal(15, json["curve"]!["sigma"]!.AsArray().Count);
        Assert.True(File.Exists(Path.Combine(dir, "report.html")));
        Assert.Contains("Output PSNR vs input PSNR", File.ReadAllText(Path.Combine(dir, "report.html")), StringComparison.Ordinal);
    }

    [Fact]
    public void IdentityOutputPsnrIsTheInputPsnrAndTheWienerReferenceBeatsIt()
    {
        var dir = Dir("identity");
        Assert.Equal(0, Memgen("eval", "--denoiser", "identity", "--train", Train, "--test", Test, "--out", dir, "--images", "40", "--no-svg"));
        var rows = Rows(dir);
        Assert.Equal(15, rows["identity"].Count);
        foreach (var f in rows["identity"])
        {
            double input = Parse(f[3]);
            Assert.Equal(input, Parse(f[4]), 0.3); // PSNR of pure noise ≈ −20·log10 σ (64 pixels per image)
            Assert.Equal(input, Parse(f[6]), 0.3);
        }
        // On Gaussian data the Wiener filter is optimal: fitted on 120 images it beats the identity on held-out images once the
        // noise dominates the covariance estimation error (σ·255 ≥ 10; at tiny σ the estimate's small eigenvalues over-shrink).
        for (int k = 7; k < 15; k++) Assert.True(Parse(rows["wiener"][k][6]) > Parse(rows["identity"][k][6]));
    }

    [Fact]
    public void WithoutTestSetOrWienerOnlyTheTrainingCurveIsWritten()
    {
        var dir = Dir("train-only");
        Assert.Equal(0, Memgen("eval", "--denoiser", "identity", "--train", Train, "--out", dir, "--images", "10", "--no-wiener", "--no-svg"));
        var rows = Rows(dir);
        Assert.Equal(["identity"], rows.Keys);
        Assert.All(rows["identity"], f => Assert.Equal("nan", f[6])); // one number format for every CSV: NaN is written nan
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "curves.json")))!;
        Assert.Null(json["psnr_gap"]);
        Assert.Null(json["wiener_reference"]);
    }

    [Theory]
    [InlineData("--images", "0")]
    [InlineData("--batch", "0")]
    [InlineData("--denoiser", "bogus")]
    [InlineData("--denoiser", "checkpoint:/nonexistent/x.safetensors")]
    [InlineData("--denoiser", "empirical:gaussian:size=4,mean=0.5,std=0.1,n=5,seed=1")]
    [InlineData("--train", "gaussian:size=8,mean=0.5")]
    [InlineData("--train", "npy:/nonexistent.npy")]
    [InlineData("--train", "gaussian:size=8,mean=0.5,std=0.1,n=1,seed=1")]
    [InlineData("--test", "gaussian:size=6,mean=0.5,std=0.1,n=10,seed=2")]
    [InlineData("--test", "gaussian:size=8,mean=0.5,std=0.1,n=0,seed=2")]
    public void BadFlagsFailWithoutWritingAnything(string flag, string value)
    {
        var dir = Dir("bad");
        var args = new List<string> { "eval", "--denoiser", "identity", "--train", Train, "--test", Test, "--out", dir, "--images", "5", "--no-svg" };
        int at = args.IndexOf(flag);
        if (at >= 0) args[at + 1] = value;
        else args.AddRange([flag, value]);
        Assert.NotEqual(0, Memgen([.. args]));
        Assert.False(Directory.Exists(dir), $"{flag} {value} left {dir} behind");
    }

    [Fact]
    public void ExistingResultsAreKeptUnlessForced()
    {
        var dir = Dir("twice");
        string[] args = ["eval", "--denoiser", "identity", "--train", Train, "--test", Test, "--out", dir, "--images", "5", "--no-svg"];
        Assert.Equal(0, Memgen(args));
        var before = File.ReadAllText(Path.Combine(dir, "curves.csv"));
        Assert.NotEqual(0, Memgen([.. args, "--seed", "3"]));
        Assert.Equal(before, File.ReadAllText(Path.Combine(dir, "curves.csv")));
        Assert.Equal(0, Memgen([.. args, "--seed", "3", "--force"]));
        Assert.NotEqual(before, File.ReadAllText(Path.Combine(dir, "curves.csv")));
    }
}
