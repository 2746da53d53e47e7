using MemGen.Data;
using MemGen.Images;
using MemGen.Native;
using MemGen.Tensors;

namespace MemGen.Tests.Data;

public class ImageFolderTests
{
    /// <summary>A smooth test image (JPEG-friendly), interleaved 8-bit samples.</summary>
    internal static byte[] SmoothSamples(int channels, int h, int w, int phase)
    {
        var s = new byte[channels * h * w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                for (int c = 0; c < channels; c++)
                    s[(y * w + x) * channels + c] = (byte)(128 + 100 * Math.Sin(0.2 * x + 0.15 * y + phase + c));
        return s;
    }

    private static void WritePng(string path, float value, int channels, int h, int w)
    {
        var pixels = new float[channels * h * w];
        pixels.AsSpan().Fill(value);
        PngWriter.WriteImage(path, pixels, channels, h, w);
    }

    [Fact]
    public void PngFolderIsReadInOrdinalFileNameOrder()
    {
        using var dir = new TempFolder();
        string[] names = ["b.png", "a.png", "10.png", "2.png", "B.PNG"];
        for (int i = 0; i < names.Length; i++) WritePng(dir.File(names[i]), i / 10f, 1, 3, 4);
        File.WriteAllText(dir.File("notes.txt"), "ignored");
        var set = DatasetLoader.Load("png:" + dir.Path);
        Assert.Equal(5, set.Count);
        // Ordinal order: "10.png" < "2.png" < "B.PNG" < "a.png" < "b.png".
        float[] expected = [0.2f, 0.3f, 0.4f, 0.1f, 0f];
        for (int i = 0; i < 5; i++) Assert.Equal(MathF.Round(expected[i] * 255) / 255f, set.Image(i)[0], 6);
    }

    [Fact]
    public void MixedSizesAndChannelsAreErrorsUnlessTransformsUnifyThem()
    {
        using var dir = new TempFolder();
        WritePng(dir.File("a.png"), 0.5f, 1, 8, 8);
        WritePng(dir.File("b.png"), 0.5f, 3, 8, 8);
        var e = Assert.Throws<DataFormatException>(() => DatasetLoader.Load("png:" + dir.Path));
        Assert.Contains("b.png", e.Message);
        Assert.Contains("mixed sizes", e.Message);
        Assert.Equal(1, DatasetLoader.Load("png:" + dir.Path + "|gray").Channels);
        WritePng(dir.File("c.png"), 0.5f, 1, 10, 12);
        Assert.Contains("c.png", Assert.Throws<DataFormatException>(() => DatasetLoader.Load("png:" + dir.Path + "|gray")).Message);
        var unified = DatasetLoader.Load("png:" + dir.Path + "|gray|resize=4");
        Assert.Equal((3, 1, 4, 4), (unified.Count, unified.Channels, unified.Height, unified.Width));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void JpegRoundTripThroughTurboJpegIsClose(int channels)
    {
        int h = 24, w = 20;
        var samples = SmoothSamples(channels, h, w, 1);
        var img = ImageFolderReader.DecodeJpeg(TurboJpeg.Encode(samples, channels, h, w, quality: 100), "x.jpg");
        Assert.Equal(new ImageShape(channels, h, w), img.Shape);
        double maxError = 0;
        for (int p = 0; p < h * w; p++)
            for (int c = 0; c < channels; c++)
                maxError = Math.Max(maxError, Math.Abs(samples[p * channels + c] / 255.0 - img.Pixels[c * h * w + p]));
        Assert.InRange(maxError, 0, 0.03);
    }

    [Fact]
    public void JpegFolderAppliesPerImageTransformsAndTakeWhileReading()
    {
        using var dir = new TempFolder();
        for (int i = 0; i < 4; i++)
            File.WriteAllBytes(dir.File($"img{i:D3}.jpg"), TurboJpeg.Encode(SmoothSamples(3, 40, 30, i), 3, 40, 30));
        // A corrupt file after the take limit is never opened.
        File.WriteAllBytes(dir.File("zzz.jpeg"), [0xFF, 0xD8, 0xFF, 0x00, 0x01]);
        var set = DatasetLoader.Load("jpeg:" + dir.Path + "|crop=24|resize=12|gray|take=4");
        Assert.Equal((4, 1, 12, 12), (set.Count, set.Channels, set.Height, set.Width));
        Assert.Equal(["crop=24", "resize=12", "gray", "take=4"], set.Provenance.Transforms);
        var full = DatasetLoader.Load("jpeg:" + dir.Path + "|take=4");
        var expected = ImageTransforms.Apply(ImageTransforms.Apply(ImageTransforms.Apply(full, new CenterCropTransform(24, 24)), new ResizeTransform(12, 12)), new GrayscaleTransform());
        Assert.Equal(expected.Pixels, set.Pixels);
        var e = Assert.Throws<DataFormatException>(() => DatasetLoader.Load("jpeg:" + dir.Path));
        Assert.Contains("zzz.jpeg", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TruncatedJpegIsAnError()
    {
        var jpeg = TurboJpeg.Encode(SmoothSamples(3, 32, 32, 0), 3, 32, 32);
        var e = Assert.Throws<DataFormatException>(() => ImageFolderReader.DecodeJpeg(jpeg.AsSpan(0, jpeg.Length * 2 / 3), "t.jpg"));
        Assert.Contains("t.jpg", e.Message);
        Assert.Throws<DataFormatException>(() => ImageFolderReader.DecodeJpeg(new DeterministicRng(1).Permutation(200).Select(i => (byte)i).ToArray(), "g.jpg"));
    }
}
