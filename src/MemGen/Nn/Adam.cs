using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// Adam with PyTorch's semantics (bias-corrected moments, ε added to the corrected root second moment,
/// no weight decay). The moments are exposed so a training run can checkpoint and resume them exactly. They live
/// beside the parameters in the backend's memory, and the update runs there.
/// </summary>
public sealed class Adam
{
    private readonly IReadOnlyList<Parameter> _parameters;
    private readonly ComputeBackend _backend;
    private readonly Tensor[] _gradients;

    /// <summary>Creates the optimizer with zero moments for <paramref name="parameters"/> (in <paramref name="backend"/>'s memory).</summary>
    public Adam(IReadOnlyList<Parameter> parameters, ComputeBackend backend, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(backend);
        _parameters = parameters;
        _backend = backend;
        _gradients = parameters.Select(p => p.Gradient).ToArray();
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        FirstMoments = parameters.Select(p => backend.Zeros(p.Value.Shape.ToArray())).ToArray();
        SecondMoments = parameters.Select(p => backend.Zeros(p.Value.Shape.ToArray())).ToArray();
    }

    /// <summary>β1.</summary>
    public double Beta1 { get; }

    /// <summary>β2.</summary>
    public double Beta2 { get; }

    /// <summary>ε.</summary>
    public double Epsilon { get; }

    /// <summary>Number of steps taken so far (PyTorch's <c>state['step']</c>).</summary>
    public long StepCount { get; set; }

    /// <summary>First-moment estimates, one per parameter, same order.</summary>
    public IReadOnlyList<Tensor> FirstMoments { get; }

    /// <summary>Second-moment estimates, one per parameter, same order.</summary>
    public IReadOnlyList<Tensor> SecondMoments { get; }

    /// <summary>Applies one update with learning rate <paramref name="learningRate"/> using the current gradients.</summary>
    public void Step(double learningRate)
    {
        StepCount++;
        double correction1 = 1 - Math.Pow(Beta1, StepCount);
        double correction2 = 1 - Math.Pow(Beta2, StepCount);
        var coefficients = new AdamCoefficients((float)Beta1, (float)Beta2, (float)(learningRate / correction1), (float)Math.Sqrt(correction2), (float)Epsilon);
        for (int i = 0; i < _parameters.Count; i++)
            _backend.AdamUpdate(_parameters[i].Value, _parameters[i].Gradient, FirstMoments[i], SecondMoments[i], coefficients);
    }

    /// <summary>Sum of squared gradients over all parameters (for logging and NaN guards).</summary>
    public double GradientSquaredNorm() => _backend.SumOfSquares(_gradients);
}

/// <summary>Learning rate multiplied by <paramref name="Factor"/> every <paramref name="Period"/> epochs (docs/science.md §2: ×0.5 every 100).</summary>
/// <param name="Initial">Learning rate at epoch 0.</param>
/// <param name="Period">Epochs between decays.</param>
/// <param name="Factor">Multiplier applied at each decay.</param>
public sealed record StepLearningRate(double Initial, int Period, double Factor)
{
    /// <summary>The learning rate during (zero-based) <paramref name="epoch"/>.</summary>
    public double At(int epoch) => Initial * Math.Pow(Factor, epoch / Period);
}
