using MemGen.Denoisers;
using MemGen.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace MemGen.Sampling;

/// <summary>
/// Algorithm 1 of docs/science.md §3: stochastic coarse-to-fine gradient ascent on the denoiser's implicit log-density.
/// <code>
/// y0 = m + σ0·z;  repeat t = 1, 2, ...:  r = y − f(y);  σ_t = ‖r‖/√d;
///   γ_t = σ_t·sqrt((1 − βh_t)² − (1 − h_t)²);  y ← y − h_t·r + γ_t·z
/// until σ_t ≤ σ∞   (σ_t > divergence σ or t = max_T: marked as not converging)
/// return y (paper) or f(y) (code)
/// </code>
/// </summary>
/// <remarks>
/// Batched with per-image σ_t, step count and stopping: a finished image's slot is refilled with the next
/// pending image, and the batch shrinks once fewer than half of its slots are busy. The noise of sample i
/// (its start and its t-th injected noise) comes from <see cref="DeterministicRng"/>(seed, i) only, so it is the
/// same for any batch size and any denoiser. Denoisers that need σ get the noise level each image is expected
/// to carry, σ_{t−1}·(1 − β·h_{t−1}) (σ0 at the first step).
/// </remarks>
public sealed class Algorithm1Sampler : ISampler
{
    private enum SlotState { Running, Finalizing }

    /// <summary>Creates a sampler with validated <paramref name="options"/>.</summary>
    public Algorithm1Sampler(Algorithm1Options options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        Options = options;
    }

    /// <summary>The settings.</summary>
    public Algorithm1Options Options { get; }

    /// <inheritdoc/>
    public SamplerSpec Spec => SamplerSpec.Of(Options);

    /// <summary>
    /// Draws the samples with global indices <paramref name="firstIndex"/> .. firstIndex + count − 1 of size
    /// (channels, height, width) from <paramref name="denoiser"/>. <paramref name="progress"/> receives the number of
    /// finished samples.
    /// </summary>
    public SamplingResult Sample(IDenoiser denoiser, int count, int channels, int height, int width, long seed,
        int firstIndex = 0, IProgress<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        if (count <= 0) throw new ArgumentOutOfRangeException(nameof(count), "Sample count must be positive.");
        if (firstIndex < 0) throw new ArgumentOutOfRangeException(nameof(firstIndex));
        int d = channels * height * width;
        var o = Options;
        InitialNoise.CheckMean(o.MeanImage, d);
        SampleMemory.Require(count, channels, height, width, o.BatchSize);

        var samples = new Tensor(count, channels, height, width);
        var steps = new int[count];
        var finalSigma = new float[count];
        var outcomes = new SampleOutcome[count];

        int capacity = Math.Min(o.BatchSize, count);
        var y = new Tensor(capacity, channels, height, width);
        var fy = y.ZerosLike();
        var sigmaIn = new float[capacity];
        var slotSample = new int[capacity];
        var slotRng = new DeterministicRng[capacity];
        var slotStep = new int[capacity];
        var slotState = new SlotState[capacity];
        var z = new float[d];
        var residual = new float[d];
        int active = 0, next = 0, finished = 0;

        void Load(int slot)
        {
            int k = next++;
            slotSample[slot] = k;
            slotRng[slot] = InitialNoise.Stream(seed, firstIndex + k);
            slotStep[slot] = 0;
            slotState[slot] = SlotState.Running;
            sigmaIn[slot] = o.InitialSigma;
            InitialNoise.Fill(y.Item(slot), slotRng[slot], o.MeanImage, o.MeanValue, o.InitialSigma);
        }

        while (active < capacity && next < count) Load(active++);
        while (active > 0)
        {
            if (active < capacity / 2 && next >= count)
            {
                // Shrink: the remaining images move into a smaller batch (rows 0..active−1 already hold them).
                var smaller = new Tensor(active, channels, height, width);
                y.Span[..(active * d)].CopyTo(smaller.Span);
                y = smaller;
                fy = y.ZerosLike();
                capacity = active;
                Array.Resize(ref sigmaIn, capacity);
            }
            for (int s = active; s < capacity; s++) sigmaIn[s] = 1f; // idle rows: any valid σ
            denoiser.Denoise(y, fy, sigmaIn);

            for (int s = 0; s < active; s++)
            {
                var ys = y.Item(s);
                var fs = fy.Item(s);
                int k = slotSample[s];
                bool retire;
                if (slotState[s] == SlotState.Finalizing)
                {
                    fs.CopyTo(samples.Item(k));
                    retire = true;
                }
                else
                {
                    int t = ++slotStep[s];
                    TensorPrimitives.Subtract(ys, fs, residual); // r = y − f(y)
                    double sigma = TensorPrimitives.Norm<float>(residual) / Math.Sqrt(d);
                    finalSigma[k] = (float)sigma;
                    steps[k] = t;
                    if (!(sigma <= o.DivergenceSigma))
                    {
                        outcomes[k] = SampleOutcome.SigmaExceeded;
                        ys.CopyTo(samples.Item(k));
                        retire = true;
                    }
                    else
                    {
                        double h = o.StepSize(t);
                        double a = 1 - o.Beta * h, b = 1 - h;
                        float gamma = (float)(sigma * Math.Sqrt(Math.Max(0.0, a * a - b * b)));
                        slotRng[s].FillNormal(z);
                        float hf = (float)h;
                        TensorPrimitives.MultiplyAdd(residual, -hf, ys, ys);  // y − h·r
                        TensorPrimitives.MultiplyAdd(z, gamma, ys, ys);       // + γ·z
                        sigmaIn[s] = (float)(sigma * a); // noise expected after this step
                        if (sigma <= o.FinalSigma)
                        {
                            outcomes[k] = SampleOutcome.Converged;
                            if (o.Variant == Algorithm1Variant.Code)
                            {
                                slotState[s] = SlotState.Finalizing;
                                retire = false;
                            }
                            else
                            {
                                ys.CopyTo(samples.Item(k));
                                retire = true;
                            }
                        }
                        else if (t >= o.MaxSteps)
                        {
                            outcomes[k] = SampleOutcome.MaxStepsExceeded;
                            ys.CopyTo(samples.Item(k));
                            retire = true;
                        }
                        else
                        {
                            retire = false;
                        }
                    }
                }

                if (!retire) continue;
                progress?.Report(++finished);
                if (next < count)
                {
                    Load(s);
                }
                else
                {
                    // Move the last active slot into this one and revisit index s.
                    int last = --active;
                    if (last != s)
                    {
                        y.Item(last).CopyTo(y.Item(s));
                        fy.Item(last).CopyTo(fy.Item(s));
                        slotSample[s] = slotSample[last];
                        slotRng[s] = slotRng[last];
                        slotStep[s] = slotStep[last];
                        slotState[s] = slotState[last];
                        sigmaIn[s] = sigmaIn[last];
                        s--;
                    }
                    y.Item(last).Clear(); // idle row: keep it finite
                    sigmaIn[last] = 1f;
                }
            }
        }
        return new SamplingResult(samples, steps, finalSigma, outcomes, seed, firstIndex, o.Describe(), denoiser.Name);
    }
}
