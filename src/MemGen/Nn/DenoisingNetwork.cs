using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// A network that predicts the noise residual r(y) of a noisy image y; the denoiser is f(y) = y − r(y). Blind,
/// bias-free networks (docs/science.md §1) see only y; noise-conditioned ones (<see cref="IsConditioned"/>, §9.3) also
/// take each image's noise level σ, r(y; σ). Layers cache what Backward needs during a training Forward.
/// </summary>
public abstract class DenoisingNetwork : IDisposable
{
    /// <summary>The engine the network runs on; its parameters, buffers and outputs live in this backend's memory.</summary>
    public abstract ComputeBackend Backend { get; }

    /// <summary>The architecture and its sizes.</summary>
    public abstract NetworkSpec Spec { get; }

    /// <summary>Image channels the network was built for (C_in = C_out).</summary>
    public abstract int Channels { get; }

    /// <summary>Trainable parameters, in a fixed order (checkpoints and the optimizer rely on it).</summary>
    public abstract IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Non-trainable state saved in checkpoints (batch-norm running sd), in a fixed order.</summary>
    public abstract IReadOnlyList<NamedTensor> Buffers { get; }

    /// <summary>True when the network takes the noise level σ of each image as an input (a noise-conditioned network).</summary>
    public bool IsConditioned => Spec.IsConditioned;

    /// <summary>Total number of trainable scalars.</summary>
    public long ParameterCount => Parameters.Sum(p => (long)p.Value.Length);

    /// <summary>
    /// Computes the residual r(y) for a batch <paramref name="noisy"/> (N,C,H,W, plain NCHW, in host or backend memory).
    /// The returned tensor is in the backend's memory, owned by the network and valid until the next call. <paramref name="training"/> uses batch statistics,
    /// updates the running sd and keeps activations for <see cref="Backward"/>; otherwise eval mode (running sd).
    /// </summary>
    public abstract Tensor Forward(Tensor noisy, bool training);

    /// <summary>
    /// <see cref="Forward(Tensor, bool)"/> with the noise level of each image (<paramref name="sigmas"/>, one per image, σ ≥ 0):
    /// a noise-conditioned network needs them, a blind one ignores them.
    /// </summary>
    public virtual Tensor Forward(Tensor noisy, ReadOnlySpan<float> sigmas, bool training) => IsConditioned
        ? throw new NotSupportedException($"{GetType().Name} does not implement a noise-conditioned forward pass.")
        : Forward(noisy, training);

    /// <summary>
    /// Back-propagates dLoss/dr for the last training Forward. Overwrites every <see cref="Parameter.Gradient"/>;
    /// when <paramref name="gradInput"/> is given, also writes dLoss/dy into it.
    /// </summary>
    public abstract void Backward(Tensor gradResidual, Tensor? gradInput = null);

    /// <summary>
    /// Linearizes the evaluation-mode network at <paramref name="noisy"/> (ReLU switches frozen there) for exact
    /// Jacobian-vector products J·v and Jᵀ·u (docs/science.md §1.5). Networks without that support throw <see cref="NotSupportedException"/>.
    /// </summary>
    public virtual LinearizedNetwork LinearizeAt(Tensor noisy) =>
        throw new NotSupportedException($"{GetType().Name} cannot be linearized.");

    /// <summary>
    /// <see cref="LinearizeAt(Tensor)"/> at noise levels <paramref name="sigmas"/> (one per image of the point): the Jacobian
    /// with respect to y of r(y; σ) at fixed σ. Blind networks ignore σ.
    /// </summary>
    public virtual LinearizedNetwork LinearizeAt(Tensor noisy, ReadOnlySpan<float> sigmas) => IsConditioned
        ? throw new NotSupportedException($"{GetType().Name} cannot be linearized.")
        : LinearizeAt(noisy);

    /// <summary>Throws <see cref="ArgumentException"/> when images of this size cannot pass through the network.</summary>
    public virtual void CheckImageSize(int height, int width)
    {
        var divisor = Spec.SizeDivisor;
        if (height % divisor != 0 || width % divisor != 0)
            throw new ArgumentException($"Images of {height}×{width} do not fit {Spec}: both sides must be divisible by {divisor}.");
    }

    /// <summary>Releases native resources.</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases native resources held by the layers.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }
}
