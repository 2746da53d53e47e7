using MemGen.Analysis;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Tests.Denoisers;

public class EmpiricalOptimalDenoiserTests
{
    /// <summary>Direct softmax over all training images in double precision.</summary>
    private static double[] Naive(MemGen.Images.ImageSet train, ReadOnlySpan<float> y, double sigma)
    {
        int d = train.ImageSize;
        var logits = new double[train.Count];
        for (int i = 0; i < train.Count; i++)
        {
            double dist = 0;
            var x = train.Image(i);
            for (int j = 0; j < d; j++) dist += (y[j] - (double)x[j]) * (y[j] - (double)x[j]);
            logits[i] = -dist / (2 * sigma * sigma);
        }
        double max = logits.Max();
        double total = 0;
        var result = new double[d];
        for (int i = 0; i < train.Count; i++)
        {
            double w = Math.Exp(logits[i] - max);
            total += w;
            var x = train.Image(i);
            for (int j = 0; j < d; j++) result[j] += w * x[j];
        }
        for (int j = 0; j < d; j++) result[j] /= total;
        return result;
    }

    [Theory]
    [InlineData(0.3f, 3, 2)]
    [InlineData(1.0f, 4, 3)]
    [InlineData(0.15f, 64, 256)]
    [InlineData(0.05f, 2, 3)] // most blocks carry negligible weight and skip the second product
    public void MatchesNaiveSoftmaxForAnyBlocking(float sigma, int blockRows, int batchRows)
    {
        var train = DenoiserTestData.Uniform(10, 1, 4, 4, seed: 1);
        var queries = DenoiserTestData.Uniform(5, 1, 4, 4, seed: 2);
        var noisy = DenoiserTestData.Noisy(queries, sigma, seed: 3);
        var sigmas = new float[5];
        for (int i = 0; i < 5; i++) sigmas[i] = sigma * (1 + 0.2f * i); // per-image σ
        var denoiser = new EmpiricalOptimalDenoiser(train, blockRows, batchRows);
        var output = noisy.ZerosLike();
        denoiser.Denoise(noisy, output, sigmas);
        for (int i = 0; i < 5; i++)
        {
            var expected = Naive(train, noisy.Item(i), sigmas[i]);
            for (int j = 0; j < expected.Length; j++) Assert.Equal(expected[j], output.Item(i)[j], 4);
        }
    }

    [Fact]
    public void SmallSigmaReturnsNearestTrainingImage()
    {
        var train = DenoiserTestData.Uniform(50, 1, 8, 8, seed: 4);
        var noisy = DenoiserTestData.Noisy(train, 0.02f, seed: 5);
        // Shift the queries: pick images 7, 3, 41 with small noise, so the nearest is known.
        var picked = new[] { 7, 3, 41 };
        var y = new Tensor(3, 1, 8, 8);
        for (int k = 0; k < 3; k++) noisy.Item(picked[k]).CopyTo(y.Item(k));
        var output = y.ZerosLike();
        new EmpiricalOptimalDenoiser(train, blockRows: 16).Denoise(y, output, [0.02f, 0.02f, 0.02f]);
        for (int k = 0; k < 3; k++)
        {
            double maxDiff = 0;
            for (int j = 0; j < 64; j++) maxDiff = Math.Max(maxDiff, Math.Abs(output.Item(k)[j] - train.Image(picked[k])[j]));
            Assert.True(maxDiff < 1e-4, $"query {k}: max difference {maxDiff} to its training image");
        }
    }

    [Fact]
    public void LargeSigmaReturnsTrainingMean()
    {
        var train = DenoiserTestData.Uniform(20, 1, 4, 4, seed: 6);
        var y = DenoiserTestData.Noisy(DenoiserTestData.Uniform(2, 1, 4, 4, seed: 7), 0.1f, seed: 8);
        var output = y.ZerosLike();
        new EmpiricalOptimalDenoiser(train).Denoise(y, output, [1000f, 1000f]);
        var mean = ImageStatistics.MeanImage(train);
        for (int j = 0; j < 16; j++) Assert.Equal(mean[j], output.Item(1)[j], 3);
    }

    [Fact]
    public void RejectsNonPositiveSigma()
    {
        var train = DenoiserTestData.Uniform(3, 1, 2, 2, seed: 1);
        var y = new Tensor(1, 1, 2, 2);
        Assert.Throws<ArgumentException>(() => new EmpiricalOptimalDenoiser(train).Denoise(y, y.ZerosLike(), [0f]));
    }
}
