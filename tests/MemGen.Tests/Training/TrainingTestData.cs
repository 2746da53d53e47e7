using MemGen.Data;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Tests.Nn;
using MemGen.Training;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Training;

/// <summary>Small image sets and run settings shared by the training tests.</summary>
internal static class TrainingTestData
{
    /// <summary>N images of i.i.d. N(mean, std²) pixels (isotropic Gaussian data, docs/science.md §6).</summary>
    public static ImageSet Gaussian(int count, int size, double mean, double std, long seed)
    {
        var pixels = new float[count * size * size];
        new DeterministicRng(seed, 1).FillNormal(pixels, (float)mean, (float)std);
        return new ImageSet(pixels, count, 1, size, size, new Provenance($"gaussian:mean={mean},std={std}", [], seed));
    }

    /// <summary>Builds <see cref="TinyConvNet"/>s of width = spec width on <paramref name="convolutions"/>.</summary>
    public static NetworkBuilder Tiny(ComputeBackend convolutions) =>
        (spec, channels, seed) => new TinyConvNet(channels, spec.Width, convolutions, seed);

    /// <summary>The real networks (<see cref="NetworkFactory"/>) on <paramref name="convolutions"/>.</summary>
    public static NetworkBuilder Real(ComputeBackend convolutions) => TrainingRun.Networks(convolutions);

    /// <summary>A short run of bfcnn:layers=3,width=4 (with batch norm): batch 8, 12 steps per epoch, lr halved every epoch.</summary>
    public static TrainingConfig SmallConfig(int n, long budget, int checkpointEvery = 5, long seed = 42) => new(
        new NetworkSpec(NetworkArchitecture.BfCnn, 3, 4),
        new TrainingDataSource("test:gaussian", n),
        seed,
        new TrainingOptions
        {
            BatchSize = 8,
            ImagesPerEpoch = 96,
            LearningRateDecayEpochs = 1,
            Budget = budget,
            CheckpointEvery = checkpointEvery,
            EvalEvery = 6,
            LogEvery = 2,
            EvalImages = 4,
            EvalSigmas = [0.1, 0.3],
        });

    /// <summary>All parameter and buffer values as raw bits.</summary>
    public static int[][] Bits(DenoisingNetwork net) =>
        [.. net.Parameters.Select(p => p.Value.Data.Select(BitConverter.SingleToInt32Bits).ToArray()),
         .. net.Buffers.Select(b => b.Value.Data.Select(BitConverter.SingleToInt32Bits).ToArray())];
}
