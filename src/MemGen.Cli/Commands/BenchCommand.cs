using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using MemGen.Bench;
using MemGen.Compute;
using MemGen.Nn;
using Spectre.Console;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen bench ...</c>: throughput benchmarks. Each subcommand is one method returning its
/// <see cref="Command"/>; add it to <see cref="Create"/>. Results go to stdout (a table, or JSON with
/// <c>--json</c>); progress goes to stderr so JSON output stays clean.
/// </summary>
internal static class BenchCommand
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>Creates the <c>bench</c> command group.</summary>
    public static Command Create()
    {
        var command = new Command("bench", "Throughput benchmarks of the engine and the networks.");
        command.Subcommands.Add(Conv());
        command.Subcommands.Add(Train());
        command.Subcommands.Add(Jacobian());
        command.Subcommands.Add(Reference());
        return command;
    }

    /// <summary><c>memgen bench conv</c>: per-layer forward / backward-data / backward-weights time and GFLOP/s.</summary>
    private static Command Conv()
    {
        var batch = new Option<int>("--batch") { Description = "Images per call.", DefaultValueFactory = _ => 64 };
        var size = new Option<int>("--size") { Description = "Image height and width (UNet layers run at half of it).", DefaultValueFactory = _ => 40 };
        var winograd = new Option<bool>("--winograd") { Description = "Use oneDNN's Winograd algorithm for 3×3 layers (opt-in)." };
        var warmup = new Option<int>("--warmup") { Description = "Untimed calls per pass before timing.", DefaultValueFactory = _ => 3 };
        var repeats = new Option<int>("--repeats") { Description = "Timed calls per pass (the median is reported).", DefaultValueFactory = _ => 10 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var command = new Command("conv", "Per-layer convolution throughput (fwd, bwd-data, bwd-weights: median ms and GFLOP/s) of the oneDNN engine.");
        foreach (var o in new Option[] { batch, size, winograd, warmup, repeats, json }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            int b = parse.GetValue(batch), sz = parse.GetValue(size), w = parse.GetValue(warmup), r = parse.GetValue(repeats);
            if (b < 1) return Fail("--batch must be at least 1");
            if (sz < 2) return Fail("--size must be at least 2");
            if (w < 0) return Fail("--warmup must not be negative");
            if (r < 1) return Fail("--repeats must be at least 1");
            bool wino = parse.GetValue(winograd);
            var layers = ConvolutionBenchmark.RepresentativeLayers(b, sz);
            var results = new List<LayerTiming>();
            for (int i = 0; i < layers.Count; i++)
            {
                Console.Error.WriteLine($"bench conv: [{i + 1}/{layers.Count}] {layers[i].Name}");
                results.Add(ConvolutionBenchmark.Measure(layers[i], wino, w, r));
            }
            if (parse.GetValue(json))
            {
                var report = new
                {
                    Benchmark = "conv",
                    Engine = new { Onednn = ConvolutionBenchmark.Engine.Version, ConvolutionBenchmark.Engine.Threads, ConvolutionBenchmark.Engine.Avx512 },
                    Winograd = wino,
                    Batch = b,
                    Size = sz,
                    Warmup = w,
                    Repeats = r,
                    Layers = results,
                };
                Console.WriteLine(JsonSerializer.Serialize(report, s_json));
            }
            else
            {
                WriteConvTable(results, wino);
            }
            return 0;
        });
        return command;
    }

    /// <summary><c>memgen bench train</c>: full training steps (forward, loss, backward, Adam) per second.</summary>
    private static Command Train()
    {
        var model = new Option<string>("--model") { Description = "Network, e.g. bfcnn:layers=17,width=64 or unet:blocks=2,width=64.", DefaultValueFactory = _ => "bfcnn:layers=17,width=64" };
        var size = new Option<int>("--size") { Description = "Image height and width.", DefaultValueFactory = _ => 40 };
        var batch = new Option<int>("--batch") { Description = "Images per step.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Timed steps (the median is reported).", DefaultValueFactory = _ => 10 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first.", DefaultValueFactory = _ => 3 };
        var winograd = new Option<bool>("--winograd") { Description = "Use oneDNN's Winograd algorithm for 3×3 layers (opt-in)." };
        var seed = new Option<long>("--seed") { Description = "Seed of the weights, images and noise.", DefaultValueFactory = _ => 0 };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var compare = new Option<string?>("--compare")
        {
            Description = "A second network timed in the same run, in alternating rounds with --model (same load for both); reports the step-time ratio (second over first).",
        };
        var rounds = new Option<int>("--rounds") { Description = "Alternating rounds with --compare (each times --steps steps of each network).", DefaultValueFactory = _ => 6 };
        var command = new Command("train", "Training-step throughput (images/s, ms/step, conv GFLOP/s, peak RSS) on the oneDNN engine; compare with bench/compare-pytorch.");
        foreach (var o in new Option[] { model, size, batch, steps, warmup, winograd, seed, json, compare, rounds }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            int sz = parse.GetValue(size), b = parse.GetValue(batch), n = parse.GetValue(steps), w = parse.GetValue(warmup);
            if (!TryModel(parse.GetValue(model), sz, out var spec, out var error)) return Fail(error);
            if (sz < 1) return Fail("--size must be at least 1");
            if (b < 1) return Fail("--batch must be at least 1");
            if (n < 1) return Fail("--steps must be at least 1");
            if (w < 0) return Fail("--warmup must not be negative");
            if (parse.GetValue(compare) is string other)
            {
                if (!TryModel(other, sz, out var second, out var problem)) return Fail(problem.Replace("--model", "--compare", StringComparison.Ordinal));
                if (parse.GetValue(rounds) < 1) return Fail("--rounds must be at least 1");
                if (!TryOpen(parse, "bench train", parse.GetValue(winograd), out var compareEngine, out int compareCode)) return compareCode;
                TrainStepComparison comparison;
                using (compareEngine)
                    comparison = TrainStepBenchmark.Compare(compareEngine, spec, second, sz, b, w, n, parse.GetValue(rounds), parse.GetValue(seed),
                        message => Console.Error.WriteLine($"bench train: {message}"));
                if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(comparison, s_json));
                else
                {
                    foreach (var m in comparison.Models)
                        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                            $"{m.Model} ({m.Parameters:N0} parameters), {sz}×{sz}, batch {b}: {m.ImagesPerS:F1} images/s, {m.StepMsMedian:F1} ms/step (min {m.StepMsMin:F1}, {m.Steps} steps)"));
                    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"step time ratio {comparison.Models[1].Model} / {comparison.Models[0].Model}: {comparison.StepTimeRatio:F3} (per round {string.Join(", ", comparison.RoundRatios.Select(r => r.ToString("F3", CultureInfo.InvariantCulture)))}); " +
                        $"load average {comparison.LoadBefore:F1} before, {comparison.LoadAfter:F1} after; {comparison.Models[0].Engine}"));
                }
                return 0;
            }
            if (!TryOpen(parse, "bench train", parse.GetValue(winograd), out var engine, out int code)) return code;
            TrainStepResult result;
            using (engine)
                result = TrainStepBenchmark.Run(engine, spec, sz, b, w, n, parse.GetValue(seed), message => Console.Error.WriteLine($"bench train: {message}"));
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(result, s_json));
            else
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.Model}, {sz}×{sz}, batch {b}: {result.ImagesPerS:F1} images/s, {result.StepMsMedian:F1} ms/step (min {result.StepMsMin:F1}), " +
                    $"{result.GflopsPerS:F0} conv GFLOP/s{(result.ConvMsPerStep is double conv ? $" ({conv:F0} ms in convolutions, {result.OtherMsPerStep:F0} ms elsewhere)" : "")}, peak RSS {result.PeakRssMb:F0} MiB, " +
                    $"{result.Engine}, {result.Precision}{(result.Winograd ? ", Winograd" : "")}"));
            return 0;
        });
        return command;
    }

    /// <summary><c>memgen bench reference</c>: rates of the empirical optimal denoiser and the exact nearest-neighbour search.</summary>
    private static Command Reference()
    {
        var train = new Option<int>("--train") { Description = "Training images N (synthetic).", DefaultValueFactory = _ => 60_000 };
        var size = new Option<int>("--size") { Description = "Image height and width.", DefaultValueFactory = _ => 28 };
        var queries = new Option<int>("--queries") { Description = "Query images per timed call.", DefaultValueFactory = _ => 256 };
        var repeats = new Option<int>("--repeats") { Description = "Timed calls (the median is reported).", DefaultValueFactory = _ => 3 };
        var json = new Option<bool>("--json") { Description = "Print the results as JSON instead of a table." };
        var command = new Command("reference", "Images/s of the empirical optimal denoiser and pairs/s of the exact nearest-neighbour search on N synthetic images.");
        foreach (var o in new Option[] { train, size, queries, repeats, json }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            int n = parse.GetValue(train), sz = parse.GetValue(size), q = parse.GetValue(queries), r = parse.GetValue(repeats);
            if (n < 2) return Fail("--train must be at least 2");
            if (sz < 1) return Fail("--size must be at least 1");
            if (q < 1) return Fail("--queries must be at least 1");
            if (r < 1) return Fail("--repeats must be at least 1");
            var training = ReferenceComputationBenchmark.Synthetic(n, sz, seed: 1);
            var results = new List<RateMeasurement>();
            Console.Error.WriteLine("bench reference: empirical optimal denoiser");
            results.Add(ReferenceComputationBenchmark.EmpiricalOptimal(training, q, r));
            foreach (var metric in new[] { MemGen.Analysis.SimilarityMetric.L2, MemGen.Analysis.SimilarityMetric.Cosine })
            {
                Console.Error.WriteLine($"bench reference: nearest-neighbour search ({metric})");
                results.Add(ReferenceComputationBenchmark.NearestNeighbours(training, q, metric, r));
            }
            if (parse.GetValue(json))
            {
                Console.WriteLine(JsonSerializer.Serialize(new { Benchmark = "reference", Train = n, Size = sz, Queries = q, Repeats = r, Results = results }, s_json));
                return 0;
            }
            var table = new Table().Title($"N = {n} synthetic images of {sz}×{sz}, {q} queries per call");
            foreach (var c in new[] { "computation", "median s", "rate", "GFLOP/s", "CPU s/call" }) table.AddColumn(c);
            foreach (var m in results)
                table.AddRow(Markup.Escape(m.Name), m.MedianSeconds.ToString("F3", CultureInfo.InvariantCulture),
                    m.Name.StartsWith("empirical", StringComparison.Ordinal)
                        ? $"{m.ItemsPerSecond.ToString("F0", CultureInfo.InvariantCulture)} images/s"
                        : $"{(m.ItemsPerSecond / 1e6).ToString("F1", CultureInfo.InvariantCulture)} M pairs/s",
                    m.Gflops.ToString("F0", CultureInfo.InvariantCulture), m.CpuSecondsPerCall.ToString("F3", CultureInfo.InvariantCulture));
            AnsiConsole.Write(table);
            Console.WriteLine("CPU s/call: process CPU time of all threads; without other load the wall time is about this / threads.");
            return 0;
        });
        return command;
    }

    /// <summary><c>memgen bench jacobian</c>: time to assemble the full d×d Jacobian of the denoiser at an image.</summary>
    private static Command Jacobian()
    {
        var model = new Option<string>("--model") { Description = "Network, e.g. bfcnn:layers=17,width=64 or unet:blocks=2,width=64.", DefaultValueFactory = _ => "bfcnn:layers=17,width=64" };
        var size = new Option<int>("--size") { Description = "Image height and width (d = size²).", DefaultValueFactory = _ => 28 };
        var batch = new Option<int>("--batch") { Description = "Basis vectors per network pass.", DefaultValueFactory = _ => 64 };
        var mode = new Option<string>("--mode") { Description = "jvp (forward passes, columns) or vjp (backward passes, rows).", DefaultValueFactory = _ => "jvp" };
        var winograd = new Option<bool>("--winograd") { Description = "Use oneDNN's Winograd algorithm for 3×3 layers (opt-in)." };
        var json = new Option<bool>("--json") { Description = "Print the result as JSON." };
        var command = new Command("jacobian", "Time for the full d×d Jacobian of a network denoiser at one image via batched exact JVPs or VJPs.");
        foreach (var o in new Option[] { model, size, batch, mode, winograd, json }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            int sz = parse.GetValue(size), b = parse.GetValue(batch);
            if (!TryModel(parse.GetValue(model), sz, out var spec, out var error)) return Fail(error);
            if (sz < 1) return Fail("--size must be at least 1");
            if (b < 1) return Fail("--batch must be at least 1");
            var m = parse.GetValue(mode)?.Trim().ToLowerInvariant();
            if (m is not ("jvp" or "vjp")) return Fail($"--mode must be 'jvp' or 'vjp', got '{parse.GetValue(mode)}'");
            if (!TryOpen(parse, "bench jacobian", parse.GetValue(winograd), out var engine, out int code)) return code;
            JacobianResult result;
            using (engine)
                result = JacobianBenchmark.Run(engine, spec, sz, b, m == "vjp", progress: message => Console.Error.WriteLine($"bench jacobian: {message}"));
            if (parse.GetValue(json)) Console.WriteLine(JsonSerializer.Serialize(result, s_json));
            else
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{result.Model}, {sz}×{sz} (d = {result.Dimension}): full Jacobian by {result.Mode} in {result.JacobianSeconds:F2} s " +
                    $"({result.ProductsPerS:F0} products/s, batch {result.Batch}; linearization {result.LinearizeMs:F1} ms; ‖J_r·y − r(y)‖/‖r(y)‖ = {result.EulerRelativeError:E1})"));
            return 0;
        });
        return command;
    }

    /// <summary>Opens the benchmark backend of --device/--precision; on failure one line and exit code 2.</summary>
    private static bool TryOpen(ParseResult parse, string command, bool winograd, out BenchmarkBackend engine, out int exitCode)
    {
        engine = null!;
        if (!DeviceOptions.TryParse(parse, command, out var device, out var precision, out exitCode)) return false;
        try
        {
            engine = BenchmarkBackend.Open(device, precision, winograd);
            return true;
        }
        catch (ComputeUnavailableException e)
        {
            exitCode = CommandError.Report(command, $"{DeviceOptions.DeviceName} {device}: {e.Message}");
            return false;
        }
    }

    /// <summary>Parses --model and checks that <paramref name="size"/> fits it; on failure a one-line reason.</summary>
    private static bool TryModel(string? text, int size, out NetworkSpec spec, out string error)
    {
        spec = null!;
        try
        {
            spec = NetworkSpec.Parse(text ?? "");
        }
        catch (FormatException e)
        {
            error = $"--model: {e.Message.TrimEnd('.')}";
            return false;
        }
        if (size >= 1 && size % spec.SizeDivisor != 0)
        {
            error = $"--size {size} does not fit {spec}: it must be divisible by {spec.SizeDivisor}";
            return false;
        }
        error = "";
        return true;
    }

    private static void WriteConvTable(IReadOnlyList<LayerTiming> results, bool winograd)
    {
        // Spectre assumes 80 columns when stdout is not a terminal; the table needs about 100.
        if (Console.IsOutputRedirected) AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 110);
        var table = new Table().Title($"oneDNN {ConvolutionBenchmark.Engine.Version}, {ConvolutionBenchmark.Engine.Threads} threads, {(winograd ? "Winograd requested" : "direct")}");
        table.AddColumn("layer");
        table.AddColumn("b×h×w in");
        foreach (var pass in new[] { "fwd", "bwd-data", "bwd-wts" })
        {
            table.AddColumn(new TableColumn($"{pass} ms").RightAligned());
            table.AddColumn(new TableColumn("GF/s").RightAligned());
        }
        table.AddColumn("alg");
        foreach (var t in results)
        {
            var cells = new List<string> { Markup.Escape(t.Layer), $"{t.Batch}×{t.Height}×{t.Width}" };
            foreach (var p in new[] { t.Forward, t.BackwardData, t.BackwardWeights })
            {
                cells.Add(p.MedianMs.ToString("F2", CultureInfo.InvariantCulture));
                cells.Add(p.Gflops.ToString("F0", CultureInfo.InvariantCulture));
            }
            cells.Add(t.Forward.Algorithm == "winograd" ? "wino" : "direct");
            table.AddRow(cells.ToArray());
        }
        AnsiConsole.Write(table);
        var implementations = results.SelectMany(t => new[] { t.Forward, t.BackwardData, t.BackwardWeights })
            .Select(p => p.Implementation).Distinct();
        Console.WriteLine($"oneDNN implementations: {string.Join(", ", implementations)}. GFLOP/s = direct-convolution FLOPs / median time.");
    }

    private static int Fail(string message) => CommandError.Report("bench", message);
}
