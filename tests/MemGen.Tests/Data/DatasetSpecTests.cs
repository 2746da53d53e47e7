using MemGen.Data;
using MemGen.Images;

namespace MemGen.Tests.Data;

public class DatasetSpecTests
{
    [Fact]
    public void ParsesSourceOptionsAndTransformsInOrder()
    {
        var spec = DatasetSpec.Parse(" calpha:alpha=3, size=32,n=100,seed=1 | crop=30 |resize=16x12:bicubic|gray|shuffle=7|dedup=0.9|take=5");
        Assert.Equal("calpha", spec.Kind);
        Assert.Equal(3.0, spec.GetDouble("alpha"));
        Assert.Equal(3.0, spec.GetDouble("beta", spec.GetDouble("alpha")));
        Assert.Equal(1L, spec.Seed);
        Assert.True(spec.IsSynthetic);
        Assert.Collection(spec.Transforms,
            t => Assert.Equal(new CenterCropTransform(30, 30), ((PerImageStep)t).Transform),
            t => Assert.Equal(new ResizeTransform(16, 12, ResizeMode.Bicubic), ((PerImageStep)t).Transform),
            t => Assert.IsType<GrayscaleTransform>(((PerImageStep)t).Transform),
            t => Assert.Equal(7, ((PixelShuffleTransform)((PerImageStep)t).Transform).Seed),
            t => Assert.Equal(0.9, ((DedupStep)t).Threshold),
            t => Assert.Equal(5, ((TakeStep)t).Count));
        Assert.Equal("calpha:alpha=3, size=32,n=100,seed=1|crop=30|resize=16x12:bicubic|gray|shuffle=7|dedup=0.9|take=5", spec.ToString());
    }

    [Fact]
    public void FileSourcesKeepTheirPathAndRescaledTakesTheRestAsSource()
    {
        Assert.Equal("/data/x,y.npy", DatasetSpec.Parse("npy:/data/x,y.npy").Argument);
        Assert.Equal("train", DatasetSpec.Parse("fashion-mnist:train").Argument);
        Assert.Equal("/tmp/f", DatasetSpec.Parse("fashion-mnist:test,dir=/tmp/f").GetString("dir"));
        var r = DatasetSpec.Parse("rescaled:n=10,seed=2,index=3,from=disks:size=16,n=5,seed=1");
        Assert.Equal("disks:size=16,n=5,seed=1", r.GetString("from"));
        Assert.Equal(3, r.GetInt("index"));
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("fashion-mnist", "KIND:ARGUMENT")]
    [InlineData("mnist:train", "unknown source kind 'mnist'")]
    [InlineData("fashion-mnist:validation", "'train' or 'test'")]
    [InlineData("fashion-mnist:train,root=/x", "unknown key 'root'")]
    [InlineData("npy:", "missing path")]
    [InlineData("calpha:alpha=3,size=32,n=10", "missing key 'seed'")]
    [InlineData("calpha:alpha=x,size=32,n=10,seed=1", "key 'alpha' must be a number")]
    [InlineData("calpha:alpha=-1,size=32,n=10,seed=1", "key 'alpha' must be positive")]
    [InlineData("disks:size=32,n=10,seed=1,colour=2", "unknown key 'colour'")]
    [InlineData("disks:size=8,n=10,seed=1", "key 'size' must be an integer ≥ 9")]
    [InlineData("disks:size=32,n=-1,seed=1", "key 'n'")]
    [InlineData("disks:size=32,n=10,seed=1,seed=2", "given twice")]
    [InlineData("disks:size=32,n,seed=1", "expected key=value")]
    [InlineData("gaussian:d=10,size=3,mean=0,std=1,n=5,seed=1", "exactly one of d=")]
    [InlineData("gaussian:d=10,mean=0,std=-1,n=5,seed=1", "key 'std'")]
    [InlineData("rescaled:n=3,seed=1,from=foo:bar", "unknown source kind 'foo'")]
    [InlineData("disks:size=16,n=1,seed=1|blur=3", "unknown transform 'blur'")]
    [InlineData("disks:size=16,n=1,seed=1|crop=0", "size must be N or HxW")]
    [InlineData("disks:size=16,n=1,seed=1|crop", "needs a value")]
    [InlineData("disks:size=16,n=1,seed=1|resize=8:lanczos", "unknown resize mode")]
    [InlineData("disks:size=16,n=1,seed=1|gray=1", "takes no value")]
    [InlineData("disks:size=16,n=1,seed=1|shuffle=abc", "seed must be an integer")]
    [InlineData("disks:size=16,n=1,seed=1|dedup=2", "threshold")]
    [InlineData("disks:size=16,n=1,seed=1|take=-3", "count")]
    public void BadSpecsNameTheProblem(string text, string expected)
    {
        var e = Assert.Throws<DataFormatException>(() => DatasetSpec.Parse(text));
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void LoaderReportsMissingFilesFoldersAndCrops()
    {
        using var dir = new TempFolder();
        Assert.Contains("not found", Assert.Throws<DataFormatException>(() => DatasetLoader.Load("fashion-mnist:train,dir=" + dir.Path)).Message);
        Assert.Contains("folder not found", Assert.Throws<DataFormatException>(() => DatasetLoader.Load("png:" + dir.File("none"))).Message);
        Assert.Contains("no .png files", Assert.Throws<DataFormatException>(() => DatasetLoader.Load("png:" + dir.Path)).Message);
        Assert.Contains("only 16×16", Assert.Throws<DataFormatException>(() => DatasetLoader.Load("disks:size=16,n=2,seed=1|crop=20")).Message);
        Assert.Contains("key 'index' is 5", Assert.Throws<DataFormatException>(() => DatasetLoader.Load("rescaled:n=3,seed=1,index=5,from=disks:size=16,n=5,seed=1")).Message);
    }

    [Fact]
    public void ProvenanceReproducesTheSpec()
    {
        var set = DatasetLoader.Load("disks:size=16,n=20,seed=1|crop=12|take=5");
        Assert.Equal("disks:size=16,n=20,seed=1|crop=12|take=5", DisjointSplit.SpecOf(set));
        Assert.Equal(1L, set.Provenance.Seed);
        var again = DatasetLoader.Load(DisjointSplit.SpecOf(set));
        Assert.Equal(set.Pixels, again.Pixels);
    }
}
