namespace MemGen.Tensors;

/// <summary>
/// Physical element order of a rank-4 activation tensor. Which layout a backend computes in is its own choice
/// (<see cref="Compute.ComputeBackend.ActivationLayout"/>); images, parameters and everything outside the
/// networks are plain NCHW.
/// </summary>
public enum TensorLayout
{
    /// <summary>Plain row-major N,C,H,W.</summary>
    Nchw,

    /// <summary>Channel blocks of 16 innermost: N, C/16, H, W, 16 (the CPU backend's oneDNN layout).</summary>
    Nchw16c,
}
