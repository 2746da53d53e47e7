using MemGen.Data;
using MemGen.Native;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Tests.Nn;
using MemGen.Training;
using Xunit.Abstractions;

namespace MemGen.Tests.Training;

public sealed class GaussianDenoisingTests(ITestOutputHelper output)
{
    private const double Mean = 0.5, Std = 0.1;

    /// <summary>Mean PSNR of f(y) = y − r(y) over <paramref name="images"/> at noise σ (fresh noise, eval mode).</summary>
    private static double NetworkPsnr(DenoisingNetwork net, ImageSet images, double sigma, long seed)
    {
        int d = images.ImageSize;
        var noisy = new Tensor(images.Count, 1, images.Height, images.Width);
        new DeterministicRng(seed, 3).FillNormal(noisy.Span, 0f, (float)sigma);
        for (int k = 0; k < noisy.Length; k++) noisy.Data[k] += images.Pixels[k];
        var r = net.Forward(noisy, training: false);
        double psnr = 0;
        for (int i = 0; i < images.Count; i++)
        {
            double sum = 0;
            for (int k = i * d; k < (i + 1) * d; k++)
            {
                double e = images.Pixels[k] - (noisy.Data[k] - (double)r.Data[k]);
                sum += e * e;
            }
            psnr += 10 * Math.Log10(d / sum);
        }
        return psnr / images.Count;
    }

    [Fact]
    public void TimingProbe()
    {
        var train = TrainingTestData.Gaussian(2000, 16, Mean, Std, 11);
        using var convolutions = new OneDnnConvolutionFactory();
        using var net = new TinyConvNet(1, 16, convolutions, 1);
        var options = new TrainingOptions { BatchSize = 32, ImagesPerEpoch = 3200, Epochs = 1 }.Resolve();
        var trainer = new Trainer(net, train, options, seed: 5);
        trainer.Step(0);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (long s = 1; s < 30; s++) trainer.Step(s);
        output.WriteLine($"step {clock.Elapsed.TotalMilliseconds / 29:F2} ms");
        var x = new Tensor(32, 1, 16, 16);
        clock.Restart();
        for (int i = 0; i < 30; i++) { net.Forward(x, true); net.Backward(x); }
        output.WriteLine($"fwd+bwd {clock.Elapsed.TotalMilliseconds / 30:F2} ms");
        var sig = new float[32];
        clock.Restart();
        for (int i = 0; i < 30; i++) new TrainingNoise(1, 1, 2).Fill(i, sig, x);
        output.WriteLine($"noise {clock.Elapsed.TotalMilliseconds / 30:F2} ms");
    }

    [Fact]
    public void ShortTrainingBeatsTheIdentityAndApproachesTheWienerPsnr()
    {
        const int size = 16;
        var train = TrainingTestData.Gaussian(2000, size, Mean, Std, 11);
        var test = TrainingTestData.Gaussian(200, size, Mean, Std, 12);
        using var convolutions = new OneDnnConvolutionFactory();
        using var net = new TinyConvNet(1, 16, convolutions, 1);
        var options = new TrainingOptions { BatchSize = 32, ImagesPerEpoch = 32 * 100, Epochs = 10, LearningRate = 3e-3, LearningRateDecayEpochs = 4 }.Resolve();
        var trainer = new Trainer(net, train, options, seed: 5);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (long s = 0; s < options.TotalSteps; s++) Assert.True(trainer.Step(s).IsFinite);
        output.WriteLine($"{options.TotalSteps} steps in {clock.Elapsed.TotalSeconds:F1} s");
        foreach (var sigma in new[] { 0.05, 0.1, 0.2, 0.4 })
        {
            // Isotropic Gaussian data: the Wiener denoiser μ + s²/(s²+σ²)(y − μ) has per-pixel MSE s²σ²/(s²+σ²).
            double wiener = 10 * Math.Log10((Std * Std + sigma * sigma) / (Std * Std * sigma * sigma));
            double identity = -20 * Math.Log10(sigma);
            double network = NetworkPsnr(net, test, sigma, 7);
            output.WriteLine($"σ={sigma}: identity {identity:F2} dB, network {network:F2} dB, Wiener {wiener:F2} dB");
        }
    }
}
