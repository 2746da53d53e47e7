using System.Buffers.Binary;
using System.IO.Compression;
using MemGen.Data;
using MemGen.Images;

namespace MemGen.Tests.Data;

public class IdxReaderTests
{
    internal static byte[] IdxBytes(byte type, int[] shape, byte[] payload)
    {
        var bytes = new byte[4 + 4 * shape.Length + payload.Length];
        bytes[2] = type;
        bytes[3] = (byte)shape.Length;
        for (int i = 0; i < shape.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), shape[i]);
        payload.CopyTo(bytes, 4 + 4 * shape.Length);
        return bytes;
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest)) gz.Write(data);
        return ms.ToArray();
    }

    [Fact]
    public void FashionMnistTrainLoadsWithLabelsAndKnownStatistics()
    {
        var train = DatasetLoader.Load("fashion-mnist:train");
        Assert.Equal((60000, 1, 28, 28), (train.Count, train.Channels, train.Height, train.Width));
        Assert.NotNull(train.Labels);
        Assert.Equal(Enumerable.Range(0, 10), train.Labels!.Distinct().Order());
        Assert.All(train.Labels!.GroupBy(l => l), g => Assert.Equal(6000, g.Count()));
        Assert.Equal(0f, train.Pixels.Min());
        Assert.Equal(1f, train.Pixels.Max());
        double mean = train.Pixels.Average();
        Assert.InRange(mean, 0.28, 0.29); // Fashion-MNIST's well-known pixel mean is 0.2860
    }

    [Fact]
    public void FashionMnistTestHasTenThousandImages()
    {
        var test = DatasetLoader.Load("fashion-mnist:test");
        Assert.Equal(10000, test.Count);
        Assert.Equal("fashion-mnist:test", test.Provenance.Source);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void ReadsBytesScaledByOneOver255(bool gzip)
    {
        using var dir = new TempFolder();
        var payload = Enumerable.Range(0, 2 * 3 * 4).Select(i => (byte)(i * 11)).ToArray();
        var bytes = IdxBytes(0x08, [2, 3, 4], payload);
        var path = dir.File(gzip ? "x.idx.gz" : "x.idx");
        File.WriteAllBytes(path, gzip ? Gzip(bytes) : bytes);
        var set = DatasetLoader.Load("idx:" + path);
        Assert.Equal((2, 1, 3, 4), (set.Count, set.Channels, set.Height, set.Width));
        for (int i = 0; i < payload.Length; i++) Assert.Equal(payload[i] / 255f, set.Pixels[i]);
    }

    [Fact]
    public void ReadsBigEndianFloatsAndInts()
    {
        var payload = new byte[3 * 4];
        float[] values = [1.5f, -2.25f, 1e-3f];
        for (int i = 0; i < 3; i++) BinaryPrimitives.WriteSingleBigEndian(payload.AsSpan(4 * i), values[i]);
        Assert.Equal(values, IdxReader.Parse(IdxBytes(0x0D, [3], payload), "f").Values);
        var ints = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(ints, -7);
        BinaryPrimitives.WriteInt32BigEndian(ints.AsSpan(4), 123456);
        Assert.Equal([-7f, 123456f], IdxReader.Parse(IdxBytes(0x0C, [2], ints), "i").Values);
    }

    public static TheoryData<string, byte[], string> BadFiles() => new()
    {
        { "wrong magic", [1, 0, 8, 1, 0, 0, 0, 1, 5], "wrong IDX magic" },
        { "unsupported type", IdxBytes(0x0A, [1], [0]), "unsupported IDX type" },
        { "short header", [0, 0, 8, 3, 0, 0], "truncated IDX header" },
        { "truncated data", IdxBytes(0x08, [2, 2, 2], new byte[7]), "truncated IDX data" },
        { "trailing bytes", IdxBytes(0x08, [1, 2, 2], new byte[5]), "trailing bytes" },
        { "two dimensions", IdxBytes(0x08, [2, 2], new byte[4]), "3 dimensions" },
        { "empty", [], "too short" },
        { "corrupt gzip", [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0, 0, 0], "gzip" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFilesGiveOneLineErrorsNamingTheFile(string what, byte[] bytes, string expected)
    {
        using var dir = new TempFolder();
        var path = dir.File(what.Replace(' ', '_') + ".idx");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void MissingFileAndMismatchedLabelsAreErrors()
    {
        using var dir = new TempFolder();
        Assert.Contains("cannot read", Assert.Throws<DataFormatException>(() => IdxReader.Read(dir.File("none.idx"))).Message);
        var images = dir.File("i.idx");
        var labels = dir.File("l.idx");
        File.WriteAllBytes(images, IdxBytes(0x08, [2, 1, 1], [1, 2]));
        File.WriteAllBytes(labels, IdxBytes(0x08, [3], [0, 1, 2]));
        var e = Assert.Throws<DataFormatException>(() => IdxReader.ReadImages(images, labels));
        Assert.Contains(labels, e.Message);
    }
}
