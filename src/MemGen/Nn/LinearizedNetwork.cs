using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// A bias-free network in evaluation mode linearized at a point y: every ReLU switch pattern frozen at y,
/// batch norm dividing by the running sd. The frozen network is exactly linear, so one forward pass of v
/// gives J·v and one backward pass of u gives Jᵀ·u (docs/science.md §1.5). Two Jacobians are offered:
/// of the residual r (the network output) and of the denoiser f = y − r (J_f = I − J_r); since the network
/// is bias-free, J_f(y)·y = f(y) and J_r(y)·y = r(y).
/// Results are written into caller tensors (plain [B,C,H,W], host or backend memory); a single-image point accepts any
/// batch of vectors. Vectors and results in the backend's memory keep every product on the device.
/// Not thread-safe; uses the network's buffers (a training Forward in between is fine, but invalidates its Backward).
/// </summary>
public sealed class LinearizedNetwork
{
    private readonly LayeredNetwork _network;
    private readonly int _linearization;
    private Tensor? _difference;

    internal LinearizedNetwork(LayeredNetwork network, int linearization, Tensor point, Tensor residual)
    {
        _network = network;
        _linearization = linearization;
        Point = point;
        Residual = residual;
        Denoised = point.ZerosLike();
        network.Backend.Subtract(point, residual, Denoised);
    }

    /// <summary>The backend the products run on (<see cref="Point"/>, <see cref="Residual"/> and <see cref="Denoised"/> live in its memory).</summary>
    public ComputeBackend Backend => _network.Backend;

    /// <summary>The point y (a copy).</summary>
    public Tensor Point { get; }

    /// <summary>r(y), the network output at y.</summary>
    public Tensor Residual { get; }

    /// <summary>f(y) = y − r(y).</summary>
    public Tensor Denoised { get; }

    /// <summary>result = J_r(y)·v, the Jacobian of the residual.</summary>
    public void ResidualJvp(Tensor v, Tensor result)
    {
        Require(v, result);
        _network.RunLinearized(v, _linearization, this).Storage.CopyTo(result.Storage);
    }

    /// <summary>result = J_f(y)·v = v − J_r(y)·v, the Jacobian of the denoiser.</summary>
    public void DenoiserJvp(Tensor v, Tensor result)
    {
        Require(v, result);
        var jr = _network.RunLinearized(v, _linearization, this);
        SubtractInto(v, jr, result);
    }

    /// <summary>result = J_r(y)ᵀ·u.</summary>
    public void ResidualVjp(Tensor u, Tensor result)
    {
        Require(u, result);
        _network.RunLinearizedBackward(u, _linearization, this).Storage.CopyTo(result.Storage);
    }

    /// <summary>result = J_f(y)ᵀ·u = u − J_r(y)ᵀ·u.</summary>
    public void DenoiserVjp(Tensor u, Tensor result)
    {
        Require(u, result);
        var jr = _network.RunLinearizedBackward(u, _linearization, this);
        SubtractInto(u, jr, result);
    }

    /// <summary>result = v − jr (jr in the backend's memory; v and result anywhere).</summary>
    private void SubtractInto(Tensor v, Tensor jr, Tensor result)
    {
        var backend = _network.Backend;
        if (backend.Holds(v) && backend.Holds(result))
        {
            backend.Subtract(v, jr, result);
            return;
        }
        if (_difference is null || !_difference.SameShape(jr)) _difference = jr.ZerosLike();
        v.Storage.CopyTo(_difference.Storage);
        backend.Subtract(_difference, jr, _difference);
        _difference.Storage.CopyTo(result.Storage);
    }

    private static void Require(Tensor v, Tensor result)
    {
        ArgumentNullException.ThrowIfNull(v);
        ArgumentNullException.ThrowIfNull(result);
        v.RequireSameShape(result, "Jacobian product result");
    }
}
