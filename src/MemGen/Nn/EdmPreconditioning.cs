namespace MemGen.Nn;

/// <summary>
/// The preconditioning of Karras et al. 2022 (EDM; docs/science.md §9.3) around a network F that sees the noise level:
/// D(y; σ) = c_skip(σ)·y + c_out(σ)·F(c_in(σ)·y; c_noise(σ)) with
/// c_skip = σ_d²/(σ² + σ_d²), c_out = σ·σ_d/√(σ² + σ_d²), c_in = 1/√(σ² + σ_d²), c_noise = ¼·ln σ, so F's input and its
/// training target have unit variance at every σ for data of standard deviation σ_d. The training loss
/// λ(σ)·‖D(y; σ) − x‖² with λ = 1/c_out² = (σ² + σ_d²)/(σ·σ_d)² is ‖F − F_target‖², equally weighted at every σ.
/// MemGen's networks output the residual r = y − D = ResidualSkip·y − c_out·F, ResidualSkip = 1 − c_skip = σ²/(σ² + σ_d²)
/// (computed directly, so nothing cancels at small σ).
/// </summary>
/// <param name="SigmaData">σ_d, the data's standard deviation the coefficients assume.</param>
public readonly record struct EdmPreconditioning(double SigmaData)
{
    /// <summary>Noise levels below this are taken as this in c_noise and λ (ln 0 and 1/0 are not numbers); D itself uses the exact σ.</summary>
    public const double MinimumSigma = 1e-6;

    /// <summary>c_skip(σ) = σ_d²/(σ² + σ_d²).</summary>
    public double Skip(double sigma) => SigmaData * SigmaData / (sigma * sigma + SigmaData * SigmaData);

    /// <summary>1 − c_skip(σ) = σ²/(σ² + σ_d²): the weight of y in the residual.</summary>
    public double ResidualSkip(double sigma) => sigma * sigma / (sigma * sigma + SigmaData * SigmaData);

    /// <summary>c_out(σ) = σ·σ_d/√(σ² + σ_d²).</summary>
    public double Out(double sigma) => sigma * SigmaData / Math.Sqrt(sigma * sigma + SigmaData * SigmaData);

    /// <summary>c_in(σ) = 1/√(σ² + σ_d²).</summary>
    public double In(double sigma) => 1 / Math.Sqrt(sigma * sigma + SigmaData * SigmaData);

    /// <summary>c_noise(σ) = ¼·ln max(σ, <see cref="MinimumSigma"/>).</summary>
    public double Noise(double sigma) => 0.25 * Math.Log(Math.Max(sigma, MinimumSigma));

    /// <summary>λ(σ) = (σ² + σ_d²)/(σ·σ_d)² = 1/c_out(σ)², with σ at least <see cref="MinimumSigma"/>.</summary>
    public double LossWeight(double sigma)
    {
        double s = Math.Max(sigma, MinimumSigma);
        return (s * s + SigmaData * SigmaData) / (s * s * SigmaData * SigmaData);
    }
}
