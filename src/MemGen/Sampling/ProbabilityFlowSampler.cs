using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Sampling;

/// <summary>Integrator of the probability-flow ODE.</summary>
public enum ProbabilityFlowMethod
{
    /// <summary>First order: one denoiser call per step.</summary>
    Euler,

    /// <summary>Second order (trapezoidal correction): two denoiser calls per step, except into σ = 0.</summary>
    Heun,
}

/// <summary>Settings of the deterministic probability-flow sampler (docs/science.md §3, beyond the paper).</summary>
public sealed record ProbabilityFlowOptions
{
    /// <summary>Euler (default) or Heun.</summary>
    public ProbabilityFlowMethod Method { get; init; } = ProbabilityFlowMethod.Euler;

    /// <summary>Number of steps of the geometric σ schedule from <see cref="MaxSigma"/> to <see cref="MinSigma"/>.</summary>
    public int Steps { get; init; } = 100;

    /// <summary>σ of the start y0 = m + σmax·z, the first schedule level.</summary>
    public float MaxSigma { get; init; } = 1f;

    /// <summary>The last schedule level.</summary>
    public float MinSigma { get; init; } = 0.01f;

    /// <summary>Return f(y; σmin) (one final denoising step) instead of the last iterate.</summary>
    public bool FinalDenoise { get; init; } = true;

    /// <summary>m: the mean image of the start; null: <see cref="MeanValue"/> everywhere.</summary>
    public float[]? MeanImage { get; init; }

    /// <summary>The constant start mean used when <see cref="MeanImage"/> is null.</summary>
    public float MeanValue { get; init; } = 0.5f;

    /// <summary>Σ of a Gaussian start y0 = m + (Σ + σ0²I)^½·z; null: y0 = m + σ0·z.</summary>
    public StartCovariance? StartCovariance { get; init; }

    /// <summary>Images denoised per call.</summary>
    public int BatchSize { get; init; } = 64;

    /// <summary>
    /// k &gt; 0: keep every k-th iterate of each trajectory (steps 0, k, 2k, … and the last, before any final denoising)
    /// in <see cref="SamplingResult.Trajectories"/>; 0 (default): keep none.
    /// </summary>
    public int SaveEvery { get; init; }

    /// <summary>These options with the start mean set to the mean image of <paramref name="training"/>.</summary>
    public ProbabilityFlowOptions WithTrainingMean(ImageSet training) => this with { MeanImage = ImageStatistics.MeanImage(training) };

    /// <summary>The schedule σ_0 = σmax > ... > σ_Steps = σmin (geometric).</summary>
    public float[] Schedule()
    {
        var s = new float[Steps + 1];
        for (int i = 0; i <= Steps; i++)
            s[i] = (float)(MaxSigma * Math.Pow((double)MinSigma / MaxSigma, (double)i / Steps));
        s[Steps] = MinSigma;
        return s;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Steps <= 0) throw new ArgumentException($"Probability flow: steps = {Steps} must be positive.");
        if (!(MinSigma > 0) || !(MaxSigma > MinSigma) || !float.IsFinite(MaxSigma))
            throw new ArgumentException($"Probability flow: need 0 < sigma_min ({MinSigma}) < sigma_max ({MaxSigma}).");
        if (BatchSize <= 0) throw new ArgumentException($"Probability flow: batch size {BatchSize} must be positive.");
        if (SaveEvery < 0) throw new ArgumentException($"Probability flow: save every {SaveEvery} steps must not be negative.");
    }

    /// <summary>A one-line description of the settings.</summary>
    public string Describe() =>
        $"probability-flow method={Method} steps={Steps} sigma_max={MaxSigma} sigma_min={MinSigma} final_denoise={FinalDenoise} mean={(MeanImage is null ? MeanValue.ToString(System.Globalization.CultureInfo.InvariantCulture) : "image")}{(StartCovariance is null ? "" : " covariance=data")}" +
        (SaveEvery > 0 ? $" save_every={SaveEvery}" : "");
}

/// <summary>
/// Deterministic probability-flow sampling with a (blind or not) denoiser on a fixed geometric σ schedule:
/// y ← y + (σ_{i+1} − σ_i)·(y − f(y; σ_i))/σ_i (Euler), or its Heun correction. The only randomness is the start
/// y0 = m + σmax·z from the stream (seed, sample index), so results do not depend on the batch size.
/// Non-blind denoisers receive the schedule's σ_i; blind ones estimate it themselves.
/// </summary>
public sealed class ProbabilityFlowSampler : ISampler
{
    /// <summary>Creates a sampler with validated <paramref name="options"/>.</summary>
    public ProbabilityFlowSampler(ProbabilityFlowOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The settings.</summary>
    public ProbabilityFlowOptions Options { get; }

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
        var samples = new Tensor(count, channels, height, width);
        var steps = new int[count];
        var finalSigma = new float[count];
        var outcomes = new SampleOutcome[count];
        var shape = new ImageShape(channels, height, width);
        if (o.SaveEvery > 0) SampledTrajectories.CheckMemory(count, shape, o.Steps, o.SaveEvery, "probability flow");
        var trajectories = o.SaveEvery > 0 ? new SampledTrajectories(count, shape, o.SaveEvery) : null;

        for (int start = 0; start < count; start += o.BatchSize)
        {
            int b = Math.Min(o.BatchSize, count - start);
            var y = new Tensor(b, channels, height, width);
            var f = y.ZerosLike();
            var trial = y.ZerosLike();
            var slope = new float[b * d];
            var sigmas = new float[b];
            for (int k = 0; k < b; k++)
            {
                InitialNoise.Fill(y.Item(k), InitialNoise.Stream(seed, firstIndex + start + k), o.MeanImage, o.MeanValue, o.MaxSigma, o.StartCovariance);
                trajectories?.Start(start + k, y.Item(k));
            }

            for (int i = 0; i < o.Steps; i++)
            {
                float s0 = schedule[i], s1 = schedule[i + 1], ds = s1 - s0;
                Array.Fill(sigmas, s0);
                denoiser.Denoise(y, f, sigmas);
                for (int j = 0; j < b * d; j++) slope[j] = (y.Data[j] - f.Data[j]) / s0;
                if (o.Method == ProbabilityFlowMethod.Euler)
                {
                    for (int j = 0; j < b * d; j++) y.Data[j] += ds * slope[j];
                }
                else
                {
                    for (int j = 0; j < b * d; j++) trial.Data[j] = y.Data[j] + ds * slope[j];
                    Array.Fill(sigmas, s1);
                    denoiser.Denoise(trial, f, sigmas);
                    for (int j = 0; j < b * d; j++)
                        y.Data[j] += 0.5f * ds * (slope[j] + (trial.Data[j] - f.Data[j]) / s1);
                }
                if (trajectories is not null)
                    for (int k = 0; k < b; k++) trajectories.Step(start + k, i + 1, y.Item(k));
            }

            Array.Fill(sigmas, schedule[^1]);
            denoiser.Denoise(y, f, sigmas);
            for (int k = 0; k < b; k++)
            {
                var ys = y.Item(k);
                var fs = f.Item(k);
                double norm2 = 0;
                bool finite = true;
                for (int j = 0; j < d; j++)
                {
                    double r = ys[j] - fs[j];
                    norm2 += r * r;
                    finite &= float.IsFinite(ys[j]) && float.IsFinite(fs[j]);
                }
                int n = start + k;
                finalSigma[n] = (float)Math.Sqrt(norm2 / d);
                steps[n] = o.Steps;
                outcomes[n] = finite ? SampleOutcome.Converged : SampleOutcome.SigmaExceeded;
                (o.FinalDenoise ? fs : ys).CopyTo(samples.Item(n));
                trajectories?.Finish(n, o.Steps, ys);
            }
            progress?.Report(start + b);
        }
        return new SamplingResult(samples, steps, finalSigma, outcomes, seed, firstIndex, o.Describe(), denoiser.Name, trajectories);
    }
}
