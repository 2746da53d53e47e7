using MemGen.Data;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Tests.Denoisers;

/// <summary>Small deterministic image sets for denoiser, sampler and analysis tests.</summary>
internal static class DenoiserTestData
{
    public static ImageSet Uniform(int count, int channels, int height, int width, long seed)
    {
        var pixels = new float[count * channels * height * width];
        new DeterministicRng(seed).FillUniform(pixels);
        return new ImageSet(pixels, count, channels, height, width, new Provenance($"uniform:{seed}", []));
    }

    public static Tensor Noisy(ImageSet clean, float sigma, long seed)
    {
        var t = new Tensor(clean.Count, clean.Channels, clean.Height, clean.Width);
        var rng = new DeterministicRng(seed);
        for (int i = 0; i < t.Length; i++) t.Data[i] = clean.Pixels[i] + sigma * (float)rng.NextNormal();
        return t;
    }
}
