using MemGen.Denoisers;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Denoisers;

public class NetworkDenoiserTests
{
    [Fact]
    public void DenoisesInChunksAsYMinusResidualInEvaluationMode()
    {
        using var net = NetworkFactory.Create(NetworkSpec.Parse("unet:blocks=1,width=4"), 1, new CpuBackend(new ReferenceConvolutionFactory()), seed: 5);
        var rng = new DeterministicRng(6);
        var train = new Tensor(4, 1, 6, 6);
        rng.FillNormal(train.Span);
        net.Forward(train, training: true); // running sd ≠ 1, so eval and train modes differ
        var noisy = new Tensor(5, 1, 6, 6);
        rng.FillNormal(noisy.Span);
        var expected = noisy.Clone();
        var r = net.Forward(noisy, training: false);
        System.Numerics.Tensors.TensorPrimitives.Subtract(noisy.Span, r.Span, expected.Span);

        var denoiser = new NetworkDenoiser(net, batchSize: 2);
        Assert.True(denoiser.IsBlind);
        Assert.Equal("unet:blocks=1,width=4", denoiser.Name);
        var denoised = noisy.ZerosLike();
        denoiser.Denoise(noisy, denoised, new float[5]);
        // Evaluation mode is per image, so chunking changes nothing but summation order inside a convolution (none here).
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected.Data[i], denoised.Data[i], 1e-6);
        Assert.Throws<ArgumentException>(() => denoiser.Denoise(noisy, new Tensor(5, 1, 6, 7), new float[5]));

        // A chunk of 5 runs padded to 8 zero-filled images; the 5 results are unchanged.
        var padded = new NetworkDenoiser(net, batchSize: 64);
        Assert.Equal(8, padded.PaddedCount(5));
        Assert.Equal(1, padded.PaddedCount(1));
        Assert.Equal(64, padded.PaddedCount(33));
        Assert.Equal(64, padded.PaddedCount(64));
        var viaPadding = noisy.ZerosLike();
        padded.Denoise(noisy, viaPadding, new float[5]);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected.Data[i], viaPadding.Data[i], 1e-6);
    }
}
