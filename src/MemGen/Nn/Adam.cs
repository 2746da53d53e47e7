using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// Adam with PyTorch's semantics (bias-corrected moments, ε added to the corrected root second moment,
/// no weight decay). The moments are exposed so a training run can checkpoint and resume them exactly.
/// </summary>
public sealed class Adam
{
    private readonly IReadOnlyList<Parameter> _parameters;

    /// <summary>Creates the optimizer with zero moments for <paramref name="parameters"/>.</summary>
    public Adam(IReadOnlyList<Parameter> parameters, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _parameters = parameters;
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        FirstMoments = parameters.Select(p => new Tensor(p.Value.Shape.ToArray())).ToArray();
        SecondMoments = parameters.Select(p => new Tensor(p.Value.Shape.ToArray())).ToArray();
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
        float b1 = (float)Beta1, b2 = (float)Beta2;
        double correction1 = 1 - Math.Pow(Beta1, StepCount);
        double correction2 = 1 - Math.Pow(Beta2, StepCount);
        float stepSize = (float)(learningRate / correction1);
        float rootCorrection2 = (float)Math.Sqrt(correction2);
        float eps = (float)Epsilon;
        for (int i = 0; i < _parameters.Count; i++)
        {
            var w = _parameters[i].Value.Span;
            var g = _parameters[i].Gradient.Span;
            var m = FirstMoments[i].Span;
            var v = SecondMoments[i].Span;
            for (int k = 0; k < w.Length; k++)
            {
                m[k] = b1 * m[k] + (1 - b1) * g[k];
                v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
                w[k] -= stepSize * m[k] / (MathF.Sqrt(v[k]) / rootCorrection2 + eps);
            }
        }
    }

    /// <summary>Sum of squared gradients over all parameters (for logging and NaN guards).</summary>
    public double GradientSquaredNorm() => _parameters.Sum(p => (double)TensorPrimitives.Dot<float>(p.Gradient.Span, p.Gradient.Span));
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
