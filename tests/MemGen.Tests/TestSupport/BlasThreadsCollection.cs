namespace MemGen.Tests.TestSupport;

/// <summary>
/// Tests that run the linear-Gaussian sweep in this process. The sweep sets OpenBLAS's process-wide thread count to 1
/// while it runs; a test beside it doing BLAS work (an eigendecomposition in gahb, compared bit for bit across two runs)
/// would see the thread count change under it and get results that differ in the last bit. So these run alone.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class BlasThreadsCollection
{
    /// <summary>The collection's name.</summary>
    public const string Name = "BLAS threads";
}
