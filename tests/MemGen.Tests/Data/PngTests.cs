using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using MemGen.Data;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Tests.Data;

public class PngTests
{
    /// <summary>
    /// An independent little PNG encoder for the tests: samples[y][x·spp + s] at the given bit depth, each row
    /// filtered with filter (y mod 5) so every filter type is exercised, optional Adam7 interlacing.
    /// </summary>
    internal static byte[] BuildPng(int width, int height, int colorType, int depth, int[][] samples, bool interlace = false, byte[]? palette = null)
    {
        int spp = colorType switch { 0 => 1, 2 => 3, 3 => 1, 4 => 2, _ => 4 };
        var raw = new MemoryStream();
        var passes = interlace
            ? new[] { (0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2) }
            : new[] { (0, 0, 1, 1) };
        int bpp = Math.Max(1, spp * depth / 8);
        foreach (var (x0, y0, dx, dy) in passes)
        {
            int pw = (width - x0 + dx - 1) / dx, ph = (height - y0 + dy - 1) / dy;
            if (pw <= 0 || ph <= 0) continue;
            int stride = (pw * spp * depth + 7) / 8;
            var prev = new byte[stride];
            for (int py = 0; py < ph; py++)
            {
                var row = new byte[stride];
                int bit = 0;
                for (int px = 0; px < pw; px++)
                    for (int s = 0; s < spp; s++)
                    {
                        int v = samples[y0 + py * dy][(x0 + px * dx) * spp + s];
                        if (depth == 16) { row[bit / 8] = (byte)(v >> 8); row[bit / 8 + 1] = (byte)v; }
                        else if (depth == 8) row[bit / 8] = (byte)v;
                        else row[bit / 8] |= (byte)(v << (8 - depth - bit % 8));
                        bit += depth;
                    }
                byte filter = (byte)(py % 5);
                raw.WriteByte(filter);
                for (int i = 0; i < stride; i++)
                {
                    int a = i >= bpp ? row[i - bpp] : 0, b = prev[i], c = i >= bpp ? prev[i - bpp] : 0;
                    int p = a + b - c, pa = Math.Abs(p - a), pb = Math.Abs(p - b), pc = Math.Abs(p - c);
                    int predictor = filter switch { 0 => 0, 1 => a, 2 => b, 3 => (a + b) / 2, _ => pa <= pb && pa <= pc ? a : pb <= pc ? b : c };
                    raw.WriteByte((byte)(row[i] - predictor));
                }
                prev = row;
            }
        }
        var file = new MemoryStream();
        file.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = (byte)depth;
        ihdr[9] = (byte)colorType;
        ihdr[12] = (byte)(interlace ? 1 : 0);
        Chunk(file, "IHDR", ihdr);
        Chunk(file, "tEXt", Encoding.ASCII.GetBytes("Comment\0test"));
        if (palette is not null) Chunk(file, "PLTE", palette);
        var z = new MemoryStream();
        using (var zs = new ZLibStream(z, CompressionLevel.Fastest, leaveOpen: true)) zs.Write(raw.ToArray());
        var compressed = z.ToArray();
        // Two IDAT chunks, to check they are concatenated.
        Chunk(file, "IDAT", compressed[..(compressed.Length / 2)]);
        Chunk(file, "IDAT", compressed[(compressed.Length / 2)..]);
        Chunk(file, "IEND", []);
        return file.ToArray();
    }

    private static void Chunk(Stream s, string type, byte[] data)
    {
        var t = Encoding.ASCII.GetBytes(type);
        var w = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(w, data.Length);
        s.Write(w);
        s.Write(t);
        s.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(w, Crc(t.Concat(data).ToArray()));
        s.Write(w);
    }

    internal static uint Crc(byte[] bytes)
    {
        // Bitwise CRC-32, independent of the table-driven one in the library.
        uint crc = 0xFFFFFFFF;
        foreach (byte b in bytes)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
        }
        return ~crc;
    }

    internal static int[][] RandomSamples(int width, int height, int spp, int max, long seed)
    {
        var rng = new DeterministicRng(seed);
        return Enumerable.Range(0, height).Select(_ => Enumerable.Range(0, width * spp).Select(_ => rng.NextInt(max + 1)).ToArray()).ToArray();
    }

    [Theory]
    [InlineData(0, 1, false)]
    [InlineData(0, 2, false)]
    [InlineData(0, 4, true)]
    [InlineData(0, 8, false)]
    [InlineData(0, 8, true)]
    [InlineData(0, 16, false)]
    [InlineData(2, 8, false)]
    [InlineData(2, 8, true)]
    [InlineData(2, 16, true)]
    [InlineData(4, 8, false)]
    [InlineData(4, 16, false)]
    [InlineData(6, 8, false)]
    [InlineData(6, 16, true)]
    public void DecodesGrayRgbAndAlphaAtEveryDepth(int colorType, int depth, bool interlace)
    {
        int w = 13, h = 11, spp = colorType switch { 0 => 1, 2 => 3, 4 => 2, _ => 4 };
        int max = (1 << depth) - 1;
        var samples = RandomSamples(w, h, spp, max, colorType * 100 + depth);
        var img = PngDecoder.Decode(BuildPng(w, h, colorType, depth, samples, interlace), "t.png");
        int channels = colorType is 0 or 4 ? 1 : 3;
        Assert.Equal(new ImageShape(channels, h, w), img.Shape);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < channels; c++)
                    Assert.Equal(samples[y][x * spp + c] / (float)max, img.Pixels[c * h * w + y * w + x], 6);
    }

    [Theory]
    [InlineData(1, false)]
    [InlineData(2, true)]
    [InlineData(4, false)]
    [InlineData(8, true)]
    public void DecodesPaletteImages(int depth, bool interlace)
    {
        int w = 9, h = 7, entries = 1 << depth;
        var palette = Enumerable.Range(0, 3 * entries).Select(i => (byte)(i * 37 % 256)).ToArray();
        var samples = RandomSamples(w, h, 1, entries - 1, depth);
        var img = PngDecoder.Decode(BuildPng(w, h, 3, depth, samples, interlace, palette), "p.png");
        Assert.Equal(new ImageShape(3, h, w), img.Shape);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < 3; c++)
                    Assert.Equal(palette[3 * samples[y][x] + c] / 255f, img.Pixels[c * h * w + y * w + x]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(4)]
    public void WriterRoundTripsThroughDecoderAt8Bits(int channels)
    {
        int h = 5, w = 6;
        var pixels = new float[channels * h * w];
        new DeterministicRng(channels).FillUniform(pixels);
        using var dir = new TempFolder();
        var path = dir.File("img.png");
        PngWriter.WriteImage(path, pixels, channels, h, w);
        var img = PngDecoder.Read(path);
        Assert.Equal(new ImageShape(channels == 4 ? 3 : channels, h, w), img.Shape);
        for (int i = 0; i < img.Pixels.Length; i++) Assert.Equal(MathF.Round(pixels[i] * 255) / 255f, img.Pixels[i], 6);
    }

    [Fact]
    public void WriterMapsValueRangeAndClamps()
    {
        var bytes = PngWriter.Encode(new float[] { -1f, 0f, 1f, 5f }, 1, 1, 4, lo: -1f, hi: 1f);
        var img = PngDecoder.Decode(bytes, "r");
        Assert.Equal([0f, 128 / 255f, 1f, 1f], img.Pixels);
    }

    [Fact]
    public void GridPlacesTilesWithPaddingAndDrawsLabels()
    {
        var set = DatasetLoader.Load("gaussian:size=4,mean=0.5,std=0.1,n=5,seed=1");
        var images = Enumerable.Range(0, 5).Select(i => (ReadOnlyMemory<float>)set.Pixels.AsMemory(i * 16, 16)).ToArray();
        var plain = ImageGrid.Compose(images, new ImageShape(1, 4, 4), columns: 2, padding: 1, zoom: 2);
        Assert.Equal(1 + 3 * (8 + 1), plain.Height);
        Assert.Equal(1 + 2 * (8 + 1), plain.Width);
        // Image 3 sits in row 1, column 1; zoom 2 repeats each pixel.
        int top = 1 + 9, left = 1 + 9;
        for (int y = 0; y < 8; y++)
            for (int x = 0; x < 8; x++)
                Assert.Equal(Math.Clamp(set.Pixels[3 * 16 + y / 2 * 4 + x / 2], 0, 1), plain.Pixels[(top + y) * plain.Width + left + x]);
        Assert.Equal(1f, plain.Pixels[0]);
        var labelled = ImageGrid.Compose(images, new ImageShape(1, 4, 4), 2, rowLabels: ["N=10", "S2", "X"], padding: 1, zoom: 2, columnLabels: ["A", "B"]);
        Assert.True(labelled.Width > plain.Width && labelled.Height > plain.Height);
        int labelWidth = labelled.Width - plain.Width, labelHeight = labelled.Height - plain.Height;
        bool Dark(int y0, int y1, int x0, int x1)
        {
            for (int y = y0; y < y1; y++) for (int x = x0; x < x1; x++) if (labelled.Pixels[y * labelled.Width + x] == 0f) return true;
            return false;
        }
        Assert.True(Dark(labelHeight, labelled.Height, 0, labelWidth), "row labels are drawn in the left strip");
        Assert.True(Dark(0, labelHeight, labelWidth, labelled.Width), "column labels are drawn in the top strip");
        using var dir = new TempFolder();
        var path = dir.File("grid.png");
        PngWriter.WriteGrid(path, set, columns: 3, rowLabels: ["a", "b"]);
        Assert.Equal(1, PngDecoder.Read(path).Shape.Channels);
    }

    public static TheoryData<string, byte[], string> BadFiles()
    {
        var good = BuildPng(4, 3, 0, 8, RandomSamples(4, 3, 1, 255, 1));
        var badCrc = (byte[])good.Clone();
        badCrc[20] ^= 1;
        var sixteenPalette = (byte[])good.Clone();
        return new TheoryData<string, byte[], string>
        {
            { "signature", Encoding.ASCII.GetBytes("GIF89a......"), "not a PNG" },
            { "truncated", good[..(good.Length - 20)], "truncated PNG" },
            { "crc", badCrc, "CRC mismatch" },
            { "depth", BuildPng(2, 2, 2, 4, RandomSamples(2, 2, 3, 15, 2)), "bit depth 4" },
            { "no palette", BuildPng(2, 2, 3, 8, RandomSamples(2, 2, 1, 3, 3)), "PLTE" },
            { "palette index", BuildPng(2, 2, 3, 8, [[0, 9], [1, 1]], palette: new byte[6]), "palette index 9" },
        };
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void BadFilesGiveOneLineErrorsNamingTheFile(string what, byte[] bytes, string expected)
    {
        using var dir = new TempFolder();
        var path = dir.File(what + ".png");
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<DataFormatException>(() => PngDecoder.Read(path));
        Assert.Contains(path, e.Message);
        Assert.Contains(expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }
}
