using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>
/// The noise-level embedding of a conditioned network (docs/science.md §9.3): c = c_noise(σ) = ¼·ln σ, fixed Fourier
/// features e(c) = [cos(ω_1 c) … cos(ω_K c), sin(ω_1 c) … sin(ω_K c)] (K = E/2, ω_k = 2π·f_k with f_k geometric from
/// 1/8 to 16), then a small MLP: emb = silu(W2·silu(W1·e + b1) + b2), both layers E → E ("<c>emb.fc1</c>",
/// "<c>emb.fc2</c>"). The features are computed on the host (E numbers per image) and sent to the backend once per batch.
/// </summary>
public sealed class NoiseEmbedding
{
    /// <summary>Lowest Fourier frequency f_1 (cycles per unit of c).</summary>
    public const double LowestFrequency = 1.0 / 8;

    /// <summary>Highest Fourier frequency f_K.</summary>
    public const double HighestFrequency = 16;

    private readonly ComputeBackend _backend;
    private readonly Linear _fc1, _fc2;
    private readonly Silu _act1, _act2;
    private readonly Dictionary<int, Tensor> _features = [];
    private readonly double[] _omega;

    /// <summary>Creates the embedding of width <paramref name="width"/> (even) with zero weights; see <see cref="Initialize"/>.</summary>
    public NoiseEmbedding(string name, int width, ComputeBackend backend)
    {
        if (width < 2 || width % 2 != 0) throw new ArgumentOutOfRangeException(nameof(width), width, "The embedding width must be even and at least 2.");
        ArgumentNullException.ThrowIfNull(backend);
        _backend = backend;
        Width = width;
        _fc1 = new Linear($"{name}.fc1", width, width, backend);
        _fc2 = new Linear($"{name}.fc2", width, width, backend);
        _act1 = new Silu($"{name}.act1", backend);
        _act2 = new Silu($"{name}.act2", backend);
        _omega = Frequencies(width / 2);
    }

    /// <summary>E, the width of the features and of the output.</summary>
    public int Width { get; }

    /// <summary>fc1 then fc2, weight then bias.</summary>
    public IEnumerable<Parameter> Parameters => _fc1.Parameters.Concat(_fc2.Parameters);

    /// <summary>Draws both weights from <paramref name="rng"/> (N(0, 1/E)); biases stay zero.</summary>
    public void Initialize(DeterministicRng rng)
    {
        _fc1.InitializeFanIn(rng);
        _fc2.InitializeFanIn(rng);
    }

    /// <summary>The angular frequencies ω_k = 2π·f_k, f_k geometric from <see cref="LowestFrequency"/> to <see cref="HighestFrequency"/>.</summary>
    public static double[] Frequencies(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var omega = new double[count];
        for (int k = 0; k < count; k++)
        {
            double t = count == 1 ? 0.5 : (double)k / (count - 1);
            omega[k] = 2 * Math.PI * LowestFrequency * Math.Pow(HighestFrequency / LowestFrequency, t);
        }
        return omega;
    }

    /// <summary>The Fourier features of the noise labels <paramref name="labels"/> (c per image), row-major [N, E].</summary>
    public float[] Features(ReadOnlySpan<double> labels)
    {
        int k = _omega.Length;
        var e = new float[labels.Length * Width];
        for (int n = 0; n < labels.Length; n++)
            for (int j = 0; j < k; j++)
            {
                double angle = _omega[j] * labels[n];
                e[n * Width + j] = (float)Math.Cos(angle);
                e[n * Width + k + j] = (float)Math.Sin(angle);
            }
        return e;
    }

    /// <summary>The embedding [N, E] of the noise labels <paramref name="labels"/> (a layer-owned buffer), activations kept for <see cref="Backward"/>.</summary>
    public Tensor Forward(ReadOnlySpan<double> labels)
    {
        int n = labels.Length;
        if (!_features.TryGetValue(n, out var features))
        {
            features = _backend.Zeros(n, Width);
            _features.Add(n, features);
        }
        features.CopyFrom(Features(labels));
        var h = _act1.Forward(_fc1.Forward(features, LayerMode.Training), LayerMode.Training);
        return _act2.Forward(_fc2.Forward(h, LayerMode.Training), LayerMode.Training);
    }

    /// <summary>Back-propagates d(emb) [N, E] (overwritten) into the parameter gradients (the features are constants).</summary>
    public void Backward(Tensor gradient)
    {
        var g = _act2.Backward(gradient, LayerMode.Training);
        g = _fc2.Backward(g, parameterGradients: true, inputGradient: true)!;
        g = _act1.Backward(g, LayerMode.Training);
        _fc1.Backward(g, parameterGradients: true, inputGradient: false);
    }

    /// <summary>Drops the cached buffers.</summary>
    public void ReleaseBuffers()
    {
        _features.Clear();
        _fc1.ReleaseBuffers();
        _fc2.ReleaseBuffers();
        _act1.ReleaseBuffers();
        _act2.ReleaseBuffers();
    }
}
