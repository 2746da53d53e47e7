using MemGen.Tensors;

namespace MemGen.Compute;

/// <summary>
/// The kernels of one bias-free batch-norm layer (docs/science.md §1), optionally fused with the ReLU that follows it,
/// created by <see cref="ComputeBackend.BatchNorm"/>. They keep the layer's per-channel scratch (batch sd and mean of
/// the last training pass, the scales) between a forward pass and its backward pass.
/// Training: sd_c = sqrt(var_{N,H,W}(x_c) + ε) (biased variance), y = x/sd_c·γ_c, running_sd ← (1 − m)·running_sd + m·sd_c.
/// Evaluation: y = x/running_sd_c·γ_c. No mean subtraction, no additive term. With <see cref="FusedRelu"/> the output
/// is max(0, ·) in the same pass and the backward pass gates on the output.
/// </summary>
public abstract class BatchNormKernels
{
    /// <summary>ε added to the variance.</summary>
    public const double Epsilon = 1e-5;

    /// <summary>Weight m of the new batch sd in the running sd.</summary>
    public const double Momentum = 0.1;

    /// <summary>Records the layer's size and whether a ReLU is fused.</summary>
    protected BatchNormKernels(int channels, bool fusedRelu)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        Channels = channels;
        FusedRelu = fusedRelu;
    }

    /// <summary>Channels.</summary>
    public int Channels { get; }

    /// <summary>Whether the ReLU that follows is applied in the same pass.</summary>
    public bool FusedRelu { get; }

    /// <summary>Training pass with batch statistics (kept for <see cref="TrainingBackward"/>); updates <paramref name="runningSd"/>.</summary>
    public abstract void TrainingForward(Tensor x, Tensor gamma, Tensor runningSd, Tensor y);

    /// <summary>Evaluation pass: y = x·γ/running_sd (then the ReLU when fused).</summary>
    public abstract void EvaluationForward(Tensor x, Tensor gamma, Tensor runningSd, Tensor y);

    /// <summary>
    /// The layer linearized at a point, forward and backward alike (it is a per-channel diagonal map):
    /// y = x·γ/running_sd·mask, with the 0/1 ReLU mask frozen at the point (one item or a batch), or no mask.
    /// y may be x.
    /// </summary>
    public abstract void Linearized(Tensor x, Tensor gamma, Tensor runningSd, Tensor? mask, Tensor y);

    /// <summary>
    /// Backward pass of the last <see cref="TrainingForward"/> (input x, output y, unchanged since): with g = dy·[y &gt; 0]
    /// (fused) or dy, A_c = Σ g·x, dγ_c = A_c/sd_c (when <paramref name="gammaGradient"/> is given, overwritten) and
    /// dx = (γ/sd)·g − γ·A/(M·sd³)·(x − μ), M = N·H·W. dx may be dy.
    /// </summary>
    public abstract void TrainingBackward(Tensor dy, Tensor x, Tensor y, Tensor gamma, Tensor? gammaGradient, Tensor dx);

    /// <summary>
    /// Backward pass of the last <see cref="EvaluationForward"/>: dγ_c = Σ g·x / running_sd_c (when
    /// <paramref name="gammaGradient"/> is given) and dx = g·γ/running_sd. dx may be dy.
    /// </summary>
    public abstract void EvaluationBackward(Tensor dy, Tensor x, Tensor y, Tensor gamma, Tensor runningSd, Tensor? gammaGradient, Tensor dx);
}
