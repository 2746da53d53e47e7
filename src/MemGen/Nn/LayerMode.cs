namespace MemGen.Nn;

/// <summary>How a layer runs a pass.</summary>
public enum LayerMode
{
    /// <summary>Batch statistics in batch norm (running sd updated); activations kept for Backward.</summary>
    Training,

    /// <summary>Running sd in batch norm; ReLUs switch on the data. Activations kept for Backward.</summary>
    Evaluation,

    /// <summary>
    /// The network linearized at a point: batch norm as in evaluation, every ReLU replaced by the 0/1 mask
    /// frozen at that point (<see cref="Relu.FreezeMask"/>). The pass is then linear in its input: J·v forward, Jᵀ·u backward.
    /// </summary>
    Linearized,
}
