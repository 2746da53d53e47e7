using MemGen.Tensors;

namespace MemGen.Analysis.LinearGaussian;

/// <summary>The true data law of docs/science.md §7: x ~ N(m·1, s²·I) in d dimensions.</summary>
/// <param name="Dimension">d.</param>
/// <param name="Mean">m (every coordinate).</param>
/// <param name="Std">s (&gt; 0).</param>
public sealed record IsotropicGaussianLaw(int Dimension, double Mean, double Std)
{
    /// <summary>Draws <paramref name="count"/> points, row-major count×d, from <paramref name="rng"/>.</summary>
    public double[] Sample(int count, DeterministicRng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        if (count < 0) throw new ArgumentOutOfRangeException(nameof(count));
        var x = new double[(long)count * Dimension];
        for (long i = 0; i < x.LongLength; i++) x[i] = Mean + Std * rng.NextNormal();
        return x;
    }

    /// <summary>log ∫p² of this law: −(d/2)·log(4π s²). Reports state E_TG and E_OG in units of ∫p².</summary>
    public double LogSelfOverlap => -0.5 * Dimension * Math.Log(4 * Math.PI * Std * Std);
}

/// <summary>
/// The forward process of docs/science.md §7.1: one jump to time T of an Ornstein–Uhlenbeck process,
/// x_T = e^(−T)·x0 + sqrt(Λ(1 − e^(−2T)))·ξ with ξ ~ N(0, I) drawn per point.
/// </summary>
/// <param name="Time">T.</param>
/// <param name="Lambda">Λ (the reference code uses e^(−2T)).</param>
public sealed record OrnsteinUhlenbeckJump(double Time, double Lambda)
{
    /// <summary>e^(−T), the factor on x0.</summary>
    public double Decay => Math.Exp(-Time);

    /// <summary>Λ(1 − e^(−2T)), the variance of the added noise.</summary>
    public double NoiseVariance => Lambda * (1 - Math.Exp(-2 * Time));

    /// <summary>s_T² = e^(−2T)·v̄ + Λ(1 − e^(−2T)): the variance of x_T when x0 has per-pixel variance v̄.</summary>
    public double ForwardVariance(double dataVariance) => Decay * Decay * dataVariance + NoiseVariance;

    /// <summary>Applies the jump to every row of <paramref name="x0"/> (row-major, any shape), fresh ξ from <paramref name="rng"/>.</summary>
    public double[] Forward(ReadOnlySpan<double> x0, DeterministicRng rng)
    {
        ArgumentNullException.ThrowIfNull(rng);
        double a = Decay, b = Math.Sqrt(NoiseVariance);
        var xt = new double[x0.Length];
        for (int i = 0; i < x0.Length; i++) xt[i] = a * x0[i] + b * rng.NextNormal();
        return xt;
    }
}
