using MemGen.Tensors;

namespace MemGen.Compute;

/// <summary>
/// The kernels of one conditioned batch-norm layer of a noise-conditioned network (docs/science.md §9.3), created by
/// <see cref="ComputeBackend.ConditionedNorm"/>: batch norm with affine parameters γ, β, then a per-item FiLM scale and
/// shift computed from the noise level, then SiLU, in one pass. For item n and channel c:
/// <code>
/// h = γ_c·(x − μ_c)/sd_c + β_c        u = h·(1 + s_nc) + t_nc        y = silu(u) = u·sigmoid(u)
/// </code>
/// Training: μ_c and sd_c = sqrt(var_{N,H,W}(x_c) + ε) (biased variance) of the batch, kept for the backward pass, and the
/// running statistics move toward them: running ← (1 − m)·running + m·batch. Evaluation: μ = running mean, sd = running sd.
/// The FiLM coefficients arrive as one plain [N, 2C] tensor per batch: row n is (s_n0 … s_n,C−1, t_n0 … t_n,C−1).
/// Per item and channel the pass is y = silu(A_nc·x + B_nc), so forward costs what a bias-free batch norm costs.
/// </summary>
public abstract class ConditionedNormKernels
{
    /// <summary>ε added to the variance.</summary>
    public const double Epsilon = BatchNormKernels.Epsilon;

    /// <summary>Weight m of the new batch statistics in the running ones.</summary>
    public const double Momentum = BatchNormKernels.Momentum;

    /// <summary>Records the layer's size.</summary>
    protected ConditionedNormKernels(int channels)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        Channels = channels;
    }

    /// <summary>Channels C.</summary>
    public int Channels { get; }

    /// <summary>Training pass with batch statistics (kept for <see cref="Backward"/>); updates the running mean and sd.</summary>
    public abstract void TrainingForward(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor y);

    /// <summary>Evaluation pass with the running mean and sd.</summary>
    public abstract void EvaluationForward(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor y);

    /// <summary>
    /// Backward pass of the last forward pass (<paramref name="training"/>: of <see cref="TrainingForward"/>, with its batch
    /// statistics; else of <see cref="EvaluationForward"/>, with the running ones), input x unchanged since. With
    /// g = dy·silu'(u) and x̂ = (x − μ)/sd: dγ_c = Σ g·(1 + s_nc)·x̂, dβ_c = Σ g·(1 + s_nc), ds_nc = Σ_pixels g·h,
    /// dt_nc = Σ_pixels g (each written when its tensor is given, overwritten; the FiLM gradient is [N, 2C] like the
    /// coefficients), and dx = (γ/sd)·((1 + s)·g − P_c/M − x̂·Q_c/M) in training (P = dβ, Q = dγ, M = N·H·W) or
    /// (γ/sd)·(1 + s)·g in evaluation. dx may be dy.
    /// </summary>
    public abstract void Backward(bool training, Tensor dy, Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd,
        Tensor? gammaGradient, Tensor? betaGradient, Tensor? filmGradient, Tensor dx);

    /// <summary>
    /// The layer's Jacobian in evaluation mode at x, which is diagonal: derivative = silu'(u)·γ_c·(1 + s_nc)/running_sd_c.
    /// A linearized pass multiplies by it (<see cref="ComputeBackend.Mask"/>), forward and backward alike.
    /// </summary>
    public abstract void Derivative(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor derivative);
}
