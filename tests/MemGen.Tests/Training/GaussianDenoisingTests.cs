using MemGen.Data;
using MemGen.Images;
using MemGen.Native;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Training;
using Xunit.Abstractions;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Training;

public sealed class GaussianDenoisingTests(ITestOutputHelper output)
{
    private const double Mean = 0.5, Std = 0.1;

    /// <summary>Mean PSNR of f(y) = y − r(y) over <paramref name="images"/> at noise σ (fresh noise, eval mode), computed directly.</summary>
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
    public void ShortTrainingBeatsTheIdentityAndApproachesTheWienerPsnr()
    {
        // Isotropic Gaussian images N(0.5·1, 0.1² I), 12×12; a small BF-CNN, 800 steps of 32 images, σ = u².
        var train = TrainingTestData.Gaussian(2000, 12, Mean, Std, 11);
        var test = TrainingTestData.Gaussian(200, 12, Mean, Std, 12);
        using var convolutions = new CpuBackend();
        using var net = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=5,width=16"), 1, convolutions, 1);
        var options = new TrainingOptions { BatchSize = 32, ImagesPerEpoch = 32 * 200, Epochs = 4, LearningRate = 5e-3, LearningRateDecayEpochs = 2 }.Resolve();
        var trainer = new Trainer(net, train, options, seed: 5);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        for (long s = 0; s < options.TotalSteps; s++) Assert.True(trainer.Step(s).IsFinite);
        output.WriteLine($"{options.TotalSteps} steps in {clock.Elapsed.TotalSeconds:F1} s");

        // Largest allowed shortfall from the Wiener PSNR (measured after this budget: about 2.4, 0.7, 1.2, 2.0 dB;
        // zero padding at the borders and a blind, bias-free net cannot reach the optimum exactly).
        var allowedGap = new Dictionary<double, double> { [0.05] = 3.5, [0.1] = 2.0, [0.2] = 2.0, [0.4] = 2.5 };
        foreach (var (sigma, gap) in allowedGap)
        {
            // The Wiener denoiser μ + s²/(s²+σ²)(y − μ) of this data has per-pixel MSE s²σ²/(s²+σ²).
            double wiener = 10 * Math.Log10((Std * Std + sigma * sigma) / (Std * Std * sigma * sigma));
            double identity = -20 * Math.Log10(sigma);
            double network = NetworkPsnr(net, test, sigma, 7);
            output.WriteLine($"σ={sigma}: identity {identity:F2} dB, network {network:F2} dB, Wiener {wiener:F2} dB");
            Assert.True(network <= wiener + 0.2, $"σ={sigma}: the network ({network:F2} dB) cannot beat the optimal Wiener denoiser ({wiener:F2} dB)");
            Assert.True(network >= wiener - gap, $"σ={sigma}: network {network:F2} dB is more than {gap} dB below Wiener {wiener:F2} dB");
            if (sigma >= 0.1) Assert.True(network >= identity + 1.5, $"σ={sigma}: network {network:F2} dB does not beat the identity {identity:F2} dB");
        }
    }
}
