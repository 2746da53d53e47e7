using System.CommandLine;
using System.Globalization;
using MemGen.Compute;
using MemGen.Execution;
using MemGen.Analysis.LinearGaussian;
using MemGen.Experiments.LinearGaussian;
using MemGen.Experiments.GaussianNetwork;
using MemGen.Experiments.Transition;
using MemGen.Nn;
using MemGen.Sampling;
using MemGen.Reporting;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen experiment ...</c>: end-to-end studies that write a run directory (results + report.html).
/// Each experiment is one method returning its subcommand; add it to <see cref="Create"/>. Shared pieces:
/// <see cref="OutOption"/>, <see cref="SamplerOption"/>, <see cref="ConsoleProgress"/>, <see cref="Fail"/>.
/// </summary>
internal static class ExperimentCommand
{
    /// <summary>Creates the <c>experiment</c> command group.</summary>
    public static Command Create()
    {
        var command = new Command("experiment", "End-to-end studies; each writes results and a self-contained report.html into --out.");
        command.Subcommands.Add(LinearGaussian());
        command.Subcommands.Add(GaussianNetwork());
        command.Subcommands.Add(Transition());
        command.Subcommands.Add(ExperimentStatusCommand.Create());
        command.Subcommands.Add(ExperimentResumeCommand.Create());
        return command;
    }

    /// <summary>The required <c>--out DIR</c> option every experiment takes.</summary>
    public static Option<string> OutOption() => new("--out")
    {
        Description = "Run directory for results and report.html (created if missing).",
        Required = true,
    };

    /// <summary>Prints "memgen experiment: MESSAGE." on stderr and returns exit code 2.</summary>
    public static int Fail(string message) => CommandError.Report("experiment", message);

    /// <summary><c>memgen experiment linear-gaussian</c>: docs/science.md §7, the n ≈ d transition of the linear model.</summary>
    private static Command LinearGaussian()
    {
        var defaults = new LinearGaussianSettings();
        var quick = LinearGaussianExperiment.Preset("quick");
        var paper = LinearGaussianExperiment.Preset("paper");
        var outDir = OutOption();
        var preset = new Option<string>("--preset")
        {
            Description = $"quick (d {List(quick.Dimensions)}, R {quick.Runs}, N_original {quick.OriginalCount}; under a minute on 2 cores) or " +
                          $"paper (d {List(paper.Dimensions)}, R {paper.Runs}, N_original {paper.OriginalCount}). Flags below override it.",
            DefaultValueFactory = _ => "quick",
        };
        preset.AcceptOnlyFromAmong([.. LinearGaussianExperiment.PresetNames]);
        var dims = new Option<string?>("--dimensions") { Description = $"Comma-separated d values (paper: {List(defaults.Dimensions)})." };
        var ratios = new Option<string?>("--ratios") { Description = "Comma-separated n/d values; n = max(2, round(ratio·d))." };
        var mean = new Option<double?>("--mean") { Description = $"m, mean of every coordinate of the true law (default {defaults.Mean})." };
        var std = new Option<double?>("--std") { Description = $"s, standard deviation of the true law (default {defaults.Std})." };
        var time = new Option<double?>("--time") { Description = $"T, time of the OU jump (default {defaults.Time})." };
        var lambda = new Option<double?>("--lambda") { Description = "Λ of the forward noise Λ(1 − e^(−2T)) (default e^(−2T))." };
        var original = new Option<int?>("--original-count") { Description = "N of the fresh original set per run (paper 10000)." };
        var runs = new Option<int?>("--runs") { Description = "R, independent runs per (d, n) (paper 300)." };
        var seed = new Option<long?>("--seed") { Description = "Seed of every random stream (default 0)." };
        var threads = new Option<int?>("--threads") { Description = "Worker threads (default: one per core)." };
        var covariance = new Option<string?>("--covariance")
        {
            Description = "Covariance of the generated law (docs/science.md §7.3): model (s_T²·B·Bᵀ, the law of the model's samples), " +
                          "reference-code (s_T²·Bᵀ·B, as the [H24] code), or both (default: the preset's; quick: model, paper: both).",
        };
        covariance.AcceptOnlyFromAmong("model", "reference-code", "both");
        var precision = new Option<string>("--kernel-precision")
        {
            Description = "Arithmetic of the kernel sums ∫p_S² (docs/science.md §7.9): float64, or float32 as the reference code, only to show rounding.",
            DefaultValueFactory = _ => "float64",
        };
        precision.AcceptOnlyFromAmong("float64", "float32");
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var command = new Command("linear-gaussian",
            "docs/science.md §7: linear one-step diffusion model on N(m·1, s²I); P(Δ > 0) and its decomposition, λ_max(Σ_G), Hellinger and KL vs n/d for several d.");
        foreach (var o in new Option[] { outDir, preset, dims, ratios, mean, std, time, lambda, original, runs, seed, threads, covariance, precision, noSvg })
            command.Options.Add(o);
        command.SetAction((parse, cancellation) => Task.FromResult(Guard(() =>
        {
            var p = parse.GetValue(preset)!;
            var settings = LinearGaussianExperiment.Preset(p);
            if (parse.GetValue(covariance) is string cv)
                settings = settings with { Covariances = cv == "both" ? [.. GeneratedCovariances.All] : [GeneratedCovariances.Parse(cv)!.Value] };
            settings = settings with { Precision = KernelSumPrecisions.Parse(parse.GetValue(precision)!)!.Value };
            if (parse.GetValue(dims) is string ds) settings = settings with { Dimensions = FlagLists.Integers("dimensions", ds) };
            if (parse.GetValue(ratios) is string rs) settings = settings with { Ratios = FlagLists.Numbers("ratios", rs) };
            if (parse.GetValue(mean) is double m) settings = settings with { Mean = m };
            if (parse.GetValue(std) is double s) settings = settings with { Std = s };
            if (parse.GetValue(time) is double t) settings = settings with { Time = t };
            if (parse.GetValue(lambda) is double l) settings = settings with { Lambda = l };
            if (parse.GetValue(original) is int o) settings = settings with { OriginalCount = o };
            if (parse.GetValue(runs) is int r) settings = settings with { Runs = r };
            if (parse.GetValue(seed) is long sd) settings = settings with { Seed = sd };
            if (parse.GetValue(threads) is int th) settings = settings with { Threads = th };
            var dir = parse.GetValue(outDir)!;
            var result = ConsoleProgress.RunExperiment("linear-gaussian", progress => LinearGaussianExperiment.Run(settings, dir, p, progress, cancellation,
                new ReportWriteOptions { ExportSvg = !parse.GetValue(noSvg) }));
            foreach (var w in result.ReportProblems) Console.Error.WriteLine($"memgen experiment: warning: {w}");
            WriteSummary(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"finished in {result.Elapsed.TotalSeconds:F1} s; report: {Path.Combine(dir, ReportWriter.HtmlFileName)}"));
            return 0;
        }, parse.GetValue(outDir)!)));
        return command;
    }

    /// <summary>
    /// <c>memgen experiment gaussian-network</c>: docs/science.md §7, nonlinear variant — a network trained per n on isotropic
    /// Gaussian images, sampled with Algorithm 1, compared with the per-pixel KDE metric.
    /// </summary>
    private static Command GaussianNetwork()
    {
        var quick = GaussianNetworkExperiment.Preset("quick");
        var full = GaussianNetworkExperiment.Preset("full");
        var outDir = OutOption();
        var preset = new Option<string>("--preset")
        {
            Description = $"quick (d {quick.Dimension}, n/d {List(quick.Ratios)}, R {quick.Runs}, {quick.Model}, {quick.TrainingBudget} images per network; a few minutes on 2 cores) or " +
                          $"full (d {full.Dimension}, n/d {List(full.Ratios)}, R {full.Runs}, {full.Model}, {full.TrainingBudget} images). Flags below override it.",
            DefaultValueFactory = _ => "quick",
        };
        preset.AcceptOnlyFromAmong([.. GaussianNetworkExperiment.PresetNames]);
        var size = new Option<int?>("--size") { Description = "Image side; d = size² pixels." };
        var mean = new Option<double?>("--mean") { Description = "m, mean of every pixel of the true law (image scale; default 0.5)." };
        var std = new Option<double?>("--std") { Description = "s, standard deviation of every pixel (default 0.1)." };
        var ratios = new Option<string?>("--ratios") { Description = "Comma-separated n/d values; n = max(2, round(ratio·d))." };
        var runs = new Option<int?>("--runs") { Description = "R, independent runs per n (fresh data, network, samples)." };
        var original = new Option<int?>("--original-count") { Description = "Size of the fresh original set per run (docs/science.md §7: 10000)." };
        var samples = new Option<int?>("--samples") { Description = "Samples generated per network." };
        var model = new Option<string?>("--model") { Description = "Network spec, e.g. bfcnn:layers=5,width=32 or unet-cond:blocks=1,width=16." };
        var compareModel = new Option<string?>("--compare-model") { Description = "A second network trained on the same training sets and shown beside --model in the report (e.g. unet-cond:blocks=1,width=16 beside unet:blocks=1,width=16)." };
        var budget = new Option<long?>("--budget") { Description = "Training images seen per network." };
        var batch = new Option<int?>("--batch") { Description = "Training batch size." };
        var lr = new Option<double?>("--lr") { Description = "Adam learning rate (default 1e-3)." };
        var sampler = SamplerOption($"Sampler spec (default {quick.SamplerSpec}).");
        var sigma0 = new Option<double?>("--sigma0") { Description = "σ0 of the start around the training mean (default 1, the paper's; overrides the sampler spec's sigma0)." };
        var seed = new Option<long?>("--seed") { Description = "Seed of every random stream (default 0)." };
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var command = new Command("gaussian-network",
            "docs/science.md §7, nonlinear variant: networks trained on n isotropic Gaussian images, sampled with Algorithm 1; per-pixel KDE E_TG, E_OG, P(Δ > 0) vs n/d. " +
            "Re-running into the same --out resumes the trained networks.");
        foreach (var o in new Option[] { outDir, preset, size, mean, std, ratios, runs, original, samples, model, compareModel, budget, batch, lr, sampler, sigma0, seed, noSvg })
            command.Options.Add(o);
        command.SetAction((parse, cancellation) => Task.FromResult(Guard(() =>
        {
            var p = parse.GetValue(preset)!;
            var settings = GaussianNetworkExperiment.Preset(p);
            if (parse.GetValue(ratios) is string rs) settings = settings with { Ratios = FlagLists.Numbers("ratios", rs) };
            if (parse.GetValue(size) is int sz) settings = settings with { Size = sz };
            if (parse.GetValue(mean) is double m) settings = settings with { Mean = m };
            if (parse.GetValue(std) is double sd) settings = settings with { Std = sd };
            if (parse.GetValue(runs) is int r) settings = settings with { Runs = r };
            if (parse.GetValue(original) is int o) settings = settings with { OriginalCount = o };
            if (parse.GetValue(samples) is int k) settings = settings with { SampleCount = k };
            if (parse.GetValue(model) is string md) settings = settings with { Model = md };
            if (parse.GetValue(compareModel) is string cm) settings = settings with { CompareModel = cm };
            if (parse.GetValue(budget) is long b) settings = settings with { TrainingBudget = b };
            if (parse.GetValue(batch) is int bs) settings = settings with { BatchSize = bs };
            if (parse.GetValue(lr) is double l) settings = settings with { LearningRate = l };
            if (parse.GetValue(sampler) is string sm) settings = settings with { Sampler = sm };
            if (parse.GetValue(sigma0) is double s0) settings = settings with { Sampler = WithKey(settings.Sampler, "sigma0", s0, "sigma0") };
            if (parse.GetValue(seed) is long se) settings = settings with { Seed = se };
            var dir = parse.GetValue(outDir)!;
            if (!DeviceOptions.TryOpen(parse, "experiment", out var backend, out int code)) return code;
            using var engine = backend;
            var result = ConsoleProgress.RunExperiment("gaussian-network", progress =>
                GaussianNetworkExperiment.Run(settings, dir, p, progress, cancellation, new ReportWriteOptions { ExportSvg = !parse.GetValue(noSvg) }, engine));
            foreach (var w in result.ReportProblems) Console.Error.WriteLine($"memgen experiment: warning: {w}");
            foreach (var (name, summaries) in new[] { (settings.Model, result.Summaries) }.Concat(result.Comparison is { } c ? [(c.Model, c.Summaries)] : []))
            {
                if (result.Comparison is not null) Console.WriteLine(name);
                Console.WriteLine("n\tn/d\tP(Δ>0)\tP(Δ>0) law\tΔ mean\tE_TG\tE_OG\tNN ratio\tsample std\tdiverged");
                foreach (var s in summaries)
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{s.TrainingCount}\t{s.Ratio:F3}\t{s.ProbabilityDeltaPositive:F2}\t{s.LawProbabilityDeltaPositive:F2}\t{s.Delta.Mean:G4}\t{s.TrainDistance.Mean:G4}\t{s.OriginalDistance.Mean:G4}\t{s.NearestRatio:F3}\t{s.SampleStd:F4}\t{s.Diverged}"));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"finished in {result.Elapsed.TotalSeconds:F1} s; report: {Path.Combine(dir, ReportWriter.HtmlFileName)}"));
            return 0;
        }, parse.GetValue(outDir)!)));
        return command;
    }

    /// <summary>
    /// <c>memgen experiment transition</c>: docs/science.md §2, §3, §5, §8, the memorization → generalization transition as N grows.
    /// Re-running the same command resumes (finished sizes are kept, unfinished training continues from its last checkpoint).
    /// </summary>
    private static Command Transition()
    {
        var quick = TransitionExperiment.Preset("quick");
        var outDir = OutOption();
        var preset = new Option<string>("--preset")
        {
            Description = $"quick (Fashion-MNIST 16×16, N {List(quick.Sizes)}, {quick.Model}, {quick.Budget} images per model; the main job, minutes on 2 cores) " +
                          "standard (the same with longer training where N is large: 40,000 images per model up to N = 10, then 100,000, 400,000 and 800,000; " +
                          "under 30 minutes on 2 idle cores, docs/standard-preset.md) or paper ([K24] scale: 80×80, N up to 1e5, UNet blocks=3 width=64; needs far more compute). " +
                          "Flags below override it.",
            DefaultValueFactory = _ => "quick",
        };
        preset.AcceptOnlyFromAmong([.. TransitionExperiment.PresetNames]);
        var data = new Option<string?>("--data") { Description = "Dataset spec of the pool (see 'memgen data --help'), e.g. 'fashion-mnist:train|resize=16|dedup'." };
        var testData = new Option<string?>("--test-data") { Description = "Dataset spec of the held-out test images, e.g. 'fashion-mnist:test|resize=16' (default: the pool's images between S1 and S2)." };
        var sizes = new Option<string?>("--sizes") { Description = "Comma-separated, strictly increasing N (images per subset), each at most half the pool." };
        var model = new Option<string?>("--model") { Description = $"Network: {NetworkSpec.SyntaxHelp}." };
        var samples = new Option<int?>("--samples") { Description = "K, samples per model (same seeds for all models)." };
        var budget = new Option<string?>("--budget") { Description = "Training images per model (the training set tiled to this size), e.g. 40000; N=images entries give some sizes another budget: 40000,10000=600000." };
        var batch = new Option<int?>("--batch-size") { Description = "Images per training step." };
        var lr = new Option<double?>("--learning-rate") { Description = "Initial Adam learning rate (halved evenly over the budget)." };
        var evalImages = new Option<int?>("--eval-images") { Description = "Held-out test images, and images per set for the denoising curves (docs/science.md §5.1: 300)." };
        var sampler = SamplerOption($"Sampler spec (default of the preset: {quick.SamplerSpec}).");
        var sigmaInf = new Option<double?>("--sigma-inf") { Description = "σ∞ at which Algorithm 1 stops (overrides the sampler spec's sigma_inf)." };
        var seed = new Option<long?>("--seed") { Description = "Seed of initialization, data order, noise and sampling (default 0)." };
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var job = new Option<string?>("--job")
        {
            Description = "Run one job only (train-nN-s1, train-nN-s2, measure-nN or report), as a cluster executor does; the same settings and --out as the whole run.",
        };
        var command = new Command("transition",
            "docs/science.md §2, §3, §5, §8: train denoisers on disjoint subsets S1, S2 of size N, sample them with the same seeds, and measure memorization vs generalization as N grows.");
        foreach (var o in new Option[] { outDir, preset, data, testData, sizes, model, samples, budget, batch, lr, evalImages, sampler, sigmaInf, seed, noSvg, job })
            command.Options.Add(o);
        var execution = new ExecutionOptions();
        execution.AddTo(command);
        command.SetAction((parse, cancellation) => Task.FromResult(Guard(() =>
        {
            var p = parse.GetValue(preset)!;
            var settings = TransitionExperiment.Preset(p);
            if (parse.GetValue(data) is string d) settings = settings with { Data = d };
            if (parse.GetValue(testData) is string td) settings = settings with { TestData = td };
            if (parse.GetValue(sizes) is string ns) settings = settings with { Sizes = FlagLists.Integers("sizes", ns) };
            if (parse.GetValue(model) is string m) settings = settings with { Model = m };
            if (parse.GetValue(samples) is int k) settings = settings with { Samples = k };
            if (parse.GetValue(budget) is string b) settings = settings.WithBudget(b);
            if (parse.GetValue(batch) is int bs) settings = settings with { BatchSize = bs };
            if (parse.GetValue(lr) is double l) settings = settings with { LearningRate = l };
            if (parse.GetValue(evalImages) is int e) settings = settings with { EvalImages = e };
            if (parse.GetValue(sampler) is string sp) settings = settings with { Sampler = sp };
            if (parse.GetValue(sigmaInf) is double si) settings = settings with { Sampler = WithKey(settings.Sampler, "sigma_inf", si, "sigma-inf") };
            if (parse.GetValue(seed) is long sd) settings = settings with { Seed = sd };
            var dir = parse.GetValue(outDir)!;
            var reportOptions = new ReportWriteOptions { ExportSvg = !parse.GetValue(noSvg) };
            var executor = execution.Parse(parse);
            var id = parse.GetValue(job);
            if (id is not null && executor.Executor == ExecutorKind.Slurm) throw new InvalidSettingException("job", "runs one job here; leave out --executor slurm");
            if (id is null && (executor.Executor == ExecutorKind.Slurm || executor.DryRun))
            {
                // The tasks open the engine on their nodes; here the device flags are only checked and passed on.
                if (!DeviceOptions.TryParse(parse, "experiment", out _, out _, out int bad)) return bad;
                string[] engineFlags = [DeviceOptions.DeviceName, parse.GetValue<string>(DeviceOptions.DeviceName) ?? "cpu",
                    DeviceOptions.PrecisionName, parse.GetValue<string>(DeviceOptions.PrecisionName) ?? "fp32"];
                return TransitionPlan.Execute(settings, p, dir, executor, reportOptions, engineFlags, cancellation);
            }
            if (id is null)
            {
                executor.Validate(dir);
                TransitionPlan.CheckNothingQueued(settings, p, dir, reportOptions.ExportSvg);
            }
            if (!DeviceOptions.TryOpen(parse, "experiment", out var backend, out int code)) return code;
            using var engine = backend;
            if (id is not null)
            {
                ConsoleProgress.RunExperiment($"transition {id}", progress => { TransitionExperiment.RunJob(settings, dir, p, id, progress, cancellation, reportOptions, engine); return 0; });
                Console.WriteLine($"job {id} done in {dir}");
                return 0;
            }
            var result = ConsoleProgress.RunExperiment("transition", progress =>
                TransitionExperiment.Run(settings, dir, p, progress, cancellation, reportOptions, engine));
            foreach (var w in result.ReportProblems) Console.Error.WriteLine($"memgen experiment: warning: {w}");
            Console.WriteLine("N\tregime\tS1-S2\tnearest\tcopies\tPSNR gap");
            foreach (var pt in result.Points)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{pt.N}\t{pt.Regime.ToString().ToLowerInvariant()}\t{pt.Network.Cross.Median:F3}\t{pt.Network.Nearest.Median:F3}\t{pt.FractionMemorized:F2}\t{pt.PsnrGap:F2}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"finished in {result.Elapsed.TotalSeconds:F1} s{(result.ReusedSizes.Count > 0 ? $" (N = {List(result.ReusedSizes)} done earlier)" : "")}; report: {result.ReportPath}"));
            return 0;
        }, parse.GetValue(outDir)!)));
        return command;
    }

    /// <summary>The <c>--sampler SPEC</c> option of the experiments.</summary>
    public static Option<string?> SamplerOption(string description) => new("--sampler")
    {
        Description = description + " Syntax: " + SamplerSpec.SyntaxHelp + ".",
    };

    /// <summary>
    /// Runs an experiment body: invalid settings become one line under their flag (exit 2), an interruption exit 130 with
    /// how to resume, a failure to write the run directory one line naming it.
    /// </summary>
    private static int Guard(Func<int> body, string dir)
    {
        try
        {
            return body();
        }
        catch (InvalidSettingException e)
        {
            return CommandError.Report("experiment", e);
        }
        catch (ExecutionException e)
        {
            return Fail(e.Message);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine("memgen experiment: interrupted; run the same command again to resume.");
            return 130;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail($"--out: cannot write to {dir} ({e.Message})");
        }
    }

    /// <summary><paramref name="spec"/> with one key set from a flag (the flag is named when the key does not apply).</summary>
    private static string WithKey(string spec, string key, double value, string flag)
    {
        try
        {
            return SamplerSpec.Parse(spec).With(key, value.ToString("R", CultureInfo.InvariantCulture)).ToString();
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException(flag, e.Message, e);
        }
    }

    private static void WriteSummary(LinearGaussianResult result)
    {
        Console.WriteLine("covariance\td\tn\tn/d\tP(Δ>0)\tH²\tKL");
        foreach (var s in result.Summaries)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Covariance.Name()}\t{s.Dimension}\t{s.TrainingCount}\t{s.Ratio:F3}\t{s.ProbabilityDeltaPositive:F3}\t{s.SquaredHellinger.Mean:F4}\t{(double.IsInfinity(s.KullbackLeibler.Mean) ? "inf" : s.KullbackLeibler.Mean.ToString("G4", CultureInfo.InvariantCulture))}"));
    }

    private static T[]? ParseList<T>(string text, Func<string, T?> parse) where T : struct
    {
        var parts = text.Split(',', StringSplitOptions.TrimEntries);
        var values = new T[parts.Length];
        for (int i = 0; i < parts.Length; i++)
        {
            if (parse(parts[i]) is not T v) return null;
            values[i] = v;
        }
        return values;
    }

    private static string List<T>(IEnumerable<T> values) => string.Join(",", values);
}
