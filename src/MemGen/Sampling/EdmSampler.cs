using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Sampling;

/// <summary>
/// Settings of EDM's Heun sampler (Karras et al. 2022, Algorithm 2; docs/science.md §3, beyond the paper). The defaults
/// are EDM's: 18 steps, ρ = 7, σ from 80 to 0.002, no churn (the deterministic Algorithm 1 of that paper).
/// </summary>
public sealed record EdmSamplerOptions
{
    /// <summary>N: the number of noise levels σ_0 … σ_{N−1} (then σ_N = 0); 2N − 1 denoiser calls per sample.</summary>
    public int Steps { get; init; } = 18;

    /// <summary>ρ of the schedule σ_i = (σmax^(1/ρ) + i/(N−1)·(σmin^(1/ρ) − σmax^(1/ρ)))^ρ.</summary>
    public double Rho { get; init; } = 7;

    /// <summary>σ_0 = σmax, the start's noise.</summary>
    public float MaxSigma { get; init; } = 80f;

    /// <summary>σ_{N−1} = σmin, the last level before the final step to σ = 0.</summary>
    public float MinSigma { get; init; } = 0.002f;

    /// <summary>S_churn: total stochasticity; each step with S_tmin ≤ σ_i ≤ S_tmax first raises σ by γ = min(S_churn/N, √2 − 1).</summary>
    public double Churn { get; init; }

    /// <summary>S_tmin: churn only at σ_i ≥ this.</summary>
    public double ChurnMinSigma { get; init; }

    /// <summary>S_tmax: churn only at σ_i ≤ this.</summary>
    public double ChurnMaxSigma { get; init; } = double.PositiveInfinity;

    /// <summary>S_noise: scale of the noise added by churn.</summary>
    public double ChurnNoise { get; init; } = 1;

    /// <summary>m: the mean image of the start y0 = m + σmax·z; null: <see cref="MeanValue"/> everywhere.</summary>
    public float[]? MeanImage { get; init; }

    /// <summary>The constant start mean used when <see cref="MeanImage"/> is null.</summary>
    public float MeanValue { get; init; } = 0.5f;

    /// <summary>Σ of a Gaussian start y0 = m + (Σ + σ0²I)^½·z; null: y0 = m + σ0·z.</summary>
    public StartCovariance? StartCovariance { get; init; }

    /// <summary>Images denoised per call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>These options with the start mean set to the mean image of <paramref name="training"/>.</summary>
    public EdmSamplerOptions WithTrainingMean(ImageSet training) => this with { MeanImage = ImageStatistics.MeanImage(training) };

    /// <summary>The schedule σ_0 = σmax &gt; … &gt; σ_{N−1} = σmin, then σ_N = 0 (N + 1 values).</summary>
    public double[] Schedule()
    {
        var s = new double[Steps + 1];
        double a = Math.Pow(MaxSigma, 1 / Rho), b = Math.Pow(MinSigma, 1 / Rho);
        for (int i = 0; i < Steps; i++)
            s[i] = Steps == 1 ? MaxSigma : Math.Pow(a + (double)i / (Steps - 1) * (b - a), Rho);
        return s;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"EDM sampler: steps = {Steps} must be positive.");
        if (!(Rho > 0) || !double.IsFinite(Rho)) throw new ArgumentException($"EDM sampler: rho = {Rho} must be positive.");
        if (!(MinSigma > 0) || !(MaxSigma >= MinSigma) || !float.IsFinite(MaxSigma))
            throw new ArgumentException($"EDM sampler: need 0 < sigma_min ({MinSigma}) ≤ sigma_max ({MaxSigma}).");
        if (!(Churn >= 0) || !double.IsFinite(Churn)) throw new ArgumentException($"EDM sampler: s_churn = {Churn} must be non-negative.");
        if (!(ChurnMinSigma >= 0) || !(ChurnMaxSigma >= ChurnMinSigma))
            throw new ArgumentException($"EDM sampler: need 0 ≤ s_tmin ({ChurnMinSigma}) ≤ s_tmax ({ChurnMaxSigma}).");
        if (!(ChurnNoise >= 0) || !double.IsFinite(ChurnNoise)) throw new ArgumentException($"EDM sampler: s_noise = {ChurnNoise} must be non-negative.");
        if (BatchSize <= 0) throw new ArgumentException($"EDM sampler: batch size {BatchSize} must be positive.");
    }

    /// <summary>A one-line description of the settings.</summary>
    public string Describe() => FormattableString.Invariant(
        $"edm-heun steps={Steps} rho={Rho} sigma_max={MaxSigma} sigma_min={MinSigma} s_churn={Churn} s_tmin={ChurnMinSigma} s_tmax={ChurnMaxSigma} s_noise={ChurnNoise} mean={(MeanImage is null ? MeanValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : "image")}{(StartCovariance is null ? "" : " covariance=data")}");
}

/// <summary>
/// EDM's Heun sampler (Karras et al. 2022, Algorithm 2): on the ρ-schedule, optionally raise σ_i to σ̂ = σ_i(1 + γ) with
/// fresh noise, take an Euler step of dy/dσ = (y − f(y; σ))/σ to σ_{i+1} and correct it with the slope there (Heun), except
/// into σ = 0, where the Euler step returns f(y; σ_{N−1}). The denoiser is told σ̂ and σ_{i+1} (a noise-conditioned
/// network needs them; a blind one ignores them). All randomness comes from the stream (seed, sample index): the start
/// y0 = m + σmax·z first, then the churn noise, so results do not depend on the batch size.
/// </summary>
public sealed class EdmSampler : ISampler
{
    /// <summary>Creates a sampler with validated <paramref name="options"/>.</summary>
    public EdmSampler(EdmSamplerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The settings.</summary>
    public EdmSamplerOptions Options { get; }

    /// <inheritdoc/>
    public SamplerSpec Spec => SamplerSpec.Of(Options);

    /// <summary>Draws samples firstIndex .. firstIndex + count − 1; <paramref name="progress"/> gets finished samples.</summary>
    public SamplingResult Sample(IDenoiser denoiser, int count, int channels, int height, int width, long seed,
        int firstIndex = 0, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), "Sample count must be positive.");
        if (firstIndex < 0) throw new ArgumentOutOfRangeException(nameof(firstIndex));
        var o = Options;
        int d = channels * height * width;
        InitialNoise.CheckStart(o.MeanImage, o.StartCovariance, d);
        SampleMemory.Require(count, channels, height, width, o.BatchSize);
        var schedule = o.Schedule();
        double gammaMax = Math.Min(o.Churn / o.Steps, Math.Sqrt(2) - 1);
        var samples = new Tensor(count, channels, height, width);
        var steps = new int[count];
        var finalSigma = new float[count];
        var outcomes = new SampleOutcome[count];

        for (int start = 0; start < count; start += o.BatchSize)
        {
            int b = Math.Min(o.BatchSize, count - start);
            var y = new Tensor(b, channels, height, width);
            var f = y.ZerosLike();
            var trial = y.ZerosLike();
            var slope = new float[b * d];
            var sigmas = new float[b];
            var streams = new DeterministicRng[b];
            var churn = new float[d];
            for (int k = 0; k < b; k++)
            {
                streams[k] = InitialNoise.Stream(seed, firstIndex + start + k);
                InitialNoise.Fill(y.Item(k), streams[k], o.MeanImage, o.MeanValue, o.MaxSigma, o.StartCovariance);
            }

            for (int i = 0; i < o.Steps; i++)
            {
                double si = schedule[i], next = schedule[i + 1];
                double gamma = si >= o.ChurnMinSigma && si <= o.ChurnMaxSigma ? gammaMax : 0;
                double hat = si * (1 + gamma);
                if (gamma > 0)
                {
                    float scale = (float)(o.ChurnNoise * Math.Sqrt(hat * hat - si * si));
                    for (int k = 0; k < b; k++)
                    {
                        streams[k].FillNormal(churn, 0f, scale);
                        var yk = y.Item(k);
                        for (int j = 0; j < d; j++) yk[j] += churn[j];
                    }
                }
                Array.Fill(sigmas, (float)hat);
                denoiser.Denoise(y, f, sigmas);
                float ds = (float)(next - hat);
                for (int j = 0; j < b * d; j++) slope[j] = (float)((y.Data[j] - f.Data[j]) / hat);
                if (next == 0)
                {
                    // The Euler step into σ = 0 lands exactly on f(y; σ̂).
                    f.Data.AsSpan(0, b * d).CopyTo(y.Data);
                    break;
                }
                for (int j = 0; j < b * d; j++) trial.Data[j] = y.Data[j] + ds * slope[j];
                Array.Fill(sigmas, (float)next);
                denoiser.Denoise(trial, f, sigmas);
                for (int j = 0; j < b * d; j++)
                    y.Data[j] += 0.5f * ds * (slope[j] + (float)((trial.Data[j] - f.Data[j]) / next));
            }

            for (int k = 0; k < b; k++)
            {
                var ys = y.Item(k);
                bool finite = true;
                for (int j = 0; j < d; j++) finite &= float.IsFinite(ys[j]);
                int n = start + k;
                finalSigma[n] = 0f; // the last step goes to σ = 0
                steps[n] = o.Steps;
                outcomes[n] = finite ? SampleOutcome.Converged : SampleOutcome.SigmaExceeded;
                ys.CopyTo(samples.Item(n));
            }
            progress?.Report(start + b);
        }
        return new SamplingResult(samples, steps, finalSigma, outcomes, seed, firstIndex, o.Describe(), denoiser.Name, null);
    }
}
