using MemGen.Machine;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Denoisers;

/// <summary>
/// A trained <see cref="DenoisingNetwork"/> as an <see cref="IDenoiser"/>: evaluation mode (running sd),
/// f(y) = y − r(y), blind (σ ignored). Large batches run in chunks of <see cref="BatchSize"/> images so
/// the network's activation buffers stay bounded. A last, partial chunk is padded with zero images up to
/// the next power of two (at most <see cref="BatchSize"/>), so callers whose batch shrinks step by step
/// (samplers) meet only a few batch shapes and the network reuses its buffers; images are independent
/// in evaluation mode, so padding changes nothing.
/// </summary>
public sealed class NetworkDenoiser : IDenoiser
{
    private readonly Dictionary<(int N, int C, int H, int W), Tensor> _chunks = [];

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
    public bool IsBlind => true;

    /// <inheritdoc />
    public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        ArgumentNullException.ThrowIfNull(denoised);
        noisy.RequireSameShape(denoised, $"{Name}: denoised");
        if (noisy.Rank != 4 || noisy.C != Network.Channels)
            throw new ArgumentException($"{Name}: images must be [N,{Network.Channels},H,W], got [{noisy.ShapeString}].");
        int item = noisy.ItemLength;
        for (int start = 0; start < noisy.N; start += BatchSize)
        {
            int count = Math.Min(BatchSize, noisy.N - start);
            var chunk = Chunk(PaddedCount(count), noisy.C, noisy.H, noisy.W);
            var y = noisy.Data.AsSpan(start * item, count * item);
            y.CopyTo(chunk.Span);
            chunk.Span[y.Length..].Clear();
            var r = Network.Forward(chunk, training: false);
            System.Numerics.Tensors.TensorPrimitives.Subtract(y, r.Span[..y.Length], denoised.Data.AsSpan(start * item, count * item));
        }
    }

    /// <summary>The batch a chunk of <paramref name="count"/> images runs at: the next power of two, capped at <see cref="BatchSize"/>.</summary>
    public int PaddedCount(int count) => Math.Min(BatchSize, (int)System.Numerics.BitOperations.RoundUpToPowerOf2((uint)count));

    private Tensor Chunk(int n, int c, int h, int w)
    {
        if (!_chunks.TryGetValue((n, c, h, w), out var t))
        {
            MemoryBudget.Require(MemoryBudget.Sum(Network.Spec.ActivationBytes(n, h, w, training: false), MemoryBudget.Product(2, n, c, h, w, sizeof(float))),
                $"{Name} on {n} images of {c}×{h}×{w} at a time");
            t = new Tensor(n, c, h, w);
            _chunks.Add((n, c, h, w), t);
        }
        return t;
    }
}
