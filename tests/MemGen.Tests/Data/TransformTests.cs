using MemGen.Data;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Tests.Data;

public class TransformTests
{
    private static ImageSet Random(int n, int c, int h, int w, long seed)
    {
        var pixels = new float[n * c * h * w];
        new DeterministicRng(seed).FillUniform(pixels);
        return new ImageSet(pixels, n, c, h, w, new Provenance("test", []));
    }

    [Fact]
    public void CenterCropTakesTheMiddleRoundingOffsetsDown()
    {
        var set = Random(2, 3, 7, 9, 1);
        var crop = ImageTransforms.Apply(set, new CenterCropTransform(4, 5));
        Assert.Equal((2, 3, 4, 5), (crop.Count, crop.Channels, crop.Height, crop.Width));
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < 4; y++)
                    for (int x = 0; x < 5; x++)
                        Assert.Equal(set.Pixels[((n * 3 + c) * 7 + y + 1) * 9 + x + 2], crop.Pixels[((n * 3 + c) * 4 + y) * 5 + x]);
    }

    [Fact]
    public void AreaResizeAveragesBlocksAndHandlesFractionalOverlaps()
    {
        var set = Random(1, 1, 8, 6, 2);
        var small = ImageTransforms.Apply(set, new ResizeTransform(4, 3));
        for (int y = 0; y < 4; y++)
            for (int x = 0; x < 3; x++)
            {
                double mean = 0;
                for (int dy = 0; dy < 2; dy++) for (int dx = 0; dx < 2; dx++) mean += set.Pixels[(2 * y + dy) * 6 + 2 * x + dx];
                Assert.Equal(mean / 4, small.Pixels[y * 3 + x], 5);
            }
        // 3 → 2: output 0 covers [0, 1.5): (p0 + 0.5·p1) / 1.5.
        var line = new ImageSet([0.3f, 0.9f, 0.6f], 1, 1, 1, 3, new Provenance("t", []));
        var half = ImageTransforms.Apply(line, new ResizeTransform(1, 2, ResizeMode.Area));
        Assert.Equal((0.3 + 0.5 * 0.9) / 1.5, half.Pixels[0], 5);
        Assert.Equal((0.5 * 0.9 + 0.6) / 1.5, half.Pixels[1], 5);
        // Mean is preserved by area averaging when the sizes divide.
        Assert.Equal(set.Pixels.Average(), small.Pixels.Average(), 5);
    }

    [Fact]
    public void BicubicUpsamplingReproducesLinearRampsAwayFromEdges()
    {
        var ramp = new float[10 * 10];
        for (int y = 0; y < 10; y++) for (int x = 0; x < 10; x++) ramp[y * 10 + x] = 0.05f * x + 0.02f * y + 0.1f;
        var set = new ImageSet(ramp, 1, 1, 10, 10, new Provenance("t", []));
        var big = ImageTransforms.Apply(set, new ResizeTransform(20, 20));
        for (int y = 4; y < 16; y++)
            for (int x = 4; x < 16; x++)
            {
                double sx = (x + 0.5) / 2 - 0.5, sy = (y + 0.5) / 2 - 0.5;
                Assert.Equal(0.05 * sx + 0.02 * sy + 0.1, big.Pixels[y * 20 + x], 4);
            }
        Assert.InRange(big.Pixels.Min(), ramp.Min(), ramp.Max());
        Assert.InRange(big.Pixels.Max(), ramp.Min(), ramp.Max());
    }

    [Fact]
    public void GrayIsTheMeanOfRgb()
    {
        var set = Random(2, 3, 3, 4, 3);
        var gray = ImageTransforms.Apply(set, new GrayscaleTransform());
        Assert.Equal(1, gray.Channels);
        for (int n = 0; n < 2; n++)
            for (int p = 0; p < 12; p++)
                Assert.Equal((set.Pixels[n * 36 + p] + set.Pixels[n * 36 + 12 + p] + set.Pixels[n * 36 + 24 + p]) / 3, gray.Pixels[n * 12 + p], 6);
    }

    [Fact]
    public void ShuffleAppliesOneFixedPermutationToEveryImageAndChannel()
    {
        var set = Random(3, 2, 5, 5, 4);
        var a = ImageTransforms.Apply(set, new PixelShuffleTransform(11));
        var b = ImageTransforms.Apply(set, new PixelShuffleTransform(11));
        var c = ImageTransforms.Apply(set, new PixelShuffleTransform(12));
        Assert.Equal(a.Pixels, b.Pixels);
        Assert.NotEqual(a.Pixels, c.Pixels);
        var perm = new PixelShuffleTransform(11).Permutation(25);
        Assert.Equal(Enumerable.Range(0, 25), perm.Order());
        Assert.NotEqual(Enumerable.Range(0, 25), perm);
        for (int n = 0; n < 3; n++)
            for (int ch = 0; ch < 2; ch++)
                for (int p = 0; p < 25; p++)
                    Assert.Equal(set.Pixels[(n * 2 + ch) * 25 + perm[p]], a.Pixels[(n * 2 + ch) * 25 + p]);
    }

    [Fact]
    public void UnshuffleInvertsTheShuffleInEveryChannel()
    {
        var set = Random(2, 3, 4, 5, 6);
        var shuffle = new PixelShuffleTransform(5);
        var shuffled = ImageTransforms.Apply(set, shuffle);
        var shape = new ImageShape(3, 4, 5);
        var back = new float[shape.Size];
        for (int n = 0; n < 2; n++)
        {
            shuffle.Unshuffle<float>(shuffled.Image(n), shape, back);
            Assert.Equal(set.Image(n).ToArray(), back);
        }
        // Vectors of the shuffled space in double (eigenvectors): pixel perm[p] gets shuffled pixel p.
        var perm = shuffle.Permutation(20);
        var e = Enumerable.Range(0, 60).Select(i => (double)i).ToArray();
        var unshuffled = new double[60];
        shuffle.Unshuffle<double>(e, shape, unshuffled);
        for (int c = 0; c < 3; c++)
            for (int p = 0; p < 20; p++) Assert.Equal(e[c * 20 + p], unshuffled[c * 20 + perm[p]]);
        Assert.Throws<ArgumentException>(() => shuffle.Unshuffle<float>(new float[59], shape, new float[60]));
    }

    [Fact]
    public void SpecTransformsChainLeftToRight()
    {
        var direct = DatasetLoader.Load("disks:size=20,n=6,seed=2");
        var chained = DatasetLoader.Load("disks:size=20,n=6,seed=2|crop=16|resize=8|take=4");
        var expected = ImageTransforms.Take(ImageTransforms.Apply(ImageTransforms.Apply(direct, new CenterCropTransform(16, 16)), new ResizeTransform(8, 8)), 4);
        Assert.Equal(expected.Pixels, chained.Pixels);
        Assert.Equal(["crop=16", "resize=8", "take=4"], chained.Provenance.Transforms);
    }
}
