using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Sampling;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen sample</c>: draws samples from any denoiser (docs/science.md §3) with Algorithm 1 (paper or code variant) or the
/// probability-flow sampler, and writes samples.npy, samples.png (grid), trajectories.csv and sample-config.json.
/// Every input is checked before anything is written; a failure leaves no output files behind.
/// </summary>
public static class SampleCommand
{
    /// <summary>Files a sample run writes into --out.</summary>
    public static IReadOnlyList<string> OutputFiles { get; } = ["samples.npy", "samples.png", "trajectories.csv", "sample-config.json"];

    /// <summary>The sampler names --sampler accepts.</summary>
    public static IReadOnlyList<string> SamplerNames { get; } = ["algorithm1", "algorithm1-code", "flow-euler", "flow-heun"];

    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var a1 = new Algorithm1Options();
        var flow = new ProbabilityFlowOptions();
        var denoiser = DenoiserOption();
        var count = new Option<int>("--count") { Description = "Number of samples K.", DefaultValueFactory = _ => 16 };
        var seed = new Option<long>("--seed") { Description = "Seed: sample i uses the noise stream (seed, i) only, for any model and batch size.", DefaultValueFactory = _ => 0 };
        var outDir = new Option<string>("--out") { Description = "Output directory (created if missing).", Required = true };
        var sampler = new Option<string>("--sampler")
        {
            Description = "algorithm1 (paper: fixed h, last iterate), algorithm1-code (growing h, final denoising step), flow-euler or flow-heun (deterministic probability flow).",
            DefaultValueFactory = _ => "algorithm1",
        };
        sampler.AcceptOnlyFromAmong([.. SamplerNames]);
        var h0 = new Option<double?>("--h0") { Description = $"Algorithm 1 step size h0 (default {a1.InitialStep})." };
        var beta = new Option<double?>("--beta") { Description = $"Algorithm 1 β, fraction of removed noise not re-injected (default {a1.Beta})." };
        var sigma0 = new Option<float?>("--sigma0") { Description = $"σ of the initial noise (default {a1.InitialSigma})." };
        var sigmaFinal = new Option<double?>("--sigma-final") { Description = $"Algorithm 1: stop at σ_t ≤ this (default {a1.FinalSigma}); flow: last schedule level (default {flow.MinSigma})." };
        var maxSteps = new Option<int?>("--max-steps") { Description = $"Algorithm 1: a sample not converged after this many steps is marked diverged (default {a1.MaxSteps})." };
        var steps = new Option<int?>("--steps") { Description = $"Probability flow: steps of the geometric σ schedule (default {flow.Steps})." };
        var batch = new Option<int>("--batch") { Description = "Images denoised per call.", DefaultValueFactory = _ => 64 };
        var shape = new Option<string?>("--shape") { Description = "Sample shape CxHxW (required for the identity denoiser; a checkpoint defaults to its training size)." };
        var startMean = new Option<string>("--start-mean")
        {
            Description = "Mean m of the start y0 = m + σ0·z: 'auto' (the dataset's mean image for empirical/wiener, else 0.5), 'data', a number, " +
                          "or a dataset spec whose mean image is used (e.g. a checkpoint's training data, as the reference code does).",
            DefaultValueFactory = _ => "auto",
        };
        var force = new Option<bool>("--force") { Description = "Overwrite samples already in --out." };
        var command = new Command("sample", "Draw samples from a denoiser (Algorithm 1 or probability flow); write samples.npy, samples.png, trajectories.csv, sample-config.json.");
        foreach (var o in new Option[] { denoiser, count, seed, outDir, sampler, h0, beta, sigma0, sigmaFinal, maxSteps, steps, batch, shape, startMean, force })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            var request = new SampleRequest(
                parse.GetValue(denoiser)!, parse.GetValue(count), parse.GetValue(seed), parse.GetValue(outDir)!, parse.GetValue(sampler)!,
                parse.GetValue(h0), parse.GetValue(beta), parse.GetValue(sigma0), parse.GetValue(sigmaFinal), parse.GetValue(maxSteps),
                parse.GetValue(steps), parse.GetValue(batch), parse.GetValue(shape), parse.GetValue(startMean)!, parse.GetValue(force));
            return Run(request);
        });
        return command;
    }

    /// <summary>The required <c>--denoiser</c> option shared by sample and eval.</summary>
    public static Option<string> DenoiserOption() => new("--denoiser")
    {
        Description = DenoiserSpec.SyntaxHelp + ". SPEC is a dataset spec (see memgen data --help).",
        Required = true,
    };

    private sealed record SampleRequest(
        string Denoiser, int Count, long Seed, string Out, string Sampler, double? H0, double? Beta, float? Sigma0, double? SigmaFinal,
        int? MaxSteps, int? Steps, int Batch, string? Shape, string StartMean, bool Force);

    private static int Run(SampleRequest r)
    {
        // 1. Everything that can be checked without reading data.
        DenoiserSpec spec;
        try
        {
            spec = DenoiserSpec.Parse(r.Denoiser);
        }
        catch (FormatException e)
        {
            return Fail($"--denoiser: {e.Message.TrimEnd('.')}");
        }
        if (r.Count < 1) return Fail($"--count must be at least 1, got {r.Count}");
        if (r.Batch < 1) return Fail($"--batch must be at least 1, got {r.Batch}");
        bool isFlow = r.Sampler.StartsWith("flow", StringComparison.Ordinal);
        if (isFlow)
        {
            foreach (var (given, flag) in new[] { (r.H0.HasValue, "--h0"), (r.Beta.HasValue, "--beta"), (r.MaxSteps.HasValue, "--max-steps") })
                if (given) return Fail($"{flag} applies to the algorithm1 samplers only, not to {r.Sampler}");
        }
        else if (r.Steps.HasValue)
        {
            return Fail($"--steps applies to the flow samplers only, not to {r.Sampler}");
        }
        ImageShape? shapeFlag = null;
        if (r.Shape is not null)
        {
            if (ParseShape(r.Shape) is not ImageShape s) return Fail($"--shape: '{r.Shape}' is not CxHxW with positive integers, at most {ImageShape.MaxChannels} channels and {ImageShape.MaxPixels} pixels (e.g. 1x28x28)");
            shapeFlag = s;
        }
        float? meanValue = null;
        DatasetSpec? meanSpec = null;
        if (r.StartMean.Contains(':', StringComparison.Ordinal))
        {
            try
            {
                meanSpec = DatasetSpec.Parse(r.StartMean);
            }
            catch (DataFormatException e)
            {
                return Fail($"--start-mean: {e.Message.TrimEnd('.')}");
            }
        }
        else if (r.StartMean is not ("auto" or "data"))
        {
            if (!float.TryParse(r.StartMean, NumberStyles.Float, CultureInfo.InvariantCulture, out var m) || !float.IsFinite(m))
                return Fail($"--start-mean: '{r.StartMean}' is not 'auto', 'data', a number or a dataset spec");
            meanValue = m;
        }
        if (File.Exists(r.Out)) return Fail($"--out: {r.Out} is a file, not a directory");
        using var folderLock = MemGen.Runs.RunFolderLock.Acquire(r.Out);
        if (!r.Force)
            foreach (var f in OutputFiles)
                if (File.Exists(Path.Combine(r.Out, f))) return Fail($"--out: {r.Out} already holds {f} (use --force to overwrite)");
        // Validate the sampler settings with a placeholder start mean.
        object samplerOptions;
        try
        {
            samplerOptions = BuildOptions(r, isFlow, null, meanValue ?? 0.5f);
        }
        catch (ArgumentException e)
        {
            return Fail(e.Message.TrimEnd('.'));
        }

        // 2. Read the denoiser (checkpoint or data).
        OpenedDenoiser opened;
        try
        {
            opened = spec.Open(r.Batch);
        }
        catch (Exception e) when (e is CheckpointException or DataFormatException or IOException or UnauthorizedAccessException)
        {
            return Fail($"--denoiser: {e.Message.TrimEnd('.')}");
        }
        using (opened)
        {
            var shapeOrNull = shapeFlag ?? opened.Shape;
            if (shapeOrNull is not ImageShape shape)
                return Fail($"--shape is required with the {spec.Kind.ToString().ToLowerInvariant()} denoiser (it has no image size)");
            if (opened.Data is not null && shapeFlag is ImageShape given && given != opened.Shape)
                return Fail($"--shape {Describe(given)} does not match the denoiser's data ({Describe(opened.Shape!.Value)})");
            if (opened.Checkpoint is { } meta && shapeFlag is ImageShape g2)
            {
                if (g2.Channels != meta.Channels) return Fail($"--shape: the checkpoint takes {meta.Channels}-channel images, not {g2.Channels}");
                int div = meta.Spec.SizeDivisor;
                if (g2.Height % div != 0 || g2.Width % div != 0) return Fail($"--shape: {meta.Spec} needs sides divisible by {div}");
            }
            float[]? meanImage = null;
            string meanDescription;
            if (meanSpec is not null)
            {
                ImageSet meanData;
                try
                {
                    meanData = DatasetLoader.Load(meanSpec);
                }
                catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
                {
                    return Fail($"--start-mean: {e.Message.TrimEnd('.')}");
                }
                if (meanData.Count == 0) return Fail($"--start-mean: '{meanSpec}' has no images");
                if (meanData.ImageSize != shape.Channels * shape.Height * shape.Width)
                    return Fail($"--start-mean: '{meanSpec}' images are {meanData.Channels}x{meanData.Height}x{meanData.Width}, the samples {Describe(shape)}");
                meanImage = ImageStatistics.MeanImage(meanData);
                meanDescription = $"mean image of {meanSpec}";
            }
            else if (meanValue is float v)
            {
                meanDescription = v.ToString("R", CultureInfo.InvariantCulture);
            }
            else if (opened.Data is not null)
            {
                meanImage = ImageStatistics.MeanImage(opened.Data);
                meanDescription = "data mean image";
            }
            else if (r.StartMean == "data")
            {
                return Fail($"--start-mean data needs an empirical or wiener denoiser (the {spec.Kind.ToString().ToLowerInvariant()} denoiser has no data)");
            }
            else
            {
                meanDescription = "0.5";
            }
            samplerOptions = BuildOptions(r, isFlow, meanImage, meanValue ?? 0.5f);

            // 3. Sample.
            var clock = Stopwatch.StartNew();
            var started = DateTimeOffset.UtcNow;
            SamplingResult result = ConsoleProgress.Run($"sample ({r.Sampler})", r.Count, progress => samplerOptions switch
            {
                Algorithm1Options o => new Algorithm1Sampler(o).Sample(opened.Denoiser, r.Count, shape.Channels, shape.Height, shape.Width, r.Seed, progress: progress),
                ProbabilityFlowOptions o => new ProbabilityFlowSampler(o).Sample(opened.Denoiser, r.Count, shape.Channels, shape.Height, shape.Width, r.Seed, progress: progress),
                _ => throw new InvalidOperationException("Unknown sampler options."),
            });
            double seconds = clock.Elapsed.TotalSeconds;
            result.RequireFinite();

            // 4. Write (all or nothing).
            var config = ConfigJson(r, spec, opened, shape, samplerOptions, meanDescription, result, seconds, started);
            var written = new List<string>();
            try
            {
                Directory.CreateDirectory(r.Out);
                var images = result.ToImageSet();
                string PathOf(string name) { var p = Path.Combine(r.Out, name); written.Add(p); return p; }
                NpyWriter.Write(PathOf("samples.npy"), images);
                WriteGrid(PathOf("samples.png"), images);
                result.WriteTrajectoryCsv(PathOf("trajectories.csv"));
                AtomicFile.WriteAllText(PathOf("sample-config.json"), config.ToJsonString(new() { WriteIndented = true }));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                foreach (var p in written)
                {
                    try { File.Delete(p); } catch (IOException) { }
                }
                return Fail($"--out: cannot write to {r.Out} ({e.Message.TrimEnd('.')})");
            }
            Console.WriteLine(Summary(result, shape, r.Sampler, seconds, r.Out));
            return 0;
        }
    }

    /// <summary>The one-line summary printed on stdout.</summary>
    private static string Summary(SamplingResult result, ImageShape shape, string sampler, double seconds, string outDir)
    {
        int sigma = result.Outcomes.Count(o => o == SampleOutcome.SigmaExceeded);
        int steps = result.Outcomes.Count(o => o == SampleOutcome.MaxStepsExceeded);
        double meanSteps = result.Steps.Average();
        var diverged = result.DivergedCount == 0
            ? "none diverged"
            : $"{result.DivergedCount} DIVERGED (σ_t > limit: {sigma}, max steps: {steps}; see trajectories.csv)";
        return string.Create(CultureInfo.InvariantCulture,
            $"sampled {result.Count} images ({Describe(shape)}) with {sampler} from {result.Denoiser} in {seconds:F1} s; mean steps {meanSteps:F0}, mean final σ {result.FinalSigma.Average():G3}; {diverged}; wrote {outDir}");
    }

    private static object BuildOptions(SampleRequest r, bool isFlow, float[]? meanImage, float meanValue)
    {
        if (isFlow)
        {
            var f = new ProbabilityFlowOptions
            {
                Method = r.Sampler == "flow-heun" ? ProbabilityFlowMethod.Heun : ProbabilityFlowMethod.Euler,
                BatchSize = r.Batch,
                MeanImage = meanImage,
                MeanValue = meanValue,
            };
            if (r.Steps is int s) f = f with { Steps = s };
            if (r.Sigma0 is float s0) f = f with { MaxSigma = s0 };
            if (r.SigmaFinal is double sf) f = f with { MinSigma = (float)sf };
            f.Validate();
            return f;
        }
        var o = new Algorithm1Options
        {
            Variant = r.Sampler == "algorithm1-code" ? Algorithm1Variant.Code : Algorithm1Variant.Paper,
            BatchSize = r.Batch,
            MeanImage = meanImage,
            MeanValue = meanValue,
        };
        if (r.H0 is double h) o = o with { InitialStep = h };
        if (r.Beta is double b) o = o with { Beta = b };
        if (r.Sigma0 is float s0a) o = o with { InitialSigma = s0a };
        if (r.SigmaFinal is double sfa) o = o with { FinalSigma = sfa };
        if (r.MaxSteps is int m) o = o with { MaxSteps = m };
        o.Validate();
        return o;
    }

    private static JsonObject ConfigJson(SampleRequest r, DenoiserSpec spec, OpenedDenoiser opened, ImageShape shape, object options,
        string meanDescription, SamplingResult result, double seconds, DateTimeOffset started)
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
        var sampler = new JsonObject { ["name"] = r.Sampler, ["description"] = result.Sampler, ["start_mean"] = meanDescription };
        switch (options)
        {
            case Algorithm1Options a:
                sampler["variant"] = a.Variant.ToString().ToLowerInvariant();
                sampler["h0"] = a.InitialStep;
                sampler["beta"] = a.Beta;
                sampler["sigma0"] = a.InitialSigma;
                sampler["sigma_final"] = a.FinalSigma;
                sampler["max_steps"] = a.MaxSteps;
                sampler["divergence_sigma"] = a.DivergenceSigma;
                break;
            case ProbabilityFlowOptions f:
                sampler["method"] = f.Method.ToString().ToLowerInvariant();
                sampler["steps"] = f.Steps;
                sampler["sigma_max"] = f.MaxSigma;
                sampler["sigma_min"] = f.MinSigma;
                sampler["final_denoise"] = f.FinalDenoise;
                break;
        }
        sampler["batch"] = r.Batch;
        return new JsonObject
        {
            ["command"] = "sample",
            ["memgen_version"] = MemGenInfo.Version,
            ["started_utc"] = started.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["elapsed_s"] = seconds,
            ["count"] = r.Count,
            ["seed"] = r.Seed,
            ["shape"] = new JsonArray(shape.Channels, shape.Height, shape.Width),
            ["denoiser"] = denoiser,
            ["sampler"] = sampler,
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

    /// <summary>A PNG grid of at most 256 samples, roughly square, small images zoomed to ≥ 48 pixels.</summary>
    private static void WriteGrid(string path, ImageSet images)
    {
        int n = Math.Min(images.Count, 256);
        int columns = (int)Math.Ceiling(Math.Sqrt(n));
        int zoom = Math.Clamp(48 / Math.Max(images.Height, 1), 1, 8);
        if (images.Channels is 1 or 3 or 4)
        {
            PngWriter.WriteGrid(path, images, columns, zoom: zoom, maxImages: n);
        }
        else
        {
            // Other channel counts: show the first channel.
            var first = new float[n * images.Height * images.Width];
            int plane = images.Height * images.Width;
            for (int i = 0; i < n; i++) images.Image(i)[..plane].CopyTo(first.AsSpan(i * plane, plane));
            PngWriter.WriteGrid(path, new ImageSet(first, n, 1, images.Height, images.Width, images.Provenance), columns, zoom: zoom);
        }
    }

    /// <summary>Parses CxHxW (<see cref="ImageShape.TryParse"/>).</summary>
    internal static ImageShape? ParseShape(string text) => ImageShape.TryParse(text, out var shape) ? shape : null;

    private static string Describe(ImageShape s) => $"{s.Channels}x{s.Height}x{s.Width}";

    private static int Fail(string message) => CommandError.Report("sample", message);
}
