using System.Text.Json;
using MemGen.Analysis;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Tests.Denoisers;

namespace MemGen.Tests.Analysis;

public class DenoisingCurveTests
{
    [Fact]
    public void StandardSigmasSpanZeroToFortyTwoDecibels()
    {
        var s = DenoisingCurveOptions.StandardSigmas;
        Assert.Equal(15, s.Count);
        Assert.Equal(Math.Pow(10, 0.3) / 255, s[0], 12);
        Assert.Equal(Math.Pow(10, 2.4) / 255, s[14], 12);
        Assert.Equal(Math.Pow(10, 0.3 + 2.1 * 7 / 14) / 255, s[7], 12);
        Assert.InRange(ImageStatistics.InputPsnr(s[0]), 42.0, 42.2);
        Assert.InRange(ImageStatistics.InputPsnr(s[14]), 0.0, 0.2);
    }

    [Fact]
    public void IdentityMatchesPsnrComputedByHandWithTheSameNoise()
    {
        var images = DenoiserTestData.Uniform(5, 1, 4, 4, seed: 51);
        var options = new DenoisingCurveOptions { Sigmas = [0.1, 0.3], Seed = 9, BatchSize = 2 };
        var curve = DenoisingCurve.Measure(new IdentityDenoiser(), images, null, options);
        for (int k = 0; k < 2; k++)
        {
            double sum = 0;
            for (int i = 0; i < 5; i++)
            {
                var z = new float[16];
                MemGen.Denoisers.DenoisingPsnr.Noise(9, k, i).FillNormal(z);
                double mse = z.Sum(v => Math.Pow((float)options.Sigmas[k] * v, 2)) / 16;
                sum += 10 * Math.Log10(1 / mse);
            }
            Assert.Equal(sum / 5, curve.TrainPsnr[k], 4);
        }
        Assert.True(double.IsNaN(curve.TestPsnr[0]));
        Assert.True(double.IsNaN(curve.PsnrGap));
    }

    [Fact]
    public void IdentityOutputPsnrIsInputPsnrOnAverage()
    {
        var images = DenoiserTestData.Uniform(300, 1, 8, 8, seed: 52);
        var curve = DenoisingCurve.Measure(new IdentityDenoiser(), images, images);
        for (int k = 0; k < 15; k++) Assert.InRange(curve.TrainPsnr[k] - curve.InputPsnr[k], -0.1, 0.3);
        Assert.Equal(0.0, curve.PsnrGap, 12); // same images, same noise
        Assert.Equal(300, curve.TrainImages);
    }

    [Fact]
    public void EmpiricalOptimalDenoiserMemorizesTrainingImages()
    {
        var train = DenoiserTestData.Uniform(20, 1, 8, 8, seed: 53);
        var test = DenoiserTestData.Uniform(20, 1, 8, 8, seed: 54);
        var curve = DenoisingCurve.Measure(new EmpiricalOptimalDenoiser(train), train, test);
        // Small σ: training images come back exactly (huge PSNR), test images are replaced by a training image.
        Assert.True(curve.TrainPsnr[0] > 60, $"train PSNR {curve.TrainPsnr[0]}");
        Assert.True(curve.TestPsnr[0] < 15, $"test PSNR {curve.TestPsnr[0]}");
        Assert.True(curve.PsnrGap > 10, $"gap {curve.PsnrGap}");
    }

    [Fact]
    public void WritesCsvAndJson()
    {
        var images = DenoiserTestData.Uniform(4, 1, 4, 4, seed: 55);
        var curve = DenoisingCurve.Measure(GaussianDenoiser.FromImages(images), images, images, new DenoisingCurveOptions { MaxImages = 3 });
        var folder = Path.Combine(Path.GetTempPath(), $"memgen-curve-{Guid.NewGuid():N}");
        try
        {
            curve.WriteCsv(Path.Combine(folder, "curve.csv"));
            curve.WriteJson(Path.Combine(folder, "curve.json"));
            var lines = File.ReadAllLines(Path.Combine(folder, "curve.csv"));
            Assert.Equal(16, lines.Length);
            Assert.Equal("sigma,sigma_255,input_psnr,train_psnr,train_psnr_se,test_psnr,test_psnr_se,gap", lines[0]);
            using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder, "curve.json")));
            Assert.Equal("wiener", json.RootElement.GetProperty("denoiser").GetString());
            Assert.Equal(3, json.RootElement.GetProperty("train_images").GetInt32());
            Assert.Equal(curve.TrainPsnr[3], json.RootElement.GetProperty("train_psnr")[3].GetDouble(), 12);
            Assert.Equal(15, json.RootElement.GetProperty("sigma").GetArrayLength());
        }
        finally { Directory.Delete(folder, true); }
    }

    [Fact]
    public void RejectsBadOptions()
    {
        var images = DenoiserTestData.Uniform(2, 1, 2, 2, seed: 56);
        Assert.Throws<ArgumentException>(() => DenoisingCurve.Measure(new IdentityDenoiser(), images, null, new DenoisingCurveOptions { Sigmas = [0.1, -1] }));
        Assert.Throws<ArgumentException>(() => DenoisingCurve.Measure(new IdentityDenoiser(), images, DenoiserTestData.Uniform(2, 1, 3, 3, seed: 1)));
    }
}

public class DenoisingCurveCapTests
{
    [Fact]
    public void ExactRecoveryIsCappedAtMaxPsnr()
    {
        var images = DenoiserTestData.Uniform(3, 1, 4, 4, seed: 57);
        var curve = DenoisingCurve.Measure(new CleanOracle(images), images, null, new DenoisingCurveOptions { Sigmas = [0.1] });
        Assert.Equal(DenoisingCurve.MaxPsnr, curve.TrainPsnr[0], 6);
    }
}

/// <summary>Returns the clean images exactly (in order), whatever the input.</summary>
internal sealed class CleanOracle(MemGen.Images.ImageSet clean) : IDenoiser
{
    public string Name => "clean-oracle";
    public bool IsBlind => true;

    public void Denoise(MemGen.Tensors.Tensor noisy, MemGen.Tensors.Tensor denoised, ReadOnlySpan<float> sigmas) =>
        clean.Pixels.AsSpan(0, denoised.Length).CopyTo(denoised.Span);
}

public class ManifoldOracleTests
{
    [Fact]
    public void RayOracleCurveMatchesClosedFormUpToTheChiSquareBias()
    {
        // Per-image PSNR of the ray oracle is PSNR_in + 10·log10(d) − 10·log10(χ²₁); E[−10·log10 χ²₁] = 10·(γ + ln 2)/ln 10
        // ≈ 5.51 dB (γ = Euler's constant), so the averaged curve sits that far above the closed-form line.
        var x0 = DenoiserTestData.Uniform(1, 1, 8, 8, seed: 60);
        var images = new MemGen.Images.ImageSet(Enumerable.Range(0, 300).SelectMany(i => x0.Pixels.Select(v => v * (0.5f + i / 600f))).ToArray(),
            300, 1, 8, 8, new MemGen.Images.Provenance("ray", []));
        var curve = DenoisingCurve.Measure(new RayDenoiser(x0.Pixels), images, null, new DenoisingCurveOptions { Sigmas = [0.01, 0.02] });
        double bias = 10 * (0.5772156649 + Math.Log(2)) / Math.Log(10);
        for (int k = 0; k < 2; k++)
        {
            double line = ManifoldOracle.Psnr(curve.InputPsnr[k], 64, 1);
            Assert.InRange(curve.TrainPsnr[k] - line - bias, -2.0, 2.0); // sd of one image ≈ 9.6 dB, 300 images: se ≈ 0.6 dB
        }
        Assert.Equal(20 + 10 * Math.Log10(784 / 5.0), ManifoldOracle.Psnr(20, 784, ManifoldOracle.DiskDimension), 12);
        Assert.Equal(0.75, ManifoldOracle.CAlphaOptimalSlope(3), 12);
    }
}
