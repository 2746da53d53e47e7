using System.CommandLine;
using System.Globalization;
using MemGen.Compute;
using MemGen.Execution;
using MemGen.Analysis.LinearGaussian;
using MemGen.Experiments.CAlpha;
using MemGen.Experiments.Gahb;
using MemGen.Experiments.LinearGaussian;
using MemGen.Experiments.GaussianNetwork;
using MemGen.Experiments.Manifold;
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
        command.Subcommands.Add(Gahb());
        command.Subcommands.Add(CAlpha());
        command.Subcommands.Add(Manifold());
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
                          "standard (the same data, network and sizes with 100,000 images per model at N = 1000 and 10000 and the probability-flow sampler " +
                          "from the Gaussian start; 7.6 min on 2 idle cores, docs/standard-preset.md) or paper ([K24] scale: 80×80, N up to 1e5, UNet blocks=3 width=64; needs far more compute). " +
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
        var trainSigmaMax = new Option<double?>("--train-sigma-max") { Description = "Largest training noise level (σ = S·u², u uniform; default 1, docs/science.md §2.1)." };
        var start = new Option<string?>("--start")
        {
            Description = "Start of every sample: 'mean' (y0 = m + σ0·z, m the mean image of S1 ∪ S2) or 'gaussian' (y0 = m + (Σ + σ0²I)^½·z, " +
                          "Σ their covariance: the noisy data law's first two moments, which keeps the samples' contrast; docs/science.md §3.4).",
        };
        start.AcceptOnlyFromAmong([.. TransitionSettings.StartNames]);
        var seed = new Option<long?>("--seed") { Description = "Seed of initialization, data order, noise and sampling (default 0)." };
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var job = new Option<string?>("--job")
        {
            Description = "Run one job only (train-nN-s1, train-nN-s2, measure-nN or report), as a cluster executor does; the same settings and --out as the whole run.",
        };
        var command = new Command("transition",
            "docs/science.md §2, §3, §5, §8: train denoisers on disjoint subsets S1, S2 of size N, sample them with the same seeds, and measure memorization vs generalization as N grows.");
        foreach (var o in new Option[] { outDir, preset, data, testData, sizes, model, samples, budget, batch, lr, evalImages, trainSigmaMax, sampler, sigmaInf, start, seed, noSvg, job })
            command.Options.Add(o);
        var execution = new ExecutionOptions();
        execution.AddTo(command);
        command.SetAction((parse, cancellation) => Task.FromResult(Guard(() =>
        {
            var p = parse.GetValue(preset)!;
            var settings = TransitionExperiment.Preset(p);
            if (parse.GetValue(data) is string d) settings = settings with { Data = d };
            if (parse.GetValue(testData) is string td) settings = settings with { TestData = td };
            if (parse.GetValue(sizes) is string ns) settings = settings.WithSizes(FlagLists.Integers("sizes", ns));
            if (parse.GetValue(model) is string m) settings = settings with { Model = m };
            if (parse.GetValue(samples) is int k) settings = settings with { Samples = k };
            if (parse.GetValue(budget) is string b) settings = settings.WithBudget(b);
            if (parse.GetValue(batch) is int bs) settings = settings with { BatchSize = bs };
            if (parse.GetValue(lr) is double l) settings = settings with { LearningRate = l };
            if (parse.GetValue(evalImages) is int e) settings = settings with { EvalImages = e };
            if (parse.GetValue(sampler) is string sp) settings = settings with { Sampler = sp };
            if (parse.GetValue(sigmaInf) is double si) settings = settings with { Sampler = WithKey(settings.Sampler, "sigma_inf", si, "sigma-inf") };
            if (parse.GetValue(start) is string st) settings = settings with { Start = st };
            if (parse.GetValue(trainSigmaMax) is double tsm) settings = settings with { TrainingSigmaMax = tsm };
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

    /// <summary>
    /// <c>memgen experiment gahb</c>: docs/science.md §5.6, the adaptive basis (Jacobian eigen-analysis) of the networks of each N, the
    /// shuffled-pixel control and the S1/S2 trajectory bifurcation. Re-running the same command resumes the training.
    /// </summary>
    private static Command Gahb()
    {
        var quick = GahbExperiment.Preset("quick");
        var outDir = OutOption();
        var preset = new Option<string>("--preset")
        {
            Description = $"quick (Fashion-MNIST 16×16, N {List(quick.Sizes!)}, {quick.Model}, {quick.Budget} images per network, σ {List(quick.Sigmas)}; minutes on 2 cores) " +
                          "or paper ([K24] scale: 80×80, N up to 1e5; run it --from a transition run trained on a GPU). Flags below override it.",
            DefaultValueFactory = _ => "quick",
        };
        preset.AcceptOnlyFromAmong([.. GahbExperiment.PresetNames]);
        var from = new Option<string?>("--from") { Description = "A finished 'memgen experiment transition' run directory: analyze its networks (its data, model and recipe) instead of training." };
        var data = new Option<string?>("--data") { Description = "Dataset spec of the pool the networks train on (see 'memgen data --help'); not with --from." };
        var testData = new Option<string?>("--test-data") { Description = "Dataset spec of the held-out test images (default: the pool's images between S1 and S2); not with --from." };
        var sizes = new Option<string?>("--sizes") { Description = "Comma-separated, strictly increasing N; with --from, a subset of that run's sizes (default all)." };
        var model = new Option<string?>("--model") { Description = "Network: unet:blocks=B,width=K or bfcnn:layers=L,width=K; not with --from." };
        var budget = new Option<long?>("--budget") { Description = "Training images per network; not with --from." };
        var batch = new Option<int?>("--batch-size") { Description = "Images per training step; not with --from." };
        var lr = new Option<double?>("--learning-rate") { Description = "Initial Adam learning rate; not with --from." };
        var sigmas = new Option<string?>("--sigmas") { Description = "Comma-separated, increasing noise levels σ of the Jacobians." };
        var images = new Option<int?>("--images") { Description = "K, held-out test images the Jacobians are taken at." };
        var draws = new Option<int?>("--draws") { Description = "Noise draws per image and σ." };
        var top = new Option<int?>("--top") { Description = "M, top eigenvectors kept and shown (plus k = 2^j beyond)." };
        var psnrImages = new Option<int?>("--psnr-images") { Description = "Held-out images of the denoising-PSNR comparison." };
        var shuffle = new Option<long?>("--shuffle-seed") { Description = "Seed of the pixel permutation of the shuffled-pixel control (default 1)." };
        var noShuffle = new Option<bool>("--no-shuffle") { Description = "Leave out the shuffled-pixel control." };
        var sampler = SamplerOption($"Sampler of the trajectory comparison (default {quick.SamplerSpec}).");
        var saveEvery = new Option<int?>("--save-every") { Description = "Keep every k-th iterate of the S1/S2 trajectories (0: no trajectory comparison)." };
        var trajectories = new Option<int?>("--trajectories") { Description = "Seeds of the trajectory comparison." };
        var seed = new Option<long?>("--seed") { Description = "Seed of training, noise draws and sampling (default 0)." };
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var command = new Command("gahb",
            "docs/science.md §5.6: the adaptive basis of trained denoisers — Jacobian eigenvalues and eigenvectors across N and σ, shrinkage against the oracle, " +
            "SURE, the shuffled-pixel control and the S1/S2 trajectory bifurcation.");
        foreach (var o in new Option[] { outDir, preset, from, data, testData, sizes, model, budget, batch, lr, sigmas, images, draws, top, psnrImages, shuffle, noShuffle, sampler, saveEvery, trajectories, seed, noSvg })
            command.Options.Add(o);
        command.SetAction((parse, cancellation) => Task.FromResult(Guard(() =>
        {
            var p = parse.GetValue(preset)!;
            var settings = GahbExperiment.Preset(p);
            if (parse.GetValue(from) is string f)
            {
                foreach (var (option, name) in new (Option, string)[] { (data, "data"), (testData, "test-data"), (model, "model"), (budget, "budget"), (batch, "batch-size"), (lr, "learning-rate") })
                    if (parse.GetResult(option) is not null) throw new InvalidSettingException(name, "comes from the --from run; leave it out");
                settings = settings with { From = f, Sizes = null };
            }
            if (parse.GetValue(data) is string d) settings = settings with { Data = d };
            if (parse.GetValue(testData) is string td) settings = settings with { TestData = td };
            if (parse.GetValue(sizes) is string ns) settings = settings with { Sizes = FlagLists.Integers("sizes", ns) };
            if (parse.GetValue(model) is string m) settings = settings with { Model = m };
            if (parse.GetValue(budget) is long b) settings = settings with { Budget = b };
            if (parse.GetValue(batch) is int bs) settings = settings with { BatchSize = bs };
            if (parse.GetValue(lr) is double l) settings = settings with { LearningRate = l };
            if (parse.GetValue(sigmas) is string ss) settings = settings with { Sigmas = FlagLists.Numbers("sigmas", ss) };
            if (parse.GetValue(images) is int k) settings = settings with { Images = k };
            if (parse.GetValue(draws) is int dr) settings = settings with { Draws = dr };
            if (parse.GetValue(top) is int t) settings = settings with { Top = t };
            if (parse.GetValue(psnrImages) is int pi) settings = settings with { PsnrImages = pi };
            if (parse.GetValue(shuffle) is long sh) settings = settings with { ShuffleSeed = sh };
            if (parse.GetValue(noShuffle)) settings = settings with { ShuffleSeed = null };
            if (parse.GetValue(sampler) is string sp) settings = settings with { Sampler = sp };
            if (parse.GetValue(saveEvery) is int se) settings = settings with { SaveEvery = se };
            if (parse.GetValue(trajectories) is int tr) settings = settings with { Trajectories = tr };
            if (parse.GetValue(seed) is long sd) settings = settings with { Seed = sd };
            var dir = parse.GetValue(outDir)!;
            if (!DeviceOptions.TryOpen(parse, "experiment", out var backend, out int code)) return code;
            using var engine = backend;
            var result = ConsoleProgress.RunExperiment("gahb", progress =>
                GahbExperiment.Run(settings, dir, p, progress, cancellation, new ReportWriteOptions { ExportSvg = !parse.GetValue(noSvg) }, engine));
            foreach (var w in result.ReportProblems) Console.Error.WriteLine($"memgen experiment: warning: {w}");
            Console.WriteLine("network\tσ\ttr J\tλ1\t#λ>½\tSURE−true\tPSNR");
            foreach (var g in result.Networks)
                for (int s = 0; s < g.Summaries.Count; s++)
                {
                    var ms = g.Summaries[s];
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"{g.Label}\t{ms.Sigma}\t{ms.Trace.Mean:F2}\t{ms.MedianEigenvalues[0]:F3}\t{ms.EigenvaluesAboveHalf.Mean:F1}\t{ms.SteinMinusTrue.Mean:G3}\t{g.Psnr[s]:F2}"));
                }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"finished in {result.Elapsed.TotalSeconds:F1} s; report: {result.ReportPath}"));
            return 0;
        }, parse.GetValue(outDir)!)));
        return command;
    }

    /// <summary>
    /// <c>memgen experiment calpha</c>: [K24] §3.1, optimality on Cα images — per α a trained network, its denoising curve on
    /// fresh images and the fitted PSNR slope against α/(α+1). Re-running into the same --out resumes the trained networks.
    /// </summary>
    private static Command CAlpha()
    {
        var quick = CAlphaExperiment.Preset("quick");
        var paper = CAlphaExperiment.Preset("paper");
        var outDir = OutOption();
        var preset = new Option<string>("--preset")
        {
            Description = $"quick ({quick.Size}×{quick.Size}, {quick.Model}, {quick.TrainingCount} images and a budget of {quick.TrainingBudget} per α; minutes per α on 2 cores) or " +
                          $"paper ({paper.Size}×{paper.Size}, {paper.Model}, {paper.TrainingCount} images and {paper.TrainingBudget} per α; GPU scale). Flags below override it.",
            DefaultValueFactory = _ => "quick",
        };
        preset.AcceptOnlyFromAmong([.. CAlphaExperiment.PresetNames]);
        var alphas = new Option<string?>("--alphas") { Description = $"Comma-separated contour regularities α, one network each (default {List(quick.Alphas)})." };
        var beta = new Option<double?>("--beta") { Description = "Exponent β of the backgrounds (calpha:...,beta=B; default β = α)." };
        var size = new Option<int?>("--size") { Description = "Image side (quick 32, paper 80)." };
        var model = new Option<string?>("--model") { Description = "Network: unet:blocks=B,width=K or bfcnn:layers=L,width=K." };
        var trainCount = new Option<int?>("--train-count") { Description = "Training images per α." };
        var budget = new Option<long?>("--budget") { Description = "Training images seen per network." };
        var batch = new Option<int?>("--batch") { Description = "Training batch size." };
        var lr = new Option<double?>("--lr") { Description = "Adam learning rate (halved half-way; quick 2e-3, paper 1e-3)." };
        var testImages = new Option<int?>("--test-images") { Description = "Fresh Cα images per α for the denoising curve." };
        var sigmas = new Option<string?>("--sigmas") { Description = "Comma-separated noise levels σ of the curves (default: the preset's fine geometric grid)." };
        var eigenSigma = new Option<double?>("--eigen-sigma") { Description = $"σ of the Jacobian whose eigenvectors are shown (default {quick.EigenvectorSigma})." };
        var tolerance = new Option<double?>("--fit-tolerance") { Description = $"dB within which the fitted line must pass every point of the straight part (default {quick.Fit.ResidualTolerance})." };
        var seed = new Option<long?>("--seed") { Description = "Seed of every random stream (default 0)." };
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var command = new Command("calpha",
            "[K24] §3.1: optimality on Cα images — per α a network trained on Cα images, its denoising curve on fresh ones, and the slope of PSNR_out vs PSNR_in " +
            "on the straight part of the curve against the optimal α/(α+1). Re-running into the same --out resumes the trained networks.");
        foreach (var o in new Option[] { outDir, preset, alphas, beta, size, model, trainCount, budget, batch, lr, testImages, sigmas, eigenSigma, tolerance, seed, noSvg })
            command.Options.Add(o);
        command.SetAction((parse, cancellation) => Task.FromResult(Guard(() =>
        {
            var p = parse.GetValue(preset)!;
            var settings = CAlphaExperiment.Preset(p);
            if (parse.GetValue(alphas) is string a) settings = settings with { Alphas = FlagLists.Numbers("alphas", a) };
            if (parse.GetValue(beta) is double b) settings = settings with { Beta = b };
            if (parse.GetValue(size) is int sz) settings = settings with { Size = sz };
            if (parse.GetValue(model) is string m) settings = settings with { Model = m };
            if (parse.GetValue(trainCount) is int n) settings = settings with { TrainingCount = n };
            if (parse.GetValue(budget) is long bu) settings = settings with { TrainingBudget = bu };
            if (parse.GetValue(batch) is int bs) settings = settings with { BatchSize = bs };
            if (parse.GetValue(lr) is double l) settings = settings with { LearningRate = l };
            if (parse.GetValue(testImages) is int t) settings = settings with { TestImages = t };
            if (parse.GetValue(sigmas) is string sg) settings = settings with { Sigmas = FlagLists.Numbers("sigmas", sg) };
            if (parse.GetValue(eigenSigma) is double es) settings = settings with { EigenvectorSigma = es };
            if (parse.GetValue(tolerance) is double tol) settings = settings with { Fit = settings.Fit with { ResidualTolerance = tol } };
            if (parse.GetValue(seed) is long sd) settings = settings with { Seed = sd };
            settings.Validate();
            var dir = parse.GetValue(outDir)!;
            if (!DeviceOptions.TryOpen(parse, "experiment", out var backend, out int code)) return code;
            using var engine = backend;
            var result = ConsoleProgress.RunExperiment("calpha", progress =>
                CAlphaExperiment.Run(settings, dir, p, progress, cancellation, new ReportWriteOptions { ExportSvg = !parse.GetValue(noSvg) }, engine));
            foreach (var w in result.ReportProblems) Console.Error.WriteLine($"memgen experiment: warning: {w}");
            Console.WriteLine("alpha\tfitted\toptimal\tdifference\tsigma range\tpoints\trms (dB)");
            foreach (var r in result.Measurements)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{r.Alpha:G4}\t{r.Fit.Slope:F3}\t{r.OptimalSlope:F3}\t{r.Difference:+0.000;-0.000}\t{r.Fit.MinSigma:G3}-{r.Fit.MaxSigma:G3}\t{r.Fit.Points}\t{r.Fit.RmsResidual:F3}"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"slopes increase with α: {(result.SlopesIncrease ? "yes" : "no")}; finished in {result.Elapsed.TotalSeconds:F1} s; report: {result.ReportPath}"));
            return 0;
        }, parse.GetValue(outDir)!)));
        return command;
    }

    /// <summary>
    /// <c>memgen experiment manifold</c>: [K24] §3.2, optimality on a known manifold (disks, sinusoids, a ray) — network vs
    /// oracle PSNR, the Jacobian's top eigenvalues and its top-k eigenvectors against the tangent space.
    /// </summary>
    private static Command Manifold()
    {
        var quick = ManifoldExperiment.Preset("quick");
        var outDir = OutOption();
        var preset = new Option<string>("--preset")
        {
            Description = $"quick ({quick.Size}×{quick.Size}, {quick.Model}, {quick.TrainingCount} images, a budget of {quick.TrainingBudget}; minutes on 2 cores) or " +
                          "paper (80×80, unet:blocks=3,width=64, 10⁵ images; GPU scale). Flags below override it.",
            DefaultValueFactory = _ => "quick",
        };
        preset.AcceptOnlyFromAmong([.. ManifoldExperiment.PresetNames]);
        var kind = new Option<string>("--kind")
        {
            Description = "disks (k = 5, exact-area rendering), sinusoids (k = 2) or ray (one image times a uniform scale, k = 1).",
            DefaultValueFactory = _ => "disks",
        };
        kind.AcceptOnlyFromAmong([.. ManifoldSettings.Kinds]);
        var size = new Option<int?>("--size") { Description = "Image side." };
        var raySource = new Option<string?>("--ray-source") { Description = "Dataset spec whose first image spans the ray (default: one Cα image, α = 2)." };
        var model = new Option<string?>("--model") { Description = "Network: unet:blocks=B,width=K or bfcnn:layers=L,width=K." };
        var trainCount = new Option<int?>("--train-count") { Description = "Training images (points of the manifold)." };
        var budget = new Option<long?>("--budget") { Description = "Training images seen." };
        var batch = new Option<int?>("--batch") { Description = "Training batch size." };
        var lr = new Option<double?>("--lr") { Description = "Adam learning rate (halved half-way; quick 2e-3, paper 1e-3)." };
        var testImages = new Option<int?>("--test-images") { Description = "Fresh manifold images for the network's curve." };
        var oracleImages = new Option<int?>("--oracle-images") { Description = "Of those, how many the oracle denoises (the disk oracle optimises per image)." };
        var sigmas = new Option<string?>("--sigmas") { Description = "Comma-separated noise levels of the PSNR curves." };
        var points = new Option<int?>("--jacobian-points") { Description = "Manifold points at which the Jacobian is measured." };
        var jacobianSigma = new Option<double?>("--jacobian-sigma") { Description = $"σ of the eigenvalue and tangent-space measurement (default {quick.JacobianSigma})." };
        var countSigmas = new Option<string?>("--count-sigmas") { Description = "Comma-separated σ at which the eigenvalues > ½ are counted." };
        var seed = new Option<long?>("--seed") { Description = "Seed of every random stream (default 0)." };
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var command = new Command("manifold",
            "[K24] §3.2: a network trained on a known manifold (disks, sinusoids, a ray) against the oracle and PSNR_in + 10·log10(d/k); " +
            "the Jacobian's top eigenvalues, principal angles to the tangent space and eigenvalues > ½ vs σ. Re-running into the same --out resumes the trained network.");
        foreach (var o in new Option[] { outDir, preset, kind, size, raySource, model, trainCount, budget, batch, lr, testImages, oracleImages, sigmas, points, jacobianSigma, countSigmas, seed, noSvg })
            command.Options.Add(o);
        command.SetAction((parse, cancellation) => Task.FromResult(Guard(() =>
        {
            var p = parse.GetValue(preset)!;
            var settings = ManifoldExperiment.Preset(p, parse.GetValue(kind)!);
            if (parse.GetValue(size) is int sz) settings = settings with { Size = sz };
            if (parse.GetValue(raySource) is string rs) settings = settings with { RaySource = rs };
            if (parse.GetValue(model) is string m) settings = settings with { Model = m };
            if (parse.GetValue(trainCount) is int n) settings = settings with { TrainingCount = n };
            if (parse.GetValue(budget) is long bu) settings = settings with { TrainingBudget = bu };
            if (parse.GetValue(batch) is int bs) settings = settings with { BatchSize = bs };
            if (parse.GetValue(lr) is double l) settings = settings with { LearningRate = l };
            if (parse.GetValue(testImages) is int t) settings = settings with { TestImages = t, OracleImages = Math.Min(settings.OracleImages, t) };
            if (parse.GetValue(oracleImages) is int oi) settings = settings with { OracleImages = oi };
            if (parse.GetValue(sigmas) is string sg) settings = settings with { Sigmas = FlagLists.Numbers("sigmas", sg) };
            if (parse.GetValue(points) is int jp) settings = settings with { JacobianPoints = jp };
            if (parse.GetValue(jacobianSigma) is double js) settings = settings with { JacobianSigma = js };
            if (parse.GetValue(countSigmas) is string cs) settings = settings with { CountSigmas = FlagLists.Numbers("count-sigmas", cs) };
            if (parse.GetValue(seed) is long sd) settings = settings with { Seed = sd };
            settings.Validate();
            var dir = parse.GetValue(outDir)!;
            if (!DeviceOptions.TryOpen(parse, "experiment", out var backend, out int code)) return code;
            using var engine = backend;
            var result = ConsoleProgress.RunExperiment("manifold", progress =>
                ManifoldExperiment.Run(settings, dir, p, progress, cancellation, new ReportWriteOptions { ExportSvg = !parse.GetValue(noSvg) }, engine));
            foreach (var w in result.ReportProblems) Console.Error.WriteLine($"memgen experiment: warning: {w}");
            int k = settings.ManifoldDimension;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{settings.Kind}: k = {k}, d = {settings.Dimension}; at σ = {settings.JacobianSigma}: mean top eigenvalues {string.Join(" ", result.MeanTopEigenvalues.Take(k + 3).Select(v => v.ToString("F2", CultureInfo.InvariantCulture)))}; " +
                $"mean principal-angle cosine {result.MeanCosine:F3}"));
            Console.WriteLine("sigma\tnetwork\toracle\tPSNR_in+10log10(d/k)");
            for (int i = 0; i < result.Sigmas.Length; i++)
            {
                double input = -20 * Math.Log10(result.Sigmas[i]);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.Sigmas[i]:G3}\t{result.NetworkOnOracleImages.Psnr[i]:F2}\t{result.Oracle.Psnr[i]:F2}\t{input + 10 * Math.Log10((double)settings.Dimension / k):F2}"));
            }
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"finished in {result.Elapsed.TotalSeconds:F1} s; report: {result.ReportPath}"));
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
