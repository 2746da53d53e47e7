namespace MemGen.Compute.Cuda;

/// <summary>The CUDA backend (in progress).</summary>
public sealed partial class CudaBackend
{
    /// <summary>Opens device <paramref name="index"/>.</summary>
    public static ComputeBackend Open(int index, ComputePrecision precision)
    {
        CudaLibraries.Load();
        throw new ComputeUnavailableException($"cuda:{index} ({precision}): the CUDA backend is not built yet.");
    }
}
