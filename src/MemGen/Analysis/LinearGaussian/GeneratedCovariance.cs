namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// Which covariance the generated law N(μ_G, Σ_G) of the one-step model gets (docs/science.md §7.3, §7.8).
/// Both have the spectrum s_T²·S² of the fitted B = U·S·Vᵀ; they differ in their eigenvectors.
/// </summary>
public enum GeneratedCovariance
{
    /// <summary>Σ_G = s_T²·B·Bᵀ (eigenvectors U): the law of the model's samples β0 + B·x_T.</summary>
    Model,

    /// <summary>Σ = s_T²·Bᵀ·B (eigenvectors V, in the span of the noisy inputs): what the [H24] reference code uses.</summary>
    ReferenceCode,
}

/// <summary>Command-line names of <see cref="GeneratedCovariance"/> values and their descriptions.</summary>
public static class GeneratedCovariances
{
    /// <summary>All values, the model's first.</summary>
    public static IReadOnlyList<GeneratedCovariance> All { get; } = [GeneratedCovariance.Model, GeneratedCovariance.ReferenceCode];

    /// <summary>"model" or "reference-code".</summary>
    public static string Name(this GeneratedCovariance covariance) => covariance switch
    {
        GeneratedCovariance.Model => "model",
        GeneratedCovariance.ReferenceCode => "reference-code",
        _ => throw new ArgumentOutOfRangeException(nameof(covariance)),
    };

    /// <summary>The label reports and figures use.</summary>
    public static string Label(this GeneratedCovariance covariance) => covariance switch
    {
        GeneratedCovariance.Model => "B·Bᵀ: the model's law",
        GeneratedCovariance.ReferenceCode => "Bᵀ·B: the reference code's law, not the model's",
        _ => throw new ArgumentOutOfRangeException(nameof(covariance)),
    };

    /// <summary>Parses a <see cref="Name"/>; null when unknown.</summary>
    public static GeneratedCovariance? Parse(string text) =>
        All.Select(c => (GeneratedCovariance?)c).FirstOrDefault(c => c!.Value.Name() == text.Trim().ToLowerInvariant());
}
