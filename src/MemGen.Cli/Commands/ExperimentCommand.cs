using System.CommandLine;
using System.Globalization;
using MemGen.Analysis.LinearGaussian;
using MemGen.Experiments;
using MemGen.Reporting;
using Spectre.Console;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen experiment ...</c>: end-to-end studies that write a run directory (results + report.html).
/// Each experiment is one method returning its subcommand; add it to <see cref="Create"/>. Shared pieces:
/// <see cref="OutOption"/>, <see cref="RunWithProgress{T}"/> (progress bar on stderr), <see cref="Fail"/>.
/// </summary>
public static class ExperimentCommand
{
    /// <summary>Creates the <c>experiment</c> command group.</summary>
    public static Command Create()
    {
        var command = new Command("experiment", "End-to-end studies; each writes results and a self-contained report.html into --out.");
        command.Subcommands.Add(LinearGaussian());
        return command;
    }

    /// <summary>The required <c>--out DIR</c> option every experiment takes.</summary>
    public static Option<string> OutOption() => new("--out")
    {
        Description = "Run directory for results and report.html (created if missing).",
        Required = true,
    };

    /// <summary>
    /// Runs <paramref name="work"/> with a progress bar on stderr; <paramref name="work"/> receives a callback
    /// taking the fraction done (0..1, callable from any thread).
    /// </summary>
    public static T RunWithProgress<T>(string description, Func<Action<double>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsErrorRedirected)
        {
            // No live bar in logs: print a line every 10 %.
            int lastDecile = -1;
            var gate = new object();
            return work(f =>
            {
                int decile = (int)Math.Floor(f * 10);
                lock (gate)
                {
                    if (decile <= lastDecile) return;
                    lastDecile = decile;
                }
                Console.Error.WriteLine($"{description}: {decile * 10}%");
            });
        }
        T result = default!;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: 1.0);
                result = work(f => task.Value = Math.Min(1.0, f));
                task.Value = 1.0;
            });
        return result;
    }

    /// <summary>Prints "memgen experiment: MESSAGE." on stderr and returns exit code 2.</summary>
    public static int Fail(string message)
    {
        Console.Error.WriteLine($"memgen experiment: {message}.");
        return 2;
    }

    /// <summary><c>memgen experiment linear-gaussian</c>: SCIENCE.md §7, the n ≈ d transition of the linear model.</summary>
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
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var command = new Command("linear-gaussian",
            "SCIENCE.md §7: linear one-step diffusion model on N(m·1, s²I); P(Δ > 0), Hellinger and KL vs n/d for several d.");
        foreach (var o in new Option[] { outDir, preset, dims, ratios, mean, std, time, lambda, original, runs, seed, threads, noSvg })
            command.Options.Add(o);
        command.SetAction(parse =>
        {
            var p = parse.GetValue(preset)!;
            var settings = LinearGaussianExperiment.Preset(p);
            if (parse.GetValue(dims) is string ds)
            {
                if (ParseList(ds, s => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) ? v : (int?)null) is not int[] list)
                    return Fail($"--dimensions: '{ds}' is not a comma-separated list of integers");
                settings = settings with { Dimensions = list };
            }
            if (parse.GetValue(ratios) is string rs)
            {
                if (ParseList(rs, s => double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : (double?)null) is not double[] list)
                    return Fail($"--ratios: '{rs}' is not a comma-separated list of numbers");
                settings = settings with { Ratios = list };
            }
            if (parse.GetValue(mean) is double m) settings = settings with { Mean = m };
            if (parse.GetValue(std) is double s) settings = settings with { Std = s };
            if (parse.GetValue(time) is double t) settings = settings with { Time = t };
            if (parse.GetValue(lambda) is double l) settings = settings with { Lambda = l };
            if (parse.GetValue(original) is int o) settings = settings with { OriginalCount = o };
            if (parse.GetValue(runs) is int r) settings = settings with { Runs = r };
            if (parse.GetValue(seed) is long sd) settings = settings with { Seed = sd };
            if (parse.GetValue(threads) is int th) settings = settings with { Threads = th };
            if (settings.Validate() is string problem) return Fail("--" + problem);
            var dir = parse.GetValue(outDir)!;
            if (File.Exists(dir)) return Fail($"--out: {dir} is a file, not a directory");

            LinearGaussianResult result;
            try
            {
                result = RunWithProgress("linear-gaussian", progress =>
                    LinearGaussianExperiment.Run(settings, dir, p, progress, reportOptions: new ReportWriteOptions { ExportSvg = !parse.GetValue(noSvg) }));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return Fail($"--out: cannot write to {dir} ({e.Message})");
            }
            foreach (var w in result.ReportProblems) Console.Error.WriteLine($"memgen experiment: warning: {w}");
            WriteSummary(result);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"finished in {result.Elapsed.TotalSeconds:F1} s; report: {Path.Combine(dir, ReportWriter.HtmlFileName)}"));
            return 0;
        });
        return command;
    }

    private static void WriteSummary(LinearGaussianResult result)
    {
        Console.WriteLine("d\tn\tn/d\tP(Δ>0)\tH²\tKL");
        foreach (var s in result.Summaries)
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{s.Dimension}\t{s.TrainingCount}\t{s.Ratio:F3}\t{s.ProbabilityDeltaPositive:F3}\t{s.SquaredHellinger.Mean:F4}\t{(double.IsInfinity(s.KullbackLeibler.Mean) ? "inf" : s.KullbackLeibler.Mean.ToString("G4", CultureInfo.InvariantCulture))}"));
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
