using System.Buffers.Binary;
using System.Text;
using MemGen.Data;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Tests.Data;

public class NpyTests
{
    internal static byte[] NpyBytes(string dtype, string shape, byte[] payload, bool fortran = false, int version = 1)
    {
        string dict = $"{{'descr': '{dtype}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shape}, }}\n";
        int pre = version == 1 ? 10 : 12;
        var header = Encoding.ASCII.GetBytes(dict);
        var bytes = new byte[pre + header.Length + payload.Length];
        new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)version, 0 }.CopyTo(bytes, 0);
        if (version == 1) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)header.Length);
        else BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(8), (uint)header.Length);
        header.CopyTo(bytes, pre);
        payload.CopyTo(bytes, pre + header.Length);
        return bytes;
    }

    [Fact]
    public void WriterRoundTripsThroughReaderWithAlignedHeader()
    {
        using var dir = new TempFolder();
        var data = new float[2 * 3 * 5];
        new DeterministicRng(3).FillNormal(data);
        var path = dir.File("a.npy");
        NpyWriter.Write(path, data, [2, 3, 5]);
        var bytes = File.ReadAllBytes(path);
        int headerEnd = 10 + BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(8));
        Assert.Equal(0, headerEnd % 64);
        Assert.Equal((byte)'\n', bytes[headerEnd - 1]);
        var a = NpyReader.Read(path);
        Assert.Equal([2, 3, 5], a.Shape);
        Assert.Equal("<f4", a.Dtype);
        Assert.Equal(data, a.Values);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.tmp"));
    }

    [Fact]
    public void WritesOneDimensionalShapeWithTrailingComma()
    {
        using var dir = new TempFolder();
        var path = dir.File("v.npy");
        NpyWriter.Write(path, new double[] { 1, 2, 3 }, [3]);
        Assert.Contains("'shape': (3,)", Encoding.ASCII.GetString(File.ReadAllBytes(path)));
        Assert.Equal([1f, 2f, 3f], NpyReader.Read(path).Values);
    }

    [Fact]
    public void ReadsUInt8ScaledAndChannelsLastTransposed()
    {
        // (N=1, H=2, W=2, C=3), value = 10·pixel + channel.
        var payload = new byte[12];
        for (int p = 0; p < 4; p++) for (int c = 0; c < 3; c++) payload[p * 3 + c] = (byte)(10 * p + c);
        var set = NpyReader.ToImageSet(NpyReader.Parse(NpyBytes("|u1", "(1, 2, 2, 3)", payload), "x"), "x", new Provenance("x", []));
        Assert.Equal((1, 3, 2, 2), (set.Count, set.Channels, set.Height, set.Width));
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 4; p++)
                Assert.Equal((10 * p + c) / 255f, set.Pixels[c * 4 + p]);
    }

    [Fact]
    public void ReadsFloat64BigEndianFloat32AndVersion2()
    {
        var f8 = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(f8, 0.25);
        BinaryPrimitives.WriteDoubleLittleEndian(f8.AsSpan(8), -3);
        Assert.Equal([0.25f, -3f], NpyReader.Parse(NpyBytes("<f8", "(2,)", f8), "a").Values);
        var be = new byte[8];
        BinaryPrimitives.WriteSingleBigEndian(be, 1.5f);
        BinaryPrimitives.WriteSingleBigEndian(be.AsSpan(4), 7f);
        Assert.Equal([1.5f, 7f], NpyReader.Parse(NpyBytes(">f4", "(2,)", be), "b").Values);
        Assert.Equal([1.5f, 7f], NpyReader.Parse(NpyBytes(">f4", "(2,)", be, version: 2), "c").Values);
    }

    [Fact]
    public void ImageSetRoundTripKeepsNchw()
    {
        using var dir = new TempFolder();
        var set = DatasetLoader.Load("disks:size=12,n=3,seed=4");
        var path = dir.File("d.npy");
        NpyWriter.Write(path, set);
        var back = DatasetLoader.Load("npy:" + path);
        Assert.Equal((3, 1, 12, 12), (back.Count, back.Channels, back.Height, back.Width));
        Assert.Equal(set.Pixels, back.Pixels);
    }

    public static TheoryData<string, byte[], string> BadFiles() => new()
    {
        { "wrong magic", Encoding.ASCII.GetBytes("NUMPY not really a file"), "wrong magic" },
        { "int32 dtype", NpyBytes("<i4", "(1, 1, 1)", new byte[4]), "unsupported .npy dtype" },
        { "fortran", NpyBytes("<f4", "(1, 1, 1)", new byte[4], fortran: true), "Fortran" },
        { "truncated data", NpyBytes("<f4", "(2, 2, 2)", new byte[31]), "truncated .npy data" },
        { "trailing", NpyBytes("|u1", "(1, 2, 2)", new byte[5]), "trailing" },
        { "bad header", NpyBytes("<f4", "[1, 2]", new byte[8]), "malformed" },
        { "bad version", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 9, 0, 0, 0], "version" },
        { "header too long", [0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, 0xFF, 0xFF, 1, 2], "truncated .npy header" },
        { "ambiguous channels", NpyBytes("|u1", "(1, 5, 5, 5)", new byte[125]), "channel axis" },
        { "two dims", NpyBytes("|u1", "(5, 5)", new byte[25]), "(N,H,W)" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFilesGiveOneLineErrorsNamingTheFile(string what, byte[] bytes, string expected)
    {
        using var dir = new TempFolder();
        var path = dir.File(what.Replace(' ', '_') + ".npy");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => DatasetLoader.Load("npy:" + path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
