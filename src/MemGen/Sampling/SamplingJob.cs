using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Compute;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Runs;

namespace MemGen.Sampling;

/// <summary>Everything <c>memgen sample</c> needs: which denoiser, which sampler, how many samples, where to write them.</summary>
public sealed record SamplingJobSettings
{
    /// <summary>The denoiser (a <see cref="DenoiserSpec"/>).</summary>
    public required string Denoiser { get; init; }

    /// <summary>The sampler (a <see cref="SamplerSpec"/>).</summary>
    public string Sampler { get; init; } = "algorithm1";

    /// <summary>Number of samples K.</summary>
    public int Count { get; init; } = 16;

    /// <summary>Sample i uses the noise stream (seed, i) only.</summary>
    public long Seed { get; init; }

    /// <summary>Output folder (created if missing).</summary>
    public required string Out { get; init; }

    /// <summary>Images denoised per call.</summary>
    public int Batch { get; init; } = 64;

    /// <summary>Sample shape CxHxW; required for the identity denoiser, else the denoiser's own size.</summary>
    public string? Shape { get; init; }

    /// <summary>
    /// Mean m of the start y0 = m + σ0·z: <c>auto</c> (the data's mean image for empirical/wiener denoisers, else 0.5),
    /// <c>data</c>, a number, or a dataset spec whose mean image is used.
    /// </summary>
    public string StartMean { get; init; } = "auto";

    /// <summary>
    /// A dataset spec whose covariance Σ shapes the start into y0 = m + (Σ + σ0²I)^½·z (the Gaussian start,
    /// docs/science.md §3.4); null: y0 = m + σ0·z.
    /// </summary>
    public string? StartCovariance { get; init; }

    /// <summary>Overwrite samples already in <see cref="Out"/>.</summary>
    public bool Force { get; init; }

    /// <summary>
    /// Keep every k-th iterate of each trajectory (the start, every multiple of k, the last) in iterates.npy with their steps
    /// in iterate-steps.csv; 0 (default): keep none.
    /// </summary>
    public int SaveEvery { get; init; }
}

/// <summary>What a sampling job produced.</summary>
/// <param name="Result">The samples and their trajectory statistics.</param>
/// <param name="Shape">The sample shape.</param>
/// <param name="Sampler">The sampler that ran (canonical spec).</param>
/// <param name="Elapsed">Sampling time.</param>
public sealed record SamplingJobResult(SamplingResult Result, ImageShape Shape, SamplerSpec Sampler, TimeSpan Elapsed);

/// <summary>
/// <c>memgen sample</c>: draws samples from any denoiser with any sampler (docs/science.md §3) and writes samples.npy,
/// samples.png (grid), trajectories.csv and sample-config.json into the output folder. Every input is checked before
/// anything is written; a failure leaves no output files behind. Invalid input raises an
/// <see cref="InvalidSettingException"/> naming the setting (denoiser, sampler, count, batch, shape, start-mean, out).
/// </summary>
public static class SamplingJob
{
    /// <summary>Files a sampling job writes into its output folder.</summary>
    public static IReadOnlyList<string> OutputFiles { get; } = ["samples.npy", "samples.png", "trajectories.csv", "sample-config.json", IteratesFile, IterateStepsFile];

    /// <summary>The kept iterates (with <see cref="SamplingJobSettings.SaveEvery"/>): float32 [samples, L, C, H, W], a shorter trajectory padded with its last iterate.</summary>
    public const string IteratesFile = "iterates.npy";

    /// <summary>The step of each kept iterate: sample, index, step (padding left out).</summary>
    public const string IterateStepsFile = "iterate-steps.csv";

    /// <summary>Runs the job (a network denoiser on <paramref name="backend"/>, the CPU when null); <paramref name="progress"/> receives the number of finished samples.</summary>
    public static SamplingJobResult Run(SamplingJobSettings settings, IProgress<int>? progress = null, ComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // 1. Everything that can be checked without reading data.
        var denoiserSpec = DenoiserSpec.ParseAs("denoiser", settings.Denoiser);
        var samplerSpec = SamplerSpec.ParseAs("sampler", settings.Sampler);
        if (settings.SaveEvery < 0) throw new InvalidSettingException("save-every", $"must not be negative, got {settings.SaveEvery}");
        if (settings.Count < 1) throw new InvalidSettingException("count", $"must be at least 1, got {settings.Count}");
        if (settings.Batch < 1) throw new InvalidSettingException("batch", $"must be at least 1, got {settings.Batch}");
        ImageShape? shapeGiven = null;
        if (settings.Shape is not null)
            shapeGiven = ParseShape(settings.Shape) ?? throw new InvalidSettingException("shape",
                $"'{settings.Shape}' is not CxHxW with positive integers, at most {ImageShape.MaxChannels} channels and {ImageShape.MaxPixels} pixels (e.g. 1x28x28)");
        var (meanValue, meanSpec) = ParseStartMean(settings.StartMean);
        var covarianceSpec = settings.StartCovariance is null ? null : DatasetSpec.ParseAs("start-covariance", settings.StartCovariance);
        if (File.Exists(settings.Out)) throw new InvalidSettingException("out", $"{settings.Out} is a file, not a directory");
        using var folderLock = RunFolderLock.Acquire(settings.Out);
        if (!settings.Force)
            foreach (var f in OutputFiles)
                if (File.Exists(Path.Combine(settings.Out, f))) throw new InvalidSettingException("out", $"{settings.Out} already holds {f} (use --force to overwrite)");

        // 2. Read the denoiser (checkpoint or data) and the start mean.
        using (var opened = denoiserSpec.OpenAs("denoiser", settings.Batch, backend))
        {
            string kind = denoiserSpec.Kind.ToString().ToLowerInvariant();
            var shape = shapeGiven ?? opened.Shape ?? throw new InvalidSettingException("shape", $"is required with the {kind} denoiser (it has no image size)");
            if (opened.Data is not null && shapeGiven is ImageShape given && given != opened.Shape)
                throw new InvalidSettingException("shape", $"{Describe(given)} does not match the denoiser's data ({Describe(opened.Shape!.Value)})");
            if (opened.Checkpoint is { } meta && shapeGiven is ImageShape g2)
            {
                if (g2.Channels != meta.Channels) throw new InvalidSettingException("shape", $"the checkpoint takes {meta.Channels}-channel images, not {g2.Channels}");
                int div = meta.Spec.SizeDivisor;
                if (g2.Height % div != 0 || g2.Width % div != 0) throw new InvalidSettingException("shape", $"{meta.Spec} needs sides divisible by {div}");
            }
            var meanData = meanSpec is null ? null : LoadStartData("start-mean", meanSpec, shape);
            var start = StartOf(settings.StartMean, meanValue, meanSpec, meanData, opened, kind);
            if (covarianceSpec is not null)
            {
                // The same spec for both (the usual case) is read once.
                var data = meanData is not null && covarianceSpec.ToString() == meanSpec!.ToString() ? meanData : LoadStartData("start-covariance", covarianceSpec, shape);
                if (data.Count < 2) throw new InvalidSettingException("start-covariance", $"'{covarianceSpec}' has {data.Count} image(s); a covariance needs at least 2");
                start = start with { Covariance = Sampling.StartCovariance.Of(data), Description = $"{start.Description}, covariance of {covarianceSpec}" };
            }
            var sampler = samplerSpec.SavingEvery(settings.SaveEvery).Create(start, settings.Batch);

            // 3. Sample.
            var clock = Stopwatch.StartNew();
            var started = DateTimeOffset.UtcNow;
            if (settings.SaveEvery > 0)
            {
                try
                {
                    SampledTrajectories.CheckMemory(settings.Count, shape, samplerSpec.Algorithm1?.MaxSteps ?? samplerSpec.Flow!.Steps, settings.SaveEvery, "kept iterates");
                }
                catch (ArgumentException e)
                {
                    throw new InvalidSettingException("save-every", e.Message.TrimEnd('.'), e);
                }
            }
            var result = sampler.Sample(opened.Denoiser, settings.Count, shape.Channels, shape.Height, shape.Width, settings.Seed, progress: progress);
            var elapsed = clock.Elapsed;
            result.RequireFinite();

            // 4. Write (all or nothing).
            var config = ConfigJson(settings, denoiserSpec, samplerSpec, opened, shape, start, result, elapsed.TotalSeconds, started);
            var files = new SampleSetFiles(Path.Combine(settings.Out, "samples.npy"), Path.Combine(settings.Out, "trajectories.csv"), Path.Combine(settings.Out, "samples.png"));
            try
            {
                Directory.CreateDirectory(settings.Out);
                files.Write(result);
                if (result.Trajectories is { } kept) WriteIterates(settings.Out, kept);
                AtomicFile.WriteAllText(Path.Combine(settings.Out, "sample-config.json"), config.ToJsonString(new() { WriteIndented = true }));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                foreach (var f in OutputFiles)
                {
                    try { File.Delete(Path.Combine(settings.Out, f)); } catch (IOException) { }
                }
                throw new InvalidSettingException("out", $"cannot write to {settings.Out} ({e.Message.TrimEnd('.')})", e);
            }
            return new SamplingJobResult(result, shape, samplerSpec, elapsed);
        }
    }

    private static void WriteIterates(string folder, SampledTrajectories kept)
    {
        NpyWriter.Write(Path.Combine(folder, IteratesFile), kept.ToArray(out var shape), shape);
        var steps = kept.StepTable();
        var csv = new System.Text.StringBuilder("sample,index,step\n");
        for (int i = 0; i < kept.Count; i++)
            for (int j = 0; j < kept.MaxLength; j++)
                if (steps[i * kept.MaxLength + j] >= 0) csv.Append(FormattableString.Invariant($"{i},{j},{steps[i * kept.MaxLength + j]}\n"));
        AtomicFile.WriteAllText(Path.Combine(folder, IterateStepsFile), csv.ToString());
    }

    /// <summary>Parses CxHxW (<see cref="ImageShape.TryParse"/>: all three, within bounds); null when it is not that.</summary>
    public static ImageShape? ParseShape(string text) => ImageShape.TryParse(text, out var shape) ? shape : null;

    private static (float? Value, DatasetSpec? Spec) ParseStartMean(string text)
    {
        if (text.Contains(':', StringComparison.Ordinal)) return (null, DatasetSpec.ParseAs("start-mean", text));
        if (text is "auto" or "data") return (null, null);
        if (!float.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) || !float.IsFinite(m))
            throw new InvalidSettingException("start-mean", $"'{text}' is not 'auto', 'data', a number or a dataset spec");
        return (m, null);
    }

    /// <summary>The images of a start setting (start-mean, start-covariance): not empty and of the samples' size.</summary>
    private static ImageSet LoadStartData(string setting, DatasetSpec spec, ImageShape shape)
    {
        var data = DatasetLoader.LoadAs(setting, spec);
        if (data.Count == 0) throw new InvalidSettingException(setting, $"'{spec}' has no images");
        if (data.ImageSize != shape.Size)
            throw new InvalidSettingException(setting, $"'{spec}' images are {data.Channels}x{data.Height}x{data.Width}, the samples {Describe(shape)}");
        return data;
    }

    private static SamplingStart StartOf(string text, float? value, DatasetSpec? spec, ImageSet? data, OpenedDenoiser opened, string kind)
    {
        if (data is not null) return SamplingStart.MeanOf(data, $"mean image of {spec}");
        if (value is float v) return SamplingStart.Constant(v);
        if (opened.Data is not null) return SamplingStart.MeanOf(opened.Data, "data mean image");
        if (text == "data") throw new InvalidSettingException("start-mean", $"data needs an empirical or wiener denoiser (the {kind} denoiser has no data)");
        return SamplingStart.Grey;
    }

    private static JsonObject ConfigJson(SamplingJobSettings settings, DenoiserSpec spec, SamplerSpec sampler, OpenedDenoiser opened, ImageShape shape,
        SamplingStart start, SamplingResult result, double seconds, DateTimeOffset started)
    {
        var denoiser = new JsonObject
        {
            ["spec"] = spec.ToString(),
            ["name"] = opened.Denoiser.Name,
            ["blind"] = opened.Denoiser.IsBlind,
        };
        if (opened.Checkpoint is { } m)
        {
            denoiser["architecture"] = m.Spec.ToString();
            denoiser["checkpoint_step"] = m.Step;
            denoiser["trained_size"] = $"{m.Channels}x{m.Height}x{m.Width}";
        }
        if (opened.Data is { } data) denoiser["data_images"] = data.Count;
        var samplerJson = new JsonObject
        {
            ["name"] = settings.Sampler,
            ["spec"] = sampler.ToString(),
            ["description"] = result.Sampler,
            ["start_mean"] = start.Description,
            ["start_covariance"] = settings.StartCovariance,
            ["batch"] = settings.Batch,
            ["save_every"] = settings.SaveEvery,
        };
        foreach (var (key, value) in sampler.ToJson()) samplerJson[key] = value?.DeepClone();
        return new JsonObject
        {
            ["command"] = "sample",
            ["memgen_version"] = MemGenInfo.Version,
            ["started_utc"] = started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["elapsed_s"] = seconds,
            ["count"] = settings.Count,
            ["seed"] = settings.Seed,
            ["shape"] = new JsonArray(shape.Channels, shape.Height, shape.Width),
            ["denoiser"] = denoiser,
            ["sampler"] = samplerJson,
            ["results"] = new JsonObject
            {
                ["diverged"] = result.DivergedCount,
                ["sigma_exceeded"] = result.Outcomes.Count(o => o == SampleOutcome.SigmaExceeded),
                ["max_steps_exceeded"] = result.Outcomes.Count(o => o == SampleOutcome.MaxStepsExceeded),
                ["mean_steps"] = result.Steps.Average(),
                ["mean_final_sigma"] = result.FinalSigma.Average(),
            },
            ["files"] = new JsonArray([.. OutputFiles.Select(f => (JsonNode)f)]),
        };
    }

    private static string Describe(ImageShape s) => $"{s.Channels}x{s.Height}x{s.Width}";
}
