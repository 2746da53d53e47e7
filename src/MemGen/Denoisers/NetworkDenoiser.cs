using MemGen.Compute;
using MemGen.Machine;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Denoisers;

/// <summary>
/// A trained <see cref="DenoisingNetwork"/> as an <see cref="IDenoiser"/>: evaluation mode (running statistics),
/// f(y) = y − r(y); blind networks ignore σ, noise-conditioned ones (<see cref="DenoisingNetwork.IsConditioned"/>) get each
/// image's σ (padding images get σ = 1). Large batches run in chunks of <see cref="BatchSize"/> images so
/// the network's activation buffers stay bounded. A last, partial chunk is padded with zero images up to
/// the next power of two (at most <see cref="BatchSize"/>), so callers whose batch shrinks step by step
/// (samplers) meet only a few batch shapes and the network reuses its buffers; images are independent
/// in evaluation mode, so padding changes nothing. Images may be in host memory (copied to the network's backend and
/// back per chunk) or in the backend's own memory (a sampler running on the device: nothing leaves it).
/// </summary>
public sealed class NetworkDenoiser : IDenoiser
{
    private readonly Dictionary<(int N, int C, int H, int W), (Tensor Input, Tensor Output)> _chunks = [];

    /// <summary>Wraps <paramref name="network"/> (not owned).</summary>
    public NetworkDenoiser(DenoisingNetwork network, int batchSize = 64, string? name = null)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        Network = network;
        BatchSize = batchSize;
        Name = name ?? network.Spec.ToString();
    }

    /// <summary>The network.</summary>
    public DenoisingNetwork Network { get; }

    /// <summary>Images per network call.</summary>
    public int BatchSize { get; }

    /// <inheritdoc />
    public string Name { get; }

    /// <inheritdoc />
    public bool IsBlind => !Network.IsConditioned;

    /// <inheritdoc />
    public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        ArgumentNullException.ThrowIfNull(denoised);
        noisy.RequireSameShape(denoised, $"{Name}: denoised");
        if (noisy.Rank != 4 || noisy.C != Network.Channels)
            throw new ArgumentException($"{Name}: images must be [N,{Network.Channels},H,W], got [{noisy.ShapeString}].");
        bool conditioned = Network.IsConditioned;
        if (conditioned && sigmas.Length != noisy.N)
            throw new ArgumentException($"{Name}: a noise-conditioned network needs one σ per image, got {sigmas.Length} for {noisy.N}.");
        var backend = Network.Backend;
        bool resident = backend.Holds(noisy) && backend.Holds(denoised);
        if (resident && noisy.N <= BatchSize && PaddedCount(noisy.N) == noisy.N)
        {
            // Already a batch shape the network keeps buffers for: no chunk copies at all.
            backend.Subtract(noisy, Network.Forward(noisy, conditioned ? sigmas : [], training: false), denoised);
            return;
        }
        int item = noisy.ItemLength;
        for (int start = 0; start < noisy.N; start += BatchSize)
        {
            int count = Math.Min(BatchSize, noisy.N - start), length = count * item;
            var (input, output) = Chunk(PaddedCount(count), noisy.C, noisy.H, noisy.W);
            if (resident) backend.Copy(noisy, start * item, input, 0, length);
            else input.CopyFrom(noisy.Data.AsSpan(start * item, length), 0);
            if (length < input.Length) backend.Clear(input, length, input.Length - length);
            float[] chunkSigmas = [];
            if (conditioned)
            {
                chunkSigmas = new float[input.N];
                Array.Fill(chunkSigmas, 1f);
                sigmas.Slice(start, count).CopyTo(chunkSigmas);
            }
            backend.Subtract(input, Network.Forward(input, chunkSigmas, training: false), output);
            if (resident) backend.Copy(output, 0, denoised, start * item, length);
            else output.CopyTo(0, denoised.Data.AsSpan(start * item, length));
        }
    }

    /// <inheritdoc />
    public ComputeBackend Backend => Network.Backend;

    /// <summary>The batch a chunk of <paramref name="count"/> images runs at: the next power of two, capped at <see cref="BatchSize"/>.</summary>
    public int PaddedCount(int count) => Math.Min(BatchSize, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)count));

    private (Tensor Input, Tensor Output) Chunk(int n, int c, int h, int w)
    {
        if (!_chunks.TryGetValue((n, c, h, w), out var t))
        {
            MemoryBudget.Require(MemoryBudget.Sum(Network.Spec.ActivationBytes(n, h, w, training: false), MemoryBudget.Product(2, n, c, h, w, sizeof(float))),
                $"{Name} on {n} images of {c}×{h}×{w} at a time");
            var input = Network.Backend.Zeros(n, c, h, w);
            t = (input, input.ZerosLike());
            _chunks.Add((n, c, h, w), t);
        }
        return t;
    }
}
