using System.Runtime.InteropServices;
using MemGen.Compute;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Tensors;

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
/// The iterates live in the denoiser's <see cref="IDenoiser.Backend"/>: for a network on a GPU the residual, its norms
/// and the update run on the device; per step only the norms come back and the injected noise (drawn on the host,
/// so a seed means the same samples on every backend) goes out; finished samples are copied back once.
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
        InitialNoise.CheckStart(o.MeanImage, o.StartCovariance, d);
        SampleMemory.Require(count, channels, height, width, o.BatchSize);
        var backend = denoiser.Backend;

        var samples = new Tensor(count, channels, height, width);
        var steps = new int[count];
        var finalSigma = new float[count];
        var outcomes = new SampleOutcome[count];
        var shape = new ImageShape(channels, height, width);
        if (o.SaveEvery > 0) SampledTrajectories.CheckMemory(count, shape, o.MaxSteps, o.SaveEvery, "Algorithm 1");
        var trajectories = o.SaveEvery > 0 ? new SampledTrajectories(count, shape, o.SaveEvery) : null;
        var iterate = new float[trajectories is null ? 0 : d];

        int capacity = Math.Min(o.BatchSize, count);
        var y = backend.Zeros(capacity, channels, height, width);
        var fy = y.ZerosLike();
        var residual = y.ZerosLike();
        var noise = y.ZerosLike();
        var sigmaIn = new float[capacity];
        var slotSample = new int[capacity];
        var slotRng = new DeterministicRng[capacity];
        var slotStep = new int[capacity];
        var slotState = new SlotState[capacity];
        var norms = new double[capacity];
        var start = new float[d];
        var noiseRows = new float[capacity * d];
        var updateRows = new List<int>(capacity);
        var stepSizes = new List<float>(capacity);
        var noiseScales = new List<float>(capacity);
        var retired = new bool[capacity];
        var before = new List<(int Slot, int Sample)>(); // copied out of y before the update (diverged)
        var after = new List<(int Slot, int Sample, bool Denoised)>(); // out of y after the update, or out of f(y)
        int active = 0, next = 0, finished = 0;

        void Load(int slot)
        {
            int k = next++;
            slotSample[slot] = k;
            slotRng[slot] = InitialNoise.Stream(seed, firstIndex + k);
            slotStep[slot] = 0;
            slotState[slot] = SlotState.Running;
            sigmaIn[slot] = o.InitialSigma;
            InitialNoise.Fill(start, slotRng[slot], o.MeanImage, o.MeanValue, o.InitialSigma, o.StartCovariance);
            y.CopyFrom(start, slot * d);
            trajectories?.Start(k, start);
        }

        void CopyOut(Tensor source, int slot, int sample) => source.CopyTo(slot * d, samples.Item(sample));

        float[] Iterate(int slot)
        {
            y.CopyTo(slot * d, iterate);
            return iterate;
        }

        while (active < capacity && next < count) Load(active++);
        while (active > 0)
        {
            if (active < capacity / 2 && next >= count)
            {
                // Shrink: the remaining images move into a smaller batch (rows 0..active−1 already hold them).
                var smaller = backend.Zeros(active, channels, height, width);
                backend.Copy(y, 0, smaller, 0, active * d);
                y = smaller;
                fy = y.ZerosLike();
                residual = y.ZerosLike();
                noise = y.ZerosLike();
                capacity = active;
                Array.Resize(ref sigmaIn, capacity);
            }
            for (int s = active; s < capacity; s++) sigmaIn[s] = 1f; // idle rows: any valid σ
            denoiser.Denoise(y, fy, sigmaIn);
            backend.Subtract(y, fy, residual); // r = y − f(y)
            backend.RowNorms(residual, norms.AsSpan(0, active));

            updateRows.Clear();
            stepSizes.Clear();
            noiseScales.Clear();
            before.Clear();
            after.Clear();
            Array.Clear(retired);
            for (int s = 0; s < active; s++)
            {
                int k = slotSample[s];
                if (slotState[s] == SlotState.Finalizing)
                {
                    after.Add((s, k, true));
                    retired[s] = true;
                    continue;
                }
                int t = ++slotStep[s];
                double sigma = norms[s] / Math.Sqrt(d);
                finalSigma[k] = (float)sigma;
                steps[k] = t;
                if (!(sigma <= o.DivergenceSigma))
                {
                    outcomes[k] = SampleOutcome.SigmaExceeded;
                    before.Add((s, k));
                    retired[s] = true;
                    continue;
                }
                double h = o.StepSize(t);
                double a = 1 - o.Beta * h, b = 1 - h;
                updateRows.Add(s);
                stepSizes.Add((float)h);
                noiseScales.Add((float)(sigma * Math.Sqrt(Math.Max(0.0, a * a - b * b))));
                sigmaIn[s] = (float)(sigma * a); // noise expected after this step
                if (sigma <= o.FinalSigma)
                {
                    outcomes[k] = SampleOutcome.Converged;
                    if (o.Variant == Algorithm1Variant.Code)
                    {
                        slotState[s] = SlotState.Finalizing;
                    }
                    else
                    {
                        after.Add((s, k, false));
                        retired[s] = true;
                    }
                }
                else if (t >= o.MaxSteps)
                {
                    outcomes[k] = SampleOutcome.MaxStepsExceeded;
                    after.Add((s, k, false));
                    retired[s] = true;
                }
            }

            foreach (var (slot, sample) in before)
            {
                CopyOut(y, slot, sample);
                trajectories?.Finish(sample, slotStep[slot] - 1, Iterate(slot)); // no update at this step: still y_{t−1}
            }
            if (updateRows.Count > 0)
            {
                // z_t of each updated image, from its own stream: independent, so drawn in parallel.
                int updates = updateRows.Count;
                void Draw(int j) => slotRng[updateRows[j]].FillNormal(noiseRows.AsSpan(j * d, d));
                if ((long)updates * d < 1 << 15) for (int j = 0; j < updates; j++) Draw(j);
                else Parallel.For(0, updates, Draw);
                noise.CopyFrom(noiseRows.AsSpan(0, updates * d), 0);
                backend.Algorithm1Step(y, residual, noise, CollectionsMarshal.AsSpan(updateRows),
                    CollectionsMarshal.AsSpan(stepSizes), CollectionsMarshal.AsSpan(noiseScales));
            }
            foreach (var (slot, sample, denoised) in after) CopyOut(denoised ? fy : y, slot, sample);
            if (trajectories is not null)
            {
                foreach (int s in updateRows)
                    if (trajectories.Keeps(slotStep[s])) trajectories.Step(slotSample[s], slotStep[s], Iterate(s));
                foreach (var (slot, sample, _) in after) trajectories.Finish(sample, slotStep[slot], Iterate(slot));
            }

            // Refill finished slots with pending samples; once none are pending, move the last running ones down.
            for (int s = 0; s < active; s++)
            {
                if (!retired[s]) continue;
                progress?.Report(++finished);
                if (next < count)
                {
                    Load(s);
                    retired[s] = false;
                }
            }
            int kept = 0;
            for (int s = 0; s < active; s++)
            {
                if (retired[s]) continue;
                if (s != kept)
                {
                    backend.Copy(y, s * d, y, kept * d, d);
                    slotSample[kept] = slotSample[s];
                    slotRng[kept] = slotRng[s];
                    slotStep[kept] = slotStep[s];
                    slotState[kept] = slotState[s];
                    sigmaIn[kept] = sigmaIn[s];
                }
                kept++;
            }
            if (kept < active) backend.Clear(y, kept * d, (active - kept) * d); // idle rows: keep them finite
            for (int s = kept; s < active; s++) sigmaIn[s] = 1f;
            active = kept;
        }
        return new SamplingResult(samples, steps, finalSigma, outcomes, seed, firstIndex, o.Describe(), denoiser.Name, trajectories);
    }
}
