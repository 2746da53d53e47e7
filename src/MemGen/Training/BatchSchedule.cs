using MemGen.Tensors;

namespace MemGen.Training;

/// <summary>
/// Which training images make up the batch of each step. The N images are tiled into an endless stream
/// (image j mod N at position j); epoch e takes the next L = StepsPerEpoch·BatchSize positions of it and shuffles
/// them with a permutation seeded by (seed, e) alone, so the batch of any step is a pure function of (seed, step).
/// With N ≤ L every image appears ⌊L/N⌋ or ⌈L/N⌉ times per epoch; with N &gt; L successive epochs walk through the set.
/// </summary>
public sealed class BatchSchedule
{
    private readonly long _seed;
    private readonly int _count;
    private readonly int _batch;
    private readonly long _stepsPerEpoch;
    private long _cachedEpoch = -1;
    private int[] _order = [];

    /// <summary>Creates the schedule for <paramref name="count"/> training images.</summary>
    public BatchSchedule(long seed, int count, int batchSize, long stepsPerEpoch)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stepsPerEpoch, 1);
        if (stepsPerEpoch * batchSize > Array.MaxLength) throw new ArgumentException("An epoch of more than 2^31 images is not supported.");
        _seed = seed ^ 0x7065726D75746500L; // "permute": keeps these streams apart from initialization and noise
        _count = count;
        _batch = batchSize;
        _stepsPerEpoch = stepsPerEpoch;
    }

    /// <summary>Writes the training-set indices of step <paramref name="step"/>'s batch into <paramref name="indices"/>.</summary>
    public void IndicesFor(long step, Span<int> indices)
    {
        if (indices.Length != _batch) throw new ArgumentException($"Expected {_batch} indices, got {indices.Length}.");
        long epoch = step / _stepsPerEpoch;
        if (epoch != _cachedEpoch)
        {
            _order = new DeterministicRng(_seed, epoch).Permutation((int)(_stepsPerEpoch * _batch));
            _cachedEpoch = epoch;
        }
        int start = (int)(step % _stepsPerEpoch) * _batch;
        long epochStart = epoch * _order.Length % _count;
        for (int i = 0; i < _batch; i++) indices[i] = (int)((epochStart + _order[start + i]) % _count);
    }
}
