using System.Globalization;
using System.Text.Json.Nodes;

namespace MemGen.Sampling;

/// <summary>The sampler families a <see cref="SamplerSpec"/> can name.</summary>
public enum SamplerKind
{
    /// <summary>Algorithm 1 (stochastic, per-image step and stopping; docs/science.md §3).</summary>
    Algorithm1,

    /// <summary>Deterministic probability flow on a geometric σ schedule (Euler or Heun; docs/science.md §3).</summary>
    ProbabilityFlow,

    /// <summary>EDM's Heun sampler on its ρ-schedule, with optional churn (Karras et al. 2022, Algorithm 2).</summary>
    Edm,
}

/// <summary>
/// A sampler named by a string, parsed like a denoiser spec: <c>algorithm1[:key=value,...]</c> with keys
/// <c>variant=paper|code</c>, <c>h0</c>, <c>beta</c>, <c>sigma0</c>, <c>sigma_inf</c>, <c>max_steps</c>,
/// <c>divergence_sigma</c>; or <c>flow[:euler|heun][,key=value,...]</c> with keys <c>method=euler|heun</c>,
/// <c>steps</c>, <c>sigma_max</c> (alias <c>sigma0</c>), <c>sigma_min</c>, <c>final_denoise=true|false</c>; or
/// <c>edm[:key=value,...]</c> with keys <c>steps</c>, <c>rho</c>, <c>sigma_max</c> (alias <c>sigma0</c>), <c>sigma_min</c>,
/// <c>s_churn</c>, <c>s_tmin</c>, <c>s_tmax</c>, <c>s_noise</c> (EDM's defaults: 18 steps, ρ = 7, σ from 80 to 0.002, no churn).
/// Shorthands: <c>algorithm1-code</c> = <c>algorithm1:variant=code</c>, <c>flow-euler</c>, <c>flow-heun</c>.
/// Unnamed keys keep the paper's values. <see cref="ToString"/> writes every setting explicitly, so a recorded spec
/// says exactly what ran. The start mean and batch size are not part of the spec: they are given to <see cref="Create"/>.
/// </summary>
public sealed class SamplerSpec : IEquatable<SamplerSpec>
{
    /// <summary>Short syntax reference for help texts.</summary>
    public const string SyntaxHelp =
        "algorithm1[:variant=paper|code,h0=H,beta=B,sigma0=S,sigma_inf=S,max_steps=T,divergence_sigma=S] | " +
        "flow[:euler|heun,steps=K,sigma_max=S,sigma_min=S,final_denoise=true|false] | " +
        "edm[:steps=N,rho=R,sigma_max=S,sigma_min=S,s_churn=C,s_tmin=S,s_tmax=S,s_noise=F] (shorthands: algorithm1-code, flow-euler, flow-heun)";

    private static readonly string[] s_algorithm1Keys = ["variant", "h0", "beta", "sigma0", "sigma_inf", "max_steps", "divergence_sigma"];
    private static readonly string[] s_flowKeys = ["method", "steps", "sigma_max", "sigma0", "sigma_min", "final_denoise"];
    private static readonly string[] s_edmKeys = ["steps", "rho", "sigma_max", "sigma0", "sigma_min", "s_churn", "s_tmin", "s_tmax", "s_noise"];

    private SamplerSpec(Algorithm1Options? algorithm1, ProbabilityFlowOptions? flow, EdmSamplerOptions? edm = null)
    {
        Algorithm1 = algorithm1;
        Flow = flow;
        Edm = edm;
    }

    /// <summary>The paper's Algorithm 1 (h0 = 0.01, β = 0.1, σ0 = 1, σ∞ = 0.05).</summary>
    public static SamplerSpec PaperAlgorithm1 { get; } = new(new Algorithm1Options(), null);

    /// <summary>Which family.</summary>
    public SamplerKind Kind => Algorithm1 is not null ? SamplerKind.Algorithm1 : Flow is not null ? SamplerKind.ProbabilityFlow : SamplerKind.Edm;

    /// <summary>The Algorithm 1 settings (start mean and batch size at their defaults); null for a flow sampler.</summary>
    public Algorithm1Options? Algorithm1 { get; }

    /// <summary>The probability-flow settings (start mean and batch size at their defaults); null for Algorithm 1.</summary>
    public ProbabilityFlowOptions? Flow { get; }

    /// <summary>The EDM Heun settings (start mean and batch size at their defaults); null for the other families.</summary>
    public EdmSamplerOptions? Edm { get; }

    /// <summary>The keys this spec's family accepts.</summary>
    public IReadOnlyList<string> Keys => Kind switch
    {
        SamplerKind.Algorithm1 => s_algorithm1Keys,
        SamplerKind.ProbabilityFlow => s_flowKeys,
        _ => s_edmKeys,
    };

    /// <summary>The spec of <paramref name="options"/> (its start mean and batch size are dropped).</summary>
    public static SamplerSpec Of(Algorithm1Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SamplerSpec(options with { MeanImage = null, MeanValue = 0.5f, StartCovariance = null, BatchSize = 64 }, null);
    }

    /// <summary>The spec of <paramref name="options"/> (its start mean and batch size are dropped).</summary>
    public static SamplerSpec Of(ProbabilityFlowOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SamplerSpec(null, options with { MeanImage = null, MeanValue = 0.5f, StartCovariance = null, BatchSize = 64 });
    }

    /// <summary>The spec of <paramref name="options"/> (its start mean and batch size are dropped).</summary>
    public static SamplerSpec Of(EdmSamplerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        return new SamplerSpec(null, null, options with { MeanImage = null, MeanValue = 0.5f, StartCovariance = null, BatchSize = 64 });
    }

    /// <summary>Parses the value of setting <paramref name="setting"/>; a bad spec is an <see cref="InvalidSettingException"/> for it.</summary>
    public static SamplerSpec ParseAs(string setting, string text)
    {
        try
        {
            return Parse(text);
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException(setting, e.Message, e);
        }
    }

    /// <summary>Parses <paramref name="text"/> and validates every value.</summary>
    /// <exception cref="FormatException">Not a sampler spec, an unknown key or an invalid value; the message says which.</exception>
    public static SamplerSpec Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new FormatException($"sampler spec is empty (expected {SyntaxHelp}).");
        var trimmed = text.Trim();
        int colon = trimmed.IndexOf(':', StringComparison.Ordinal);
        string name = (colon < 0 ? trimmed : trimmed[..colon]).Trim().ToLowerInvariant();
        string rest = colon < 0 ? "" : trimmed[(colon + 1)..];
        var spec = name switch
        {
            "algorithm1" => PaperAlgorithm1,
            "algorithm1-code" => new SamplerSpec(new Algorithm1Options { Variant = Algorithm1Variant.Code }, null),
            "flow" or "flow-euler" => new SamplerSpec(null, new ProbabilityFlowOptions()),
            "flow-heun" => new SamplerSpec(null, new ProbabilityFlowOptions { Method = ProbabilityFlowMethod.Heun }),
            "edm" => new SamplerSpec(null, null, new EdmSamplerOptions()),
            _ => throw new FormatException($"sampler spec '{trimmed}': unknown sampler '{name}' (expected {SyntaxHelp})."),
        };
        foreach (var part in rest.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=', StringComparison.Ordinal);
            string key = (eq < 0 ? part : part[..eq]).Trim().ToLowerInvariant();
            string? value = eq < 0 ? null : part[(eq + 1)..].Trim();
            if (value is null && spec.Kind == SamplerKind.ProbabilityFlow && key is "euler" or "heun") (key, value) = ("method", key);
            if (value is null) throw new FormatException($"sampler spec '{trimmed}': '{part}' is not key=value.");
            spec = spec.With(key, value, trimmed);
        }
        return spec;
    }

    /// <summary>
    /// This spec with one setting changed (e.g. a command-line flag that overrides a key).
    /// </summary>
    /// <exception cref="FormatException">The key does not belong to this sampler family or the value is invalid.</exception>
    public SamplerSpec With(string key, string value) => With(key, value, ToString());

    private SamplerSpec With(string key, string value, string context)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!Keys.Contains(key))
        {
            var owners = new[] { ("the algorithm1 samplers", s_algorithm1Keys), ("the flow samplers", s_flowKeys), ("the edm sampler", s_edmKeys) }
                .Where(o => o.Item2.Contains(key)).Select(o => o.Item1).ToArray();
            throw new FormatException(owners.Length > 0
                ? $"sampler spec '{context}': {key} applies to {string.Join(" and ", owners)} only, not to {Name}"
                : $"sampler spec '{context}': unknown key '{key}' for {Name} (expected {string.Join(", ", Keys)}).");
        }
        SamplerSpec result;
        if (Algorithm1 is { } a)
        {
            result = new SamplerSpec(key switch
            {
                "variant" => a with
                {
                    Variant = value.ToLowerInvariant() switch
                    {
                        "paper" => Algorithm1Variant.Paper,
                        "code" => Algorithm1Variant.Code,
                        _ => throw new FormatException($"sampler spec '{context}': variant must be paper or code, got '{value}'."),
                    }
                },
                "h0" => a with { InitialStep = Number(key, value, context) },
                "beta" => a with { Beta = Number(key, value, context) },
                "sigma0" => a with { InitialSigma = (float)Number(key, value, context) },
                "sigma_inf" => a with { FinalSigma = Number(key, value, context) },
                "max_steps" => a with { MaxSteps = Integer(key, value, context) },
                _ => a with { DivergenceSigma = Number(key, value, context) },
            }, null);
        }
        else if (Edm is { } e)
        {
            result = new SamplerSpec(null, null, key switch
            {
                "steps" => e with { Steps = Integer(key, value, context) },
                "rho" => e with { Rho = Number(key, value, context) },
                "sigma_max" or "sigma0" => e with { MaxSigma = (float)Number(key, value, context) },
                "sigma_min" => e with { MinSigma = (float)Number(key, value, context) },
                "s_churn" => e with { Churn = Number(key, value, context) },
                "s_tmin" => e with { ChurnMinSigma = Number(key, value, context) },
                "s_tmax" => e with { ChurnMaxSigma = value.Trim().ToLowerInvariant() is "inf" or "infinity" ? double.PositiveInfinity : Number(key, value, context) },
                _ => e with { ChurnNoise = Number(key, value, context) },
            });
        }
        else
        {
            var f = Flow!;
            result = new SamplerSpec(null, key switch
            {
                "method" => f with
                {
                    Method = value.ToLowerInvariant() switch
                    {
                        "euler" => ProbabilityFlowMethod.Euler,
                        "heun" => ProbabilityFlowMethod.Heun,
                        _ => throw new FormatException($"sampler spec '{context}': method must be euler or heun, got '{value}'."),
                    }
                },
                "steps" => f with { Steps = Integer(key, value, context) },
                "sigma_max" or "sigma0" => f with { MaxSigma = (float)Number(key, value, context) },
                "sigma_min" => f with { MinSigma = (float)Number(key, value, context) },
                _ => f with
                {
                    FinalDenoise = value.ToLowerInvariant() switch
                    {
                        "true" or "1" or "yes" => true,
                        "false" or "0" or "no" => false,
                        _ => throw new FormatException($"sampler spec '{context}': final_denoise must be true or false, got '{value}'."),
                    }
                },
            });
        }
        try
        {
            result.Algorithm1?.Validate();
            result.Flow?.Validate();
            result.Edm?.Validate();
        }
        catch (ArgumentException e)
        {
            throw new FormatException($"sampler spec '{context}': {e.Message.TrimEnd('.')}.", e);
        }
        return result;
    }

    /// <summary>
    /// The same sampler keeping every <paramref name="k"/>-th iterate of each trajectory (<see cref="SamplingResult.Trajectories"/>;
    /// 0 keeps none). Not a key of the spec: what is kept does not change the samples. The EDM sampler keeps no iterates.
    /// </summary>
    /// <exception cref="InvalidSettingException">k &gt; 0 for the EDM sampler.</exception>
    public SamplerSpec SavingEvery(int k)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        return Kind switch
        {
            SamplerKind.Algorithm1 => Of(Algorithm1! with { SaveEvery = k }),
            SamplerKind.ProbabilityFlow => Of(Flow! with { SaveEvery = k }),
            _ when k == 0 => this,
            _ => throw new InvalidSettingException("save-every", "the edm sampler does not keep its iterates; use algorithm1 or flow"),
        };
    }

    /// <summary>"algorithm1", "flow" or "edm".</summary>
    public string Name => Kind switch
    {
        SamplerKind.Algorithm1 => "algorithm1",
        SamplerKind.ProbabilityFlow => "flow",
        _ => "edm",
    };

    /// <summary>Builds the sampler with the start mean and the number of images denoised per call.</summary>
    public ISampler Create(SamplingStart start, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (Edm is { } e) return new EdmSampler(e with { MeanImage = start.MeanImage, MeanValue = start.MeanValue, StartCovariance = start.Covariance, BatchSize = batchSize });
        return Algorithm1 is { } a
            ? new Algorithm1Sampler(a with { MeanImage = start.MeanImage, MeanValue = start.MeanValue, StartCovariance = start.Covariance, BatchSize = batchSize })
            : new ProbabilityFlowSampler(Flow! with { MeanImage = start.MeanImage, MeanValue = start.MeanValue, StartCovariance = start.Covariance, BatchSize = batchSize });
    }

    /// <summary>The canonical spec with every setting explicit, e.g. <c>algorithm1:variant=code,h0=0.01,beta=0.5,...</c>.</summary>
    public override string ToString() => Edm is { } e
        ? I($"edm:steps={e.Steps},rho={e.Rho:R},sigma_max={e.MaxSigma:R},sigma_min={e.MinSigma:R},s_churn={e.Churn:R},s_tmin={e.ChurnMinSigma:R},s_tmax={(double.IsPositiveInfinity(e.ChurnMaxSigma) ? "inf" : e.ChurnMaxSigma.ToString("R", CultureInfo.InvariantCulture))},s_noise={e.ChurnNoise:R}")
        : Algorithm1 is { } a
        ? I($"algorithm1:variant={a.Variant.ToString().ToLowerInvariant()},h0={a.InitialStep:R},beta={a.Beta:R},sigma0={a.InitialSigma:R},sigma_inf={a.FinalSigma:R},max_steps={a.MaxSteps},divergence_sigma={a.DivergenceSigma:R}")
        : I($"flow:method={Flow!.Method.ToString().ToLowerInvariant()},steps={Flow.Steps},sigma_max={Flow.MaxSigma:R},sigma_min={Flow.MinSigma:R},final_denoise={(Flow.FinalDenoise ? "true" : "false")}");

    /// <summary>The sampler and its settings in words, for reports.</summary>
    public string Explain() => Edm is { } e
        ? I($"EDM's Heun sampler (Karras et al. 2022): {e.Steps} noise levels σ_i = (σmax^(1/ρ) + i/(N−1)(σmin^(1/ρ) − σmax^(1/ρ)))^ρ with ρ = {e.Rho}, from {e.MaxSigma} to {e.MinSigma}, then one Euler step to σ = 0") +
          (e.Churn > 0 ? I($"; churn S_churn = {e.Churn} for σ in [{e.ChurnMinSigma}, {e.ChurnMaxSigma}], S_noise = {e.ChurnNoise}") : "; deterministic (no churn)")
        : Algorithm1 is { } a
        ? (a.Variant == Algorithm1Variant.Code
              ? "Algorithm 1, reference-code variant (step h_t = h0·t/(1 + h0·(t−1)) growing toward 1, and one final denoising step f(y), which returns clean images rather than images with σ∞ of noise left)"
              : "Algorithm 1, paper variant (fixed step h0, returns the last iterate)") +
          I($", h0 = {a.InitialStep}, β = {a.Beta}, σ0 = {a.InitialSigma}, σ∞ = {a.FinalSigma}, at most {a.MaxSteps} steps (marked diverged beyond σ_t > {a.DivergenceSigma})")
        : I($"deterministic probability flow ({Flow!.Method.ToString().ToLowerInvariant()}, {Flow.Steps} steps of a geometric σ schedule from {Flow.MaxSigma} to {Flow.MinSigma}") +
          (Flow.FinalDenoise ? ", then one final denoising step)" : ", returning the last iterate)");

    /// <summary>The settings as a JSON object (for experiment and sample records).</summary>
    public JsonObject ToJson()
    {
        if (Edm is { } e)
        {
            return new JsonObject
            {
                ["algorithm"] = "edm-heun",
                ["steps"] = e.Steps,
                ["rho"] = e.Rho,
                ["sigma_max"] = e.MaxSigma,
                ["sigma_min"] = e.MinSigma,
                ["s_churn"] = e.Churn,
                ["s_tmin"] = e.ChurnMinSigma,
                ["s_tmax"] = double.IsPositiveInfinity(e.ChurnMaxSigma) ? "inf" : e.ChurnMaxSigma,
                ["s_noise"] = e.ChurnNoise,
            };
        }
        if (Algorithm1 is { } a)
        {
            return new JsonObject
            {
                ["algorithm"] = "algorithm1",
                ["variant"] = a.Variant.ToString().ToLowerInvariant(),
                ["h0"] = a.InitialStep,
                ["beta"] = a.Beta,
                ["sigma0"] = a.InitialSigma,
                ["sigma_inf"] = a.FinalSigma,
                ["max_steps"] = a.MaxSteps,
                ["divergence_sigma"] = a.DivergenceSigma,
            };
        }
        return new JsonObject
        {
            ["algorithm"] = "probability-flow",
            ["method"] = Flow!.Method.ToString().ToLowerInvariant(),
            ["steps"] = Flow.Steps,
            ["sigma_max"] = Flow.MaxSigma,
            ["sigma_min"] = Flow.MinSigma,
            ["final_denoise"] = Flow.FinalDenoise,
        };
    }

    /// <inheritdoc/>
    public bool Equals(SamplerSpec? other) => other is not null && ToString() == other.ToString();

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as SamplerSpec);

    /// <inheritdoc/>
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(ToString());

    private static double Number(string key, string value, string context) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && double.IsFinite(v)
            ? v
            : throw new FormatException($"sampler spec '{context}': {key} must be a number, got '{value}'.");

    private static int Integer(string key, string value, string context) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw new FormatException($"sampler spec '{context}': {key} must be an integer (at most {int.MaxValue}), got '{value}'.");

    private static string I(FormattableString s) => FormattableString.Invariant(s);
}
