using System.CommandLine;
using MemGen.Cli;
using MemGen.Data;
using MemGen.Images;

namespace MemGen.Tests.Data;

public class DataCommandTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        int code = Program.BuildRoot().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
        return (code, output.ToString(), error.ToString());
    }

    private static void AssertOneLineError((int Code, string Out, string Err) r, string expected)
    {
        Assert.NotEqual(0, r.Code);
        var lines = r.Err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains('%')).ToArray();
        Assert.Single(lines);
        Assert.Contains(expected, lines[0]);
    }

    [Fact]
    public void InfoPrintsCountShapeAndStatistics()
    {
        var r = Run("data", "info", "disks:size=16,n=40,seed=2|take=30");
        Assert.Equal(0, r.Code);
        Assert.Contains("30 × 1×16×16", r.Out);
        Assert.Contains("mean image", r.Out);
        var json = Run("data", "info", "fashion-mnist:test|take=100", "--json");
        Assert.Equal(0, json.Code);
        Assert.Contains("\"count\": 100", json.Out);
        Assert.Contains("\"label_counts\"", json.Out);
    }

    [Fact]
    public void HelpDocumentsTheSpecSyntax()
    {
        var r = Run("data", "--help");
        Assert.Equal(0, r.Code);
        Assert.Contains("calpha:alpha=A", r.Out);
        Assert.Contains("shuffle=SEED", r.Out);
    }

    [Fact]
    public void PreviewWritesADecodablePngGrid()
    {
        using var dir = new TempFolder();
        var path = dir.File("grid.png");
        var r = Run("data", "preview", "fashion-mnist:test", "--out", path, "--count", "12", "--columns", "4", "--zoom", "1", "--labels");
        Assert.Equal(0, r.Code);
        var img = PngDecoder.Read(path);
        Assert.Equal(1, img.Shape.Channels);
        Assert.True(img.Shape.Height >= 3 * 28 && img.Shape.Width > 4 * 28);
        AssertOneLineError(Run("data", "preview", "fashion-mnist:test", "--out", dir.File("x.png"), "--count", "0"), "--count");
        Assert.False(File.Exists(dir.File("x.png")));
    }

    [Fact]
    public void ExportWritesNpyThatReadsBack()
    {
        using var dir = new TempFolder();
        var path = dir.File("x.npy");
        var labels = dir.File("y.npy");
        Assert.Equal(0, Run("data", "export", "fashion-mnist:test|take=50", "--out", path, "--labels-out", labels).Code);
        var back = DatasetLoader.Load("npy:" + path);
        Assert.Equal(DatasetLoader.Load("fashion-mnist:test|take=50").Pixels, back.Pixels);
        Assert.Equal([50], NpyReader.Read(labels).Shape);
    }

    [Fact]
    public void SplitWritesSubsetsAndManifestOrRefusesOversizedN()
    {
        using var dir = new TempFolder();
        var outDir = Path.Combine(dir.Path, "split");
        var r = Run("data", "split", "disks:size=12,n=100,seed=1", "--n", "30", "--test", "20", "--out", outDir);
        Assert.Equal(0, r.Code);
        var manifest = SplitManifest.Load(Path.Combine(outDir, "split.json"));
        Assert.Equal(30, manifest.N);
        Assert.Equal(manifest.S1Sha256, SplitManifest.Hash(DatasetLoader.Load("npy:" + Path.Combine(outDir, "s1.npy"))));
        Assert.Equal([20, 1, 12, 12], NpyReader.Read(Path.Combine(outDir, "test.npy")).Shape);
        Assert.Contains(manifest.S2Sha256, r.Out);

        var refused = Path.Combine(dir.Path, "refused");
        AssertOneLineError(Run("data", "split", "disks:size=12,n=100,seed=1", "--n", "51", "--out", refused), "more than half of the pool");
        Assert.False(Directory.Exists(refused) && Directory.EnumerateFileSystemEntries(refused).Any());
        AssertOneLineError(Run("data", "split", "disks:size=12,n=100,seed=1", "--n", "50", "--test", "1", "--out", refused), "held-out");
        AssertOneLineError(Run("data", "split", "disks:size=12,n=100,seed=1", "--n", "10", "--out", refused, "--test-spec", "disks:size=12,n=5,seed=2", "--test", "9"), "test count 9");
    }

    [Theory]
    [InlineData("calpha:alpha=3,size=32,n=10", "missing key 'seed'")]
    [InlineData("disks:size=32,n=10,seed=1,radius=3", "unknown key 'radius'")]
    [InlineData("disks:size=32,n=10,seed=1|blur", "unknown transform 'blur'")]
    [InlineData("npy:/nonexistent/file.npy", "/nonexistent/file.npy")]
    public void BadSpecsExitNonZeroWithOneLineAndNoOutputFile(string spec, string expected)
    {
        using var dir = new TempFolder();
        var path = dir.File("out.npy");
        AssertOneLineError(Run("data", "export", spec, "--out", path), expected);
        Assert.Empty(Directory.EnumerateFileSystemEntries(dir.Path));
    }

    [Fact]
    public void CorruptInputFileLeavesNoPartialOutput()
    {
        using var dir = new TempFolder();
        var bad = dir.File("bad.npy");
        File.WriteAllBytes(bad, NpyTests.NpyBytes("<f4", "(10, 4, 4)", new byte[100]));
        var outPath = dir.File("out.npy");
        AssertOneLineError(Run("data", "export", "npy:" + bad, "--out", outPath), "truncated .npy data");
        Assert.Equal([bad], Directory.GetFiles(dir.Path));
        AssertOneLineError(Run("data", "export", "disks:size=12,n=3,seed=1", "--out", dir.File("out.txt")), "must end in .npy");
    }
}
