using System.CommandLine;
using System.Globalization;
using MemGen.Compute;
using MemGen.Denoisers;
using MemGen.Sampling;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen sample</c>: flags → <see cref="SamplingJobSettings"/> → <see cref="SamplingJob.Run"/> (docs/science.md §3);
/// writes samples.npy, samples.png, trajectories.csv and sample-config.json.
/// </summary>
internal static class SampleCommand
{
    /// <summary>Sampler-spec keys set by their own flags (flag → key of the Algorithm 1 / flow spec).</summary>
    private static readonly (string Flag, string Algorithm1Key, string FlowKey)[] s_samplerFlags =
    [
        ("--h0", "h0", "h0"), ("--beta", "beta", "beta"), ("--sigma0", "sigma0", "sigma0"), ("--sigma-final", "sigma_inf", "sigma_min"),
        ("--max-steps", "max_steps", "max_steps"), ("--steps", "steps", "steps"),
    ];

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
            Description = "Sampler spec: " + SamplerSpec.SyntaxHelp + ". algorithm1 = paper (fixed h, last iterate); algorithm1-code = growing h and a final " +
                          "denoising step; flow-euler / flow-heun = deterministic probability flow. The flags below override its keys.",
            DefaultValueFactory = _ => "algorithm1",
        };
        var h0 = new Option<double?>("--h0") { Description = $"Algorithm 1 step size h0 (default {a1.InitialStep})." };
        var beta = new Option<double?>("--beta") { Description = $"Algorithm 1 β, fraction of removed noise not re-injected (default {a1.Beta})." };
        var sigma0 = new Option<double?>("--sigma0") { Description = $"σ of the initial noise (default {a1.InitialSigma})." };
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
        var startCovariance = new Option<string?>("--start-covariance")
        {
            Description = "Dataset spec whose covariance Σ shapes the start: y0 = m + (Σ + σ0²I)^½·z, the noisy data law's first two moments " +
                          "(keeps the samples' contrast where the data vary more than σ0; docs/science.md §3.4). Default: y0 = m + σ0·z.",
        };
        var saveEvery = new Option<int>("--save-every")
        {
            Description = "Keep every k-th iterate of each trajectory (start, multiples of k, last) in iterates.npy, their steps in iterate-steps.csv (0: none).",
            DefaultValueFactory = _ => 0,
        };
        var force = new Option<bool>("--force") { Description = "Overwrite samples already in --out." };
        var command = new Command("sample", "Draw samples from a denoiser (Algorithm 1 or probability flow); write samples.npy, samples.png, trajectories.csv, sample-config.json.");
        var overrides = new Dictionary<string, Option>
        {
            ["--h0"] = h0,
            ["--beta"] = beta,
            ["--sigma0"] = sigma0,
            ["--sigma-final"] = sigmaFinal,
            ["--max-steps"] = maxSteps,
            ["--steps"] = steps,
        };
        foreach (var o in new Option[] { denoiser, count, seed, outDir, sampler, h0, beta, sigma0, sigmaFinal, maxSteps, steps, batch, shape, startMean, startCovariance, saveEvery, force })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            try
            {
                var spec = parse.GetValue(sampler)!;
                foreach (var (flag, a1Key, flowKey) in s_samplerFlags)
                {
                    if (parse.GetResult(overrides[flag]) is not { Implicit: false } given) continue;
                    spec = WithFlag(spec, flag, a1Key, flowKey, given.GetValueOrDefault<object>()!);
                }
                var settings = new SamplingJobSettings
                {
                    Denoiser = parse.GetValue(denoiser)!,
                    Sampler = spec,
                    Count = parse.GetValue(count),
                    Seed = parse.GetValue(seed),
                    Out = parse.GetValue(outDir)!,
                    Batch = parse.GetValue(batch),
                    Shape = parse.GetValue(shape),
                    StartMean = parse.GetValue(startMean)!,
                    StartCovariance = parse.GetValue(startCovariance),
                    Force = parse.GetValue(force),
                    SaveEvery = parse.GetValue(saveEvery),
                };
                if (!DeviceOptions.TryOpen(parse, "sample", out var backend, out int code)) return code;
                using var engine = backend;
                var job = ConsoleProgress.Run($"sample ({parse.GetValue(sampler)})", settings.Count, progress => SamplingJob.Run(settings, progress, engine));
                Console.WriteLine(Summary(job, parse.GetValue(sampler)!, settings.Out));
                return 0;
            }
            catch (InvalidSettingException e)
            {
                return CommandError.Report("sample", e);
            }
        });
        return command;
    }

    /// <summary>The required <c>--denoiser</c> option shared by sample and eval.</summary>
    public static Option<string> DenoiserOption() => new("--denoiser")
    {
        Description = DenoiserSpec.SyntaxHelp + ". SPEC is a dataset spec (see memgen data --help).",
        Required = true,
    };

    /// <summary>The sampler spec with the key a flag sets; a flag that does not apply to the sampler is an error naming it.</summary>
    private static string WithFlag(string spec, string flag, string algorithm1Key, string flowKey, object value)
    {
        SamplerSpec parsed;
        try
        {
            parsed = SamplerSpec.Parse(spec);
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException("sampler", e.Message, e);
        }
        string key = parsed.Kind == SamplerKind.Algorithm1 ? algorithm1Key : flowKey;
        if (!parsed.Keys.Contains(key))
            throw new InvalidSettingException(flag.TrimStart('-'), $"does not apply to the {parsed.Name} sampler ({spec})");
        try
        {
            return parsed.With(key, Convert.ToString(value, CultureInfo.InvariantCulture)!).ToString();
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException(flag.TrimStart('-'), e.Message, e);
        }
    }

    /// <summary>The one-line summary printed on stdout.</summary>
    private static string Summary(SamplingJobResult job, string sampler, string outDir)
    {
        var result = job.Result;
        int sigma = result.Outcomes.Count(o => o == SampleOutcome.SigmaExceeded);
        int maxed = result.Outcomes.Count(o => o == SampleOutcome.MaxStepsExceeded);
        var diverged = result.DivergedCount == 0
            ? "none diverged"
            : $"{result.DivergedCount} DIVERGED (σ_t > limit: {sigma}, max steps: {maxed}; see trajectories.csv)";
        return string.Create(CultureInfo.InvariantCulture,
            $"sampled {result.Count} images ({job.Shape.Channels}x{job.Shape.Height}x{job.Shape.Width}) with {sampler} from {result.Denoiser} in {job.Elapsed.TotalSeconds:F1} s; mean steps {result.Steps.Average():F0}, mean final σ {result.FinalSigma.Average():G3}; {diverged}; wrote {outDir}");
    }
}
