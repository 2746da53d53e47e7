using MemGen.Machine;

namespace MemGen.Sampling;

/// <summary>The memory a sampler plans to take, checked against <see cref="MemoryBudget"/> before it allocates.</summary>
internal static class SampleMemory
{
    /// <summary>
    /// Refuses <paramref name="count"/> samples of <paramref name="channels"/>×<paramref name="height"/>×<paramref name="width"/>
    /// when the samples (kept, plus the copy a caller writes out), the batch's working tensors and the per-sample records
    /// exceed the budget. The denoiser's own memory is checked by the denoiser.
    /// </summary>
    public static void Require(int count, int channels, int height, int width, int batch)
    {
        long d = MemoryBudget.Product(channels, height, width);
        if (MemoryBudget.Product(count, d) > Array.MaxLength)
            throw new MemoryLimitException($"{count} samples of {channels}×{height}×{width} are more values than one array holds ({Array.MaxLength}); draw fewer at a time");
        MemoryBudget.Require(
            MemoryBudget.Sum(MemoryBudget.Product(count, d, 2 * sizeof(float)), MemoryBudget.Product(Math.Min(batch, count), d, 6 * sizeof(float)), MemoryBudget.Product(count, 16)),
            $"{count} samples of {channels}×{height}×{width}");
    }
}
