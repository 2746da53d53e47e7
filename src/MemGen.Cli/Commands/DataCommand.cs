using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using MemGen.Data;
using MemGen.Images;
using Spectre.Console;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen data info|preview|export|split SPEC</c>: inspect, preview, export and split image sets given by a
/// dataset spec (syntax in <see cref="DatasetSpec.SyntaxHelp"/> and docs/data-specs.md). Results go to stdout and
/// files (written atomically); progress goes to stderr; bad input is a one-line error with exit code 2.
/// </summary>
internal static class DataCommand
{
    private static readonly JsonSerializerOptions s_json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
    };

    /// <summary>Creates the <c>data</c> command group.</summary>
    public static Command Create()
    {
        var command = new Command("data", "Datasets: inspect, preview, export and split image sets.\n\n" + DatasetSpec.SyntaxHelp);
        command.Subcommands.Add(Info());
        command.Subcommands.Add(Preview());
        command.Subcommands.Add(Export());
        command.Subcommands.Add(Split());
        return command;
    }

    private static Argument<string> SpecArgument() => new("spec") { Description = "Dataset spec, e.g. 'fashion-mnist:train|take=1000' (see memgen data --help)." };

    /// <summary><c>memgen data info SPEC</c>: count, shape, value range and mean-image statistics.</summary>
    private static Command Info()
    {
        var spec = SpecArgument();
        var json = new Option<bool>("--json") { Description = "Print the statistics as JSON." };
        var command = new Command("info", "Count, shape, value range, pixel mean/std and mean-image statistics of a dataset.") { spec, json };
        command.SetAction(parse => Run(parse, "info", (output, error) =>
        {
            var sw = Stopwatch.StartNew();
            var set = Load(parse.GetValue(spec)!, error);
            double loadSeconds = sw.Elapsed.TotalSeconds;
            var stats = Statistics(set, loadSeconds);
            if (parse.GetValue(json)) output.WriteLine(JsonSerializer.Serialize(stats, s_json));
            else WriteInfo(output, stats);
            return 0;
        }));
        return command;
    }

    /// <summary><c>memgen data preview SPEC --out grid.png</c>: the first images as a PNG grid.</summary>
    private static Command Preview()
    {
        var spec = SpecArgument();
        var output = new Option<string>("--out") { Description = "PNG file to write.", Required = true };
        var count = new Option<int>("--count") { Description = "Images to show (the first ones).", DefaultValueFactory = _ => 64 };
        var columns = new Option<int>("--columns") { Description = "Grid columns.", DefaultValueFactory = _ => 8 };
        var zoom = new Option<int>("--zoom") { Description = "Integer upscaling of each image (nearest neighbour).", DefaultValueFactory = _ => 2 };
        var labels = new Option<bool>("--labels") { Description = "Caption each row with the labels of its images (if the dataset has labels)." };
        var command = new Command("preview", "Write the first images of a dataset as a PNG grid (values clamped to [0,1]).") { spec, output, count, columns, zoom, labels };
        command.SetAction(parse => Run(parse, "preview", (stdout, error) =>
        {
            int n = parse.GetValue(count), cols = parse.GetValue(columns), z = parse.GetValue(zoom);
            if (n < 1) return Fail(error, "preview", "--count must be at least 1");
            if (cols < 1) return Fail(error, "preview", "--columns must be at least 1");
            if (z < 1 || z > 16) return Fail(error, "preview", "--zoom must be between 1 and 16");
            if (DatasetSpec.Parse(parse.GetValue(spec)!).WouldRead(parse.GetValue(output)!))
                return Fail(error, "preview", $"--out '{parse.GetValue(output)}' is in the source folder of '{parse.GetValue(spec)}', whose next load would read the preview as one of its images; write it elsewhere");
            var set = Load(parse.GetValue(spec)!, error);
            if (set.Channels is not (1 or 3 or 4)) return Fail(error, "preview", $"cannot draw {set.Channels}-channel images (add |gray)");
            n = Math.Min(n, set.Count);
            List<string>? rowLabels = null;
            if (parse.GetValue(labels) && set.Labels is not null)
            {
                rowLabels = [];
                for (int r = 0; r * cols < n; r++)
                    rowLabels.Add(string.Join(" ", set.Labels.Skip(r * cols).Take(Math.Min(cols, n - r * cols))));
            }
            string path = parse.GetValue(output)!;
            PngWriter.WriteGrid(path, set, cols, rowLabels, padding: 2, zoom: z, maxImages: n);
            stdout.WriteLine($"wrote {path}: {n} of {set.Count} images of {set.Channels}×{set.Height}×{set.Width} ({DisjointSplit.SpecOf(set)})");
            return 0;
        }));
        return command;
    }

    /// <summary><c>memgen data export SPEC --out x.npy</c>: all images as a float32 (N,C,H,W) .npy (labels to a second file).</summary>
    private static Command Export()
    {
        var spec = SpecArgument();
        var output = new Option<string>("--out") { Description = ".npy file to write (float32, shape (N,C,H,W)).", Required = true };
        var labels = new Option<string?>("--labels-out") { Description = "Also write the labels (float32, shape (N,)) to this .npy file." };
        var command = new Command("export", "Write a dataset as a float32 (N,C,H,W) NumPy .npy file.") { spec, output, labels };
        command.SetAction(parse => Run(parse, "export", (stdout, error) =>
        {
            string path = parse.GetValue(output)!;
            if (!path.EndsWith(".npy", StringComparison.OrdinalIgnoreCase)) return Fail(error, "export", $"--out '{path}' must end in .npy");
            string? labelsPath = parse.GetValue(labels);
            var set = Load(parse.GetValue(spec)!, error);
            if (labelsPath is not null && set.Labels is null) return Fail(error, "export", $"--labels-out given but '{DisjointSplit.SpecOf(set)}' has no labels");
            NpyWriter.Write(path, set);
            if (labelsPath is not null) NpyWriter.Write(labelsPath, set.Labels!.Select(l => (float)l).ToArray(), [set.Count]);
            stdout.WriteLine($"wrote {path}: ({set.Count}, {set.Channels}, {set.Height}, {set.Width}) float32 from {DisjointSplit.SpecOf(set)}");
            return 0;
        }));
        return command;
    }

    /// <summary><c>memgen data split SPEC --n N --out DIR</c>: S1, S2, test as .npy plus the manifest.</summary>
    private static Command Split()
    {
        var spec = SpecArgument();
        var n = new Option<int>("--n") { Description = "Images per training subset (S1 = first N, S2 = last N of the pool; N ≤ half the pool).", Required = true };
        var output = new Option<string>("--out") { Description = "Folder for s1.npy, s2.npy, test.npy and split.json.", Required = true };
        var test = new Option<int>("--test") { Description = "Test images (from the held-out middle of the pool, or the start of --test-spec).", DefaultValueFactory = _ => 1000 };
        var testSpec = new Option<string?>("--test-spec") { Description = "Take the test images from this dataset spec instead of the pool." };
        var command = new Command("split", "Two disjoint training subsets (first N, last N) and a held-out test set, with a manifest of indices and SHA-256 hashes.") { spec, n, output, test, testSpec };
        command.SetAction(parse => Run(parse, "split", (stdout, error) =>
        {
            int count = parse.GetValue(n), testCount = parse.GetValue(test);
            if (count < 1) return Fail(error, "split", "--n must be at least 1");
            if (testCount < 0) return Fail(error, "split", "--test must not be negative");
            string dir = parse.GetValue(output)!;
            if (File.Exists(dir)) return Fail(error, "split", $"--out '{dir}' is a file, expected a folder");
            var pool = Load(parse.GetValue(spec)!, error);
            string? testText = parse.GetValue(testSpec);
            var split = testText is null
                ? DisjointSplit.Create(pool, count, testCount)
                : DisjointSplit.Create(pool, count, Load(testText, error), testCount);
            NpyWriter.Write(Path.Combine(dir, "s1.npy"), split.S1);
            NpyWriter.Write(Path.Combine(dir, "s2.npy"), split.S2);
            NpyWriter.Write(Path.Combine(dir, "test.npy"), split.Test);
            split.Manifest.Save(Path.Combine(dir, "split.json"));
            stdout.WriteLine($"wrote {dir}: s1.npy, s2.npy ({count} each of {pool.Count}), test.npy ({split.Test.Count}), split.json");
            stdout.WriteLine($"S1 sha256 {split.Manifest.S1Sha256}");
            stdout.WriteLine($"S2 sha256 {split.Manifest.S2Sha256}");
            stdout.WriteLine($"test sha256 {split.Manifest.TestSha256}");
            return 0;
        }));
        return command;
    }

    /// <summary>Summary statistics of a dataset, as printed by <c>data info</c>.</summary>
    private sealed record DatasetStatistics(string Spec, int Count, int Channels, int Height, int Width, int Dimension,
        double Min, double Max, double Mean, double Std, double[] ChannelMeans, double MeanImageMin, double MeanImageMax,
        double MeanImageStd, Dictionary<int, int>? LabelCounts, double LoadSeconds);

    private static DatasetStatistics Statistics(ImageSet set, double loadSeconds)
    {
        int d = set.ImageSize, plane = set.Height * set.Width;
        var meanImage = new double[d];
        double sum = 0, sumSq = 0, min = double.PositiveInfinity, max = double.NegativeInfinity;
        for (int i = 0; i < set.Count; i++)
        {
            var img = set.Image(i);
            for (int k = 0; k < d; k++)
            {
                double v = img[k];
                meanImage[k] += v;
                sum += v;
                sumSq += v * v;
                if (v < min) min = v;
                if (v > max) max = v;
            }
        }
        long total = (long)set.Count * d;
        double mean = total > 0 ? sum / total : double.NaN;
        double std = total > 0 ? Math.Sqrt(Math.Max(0, sumSq / total - mean * mean)) : double.NaN;
        for (int k = 0; k < d; k++) meanImage[k] /= Math.Max(1, set.Count);
        var channelMeans = Enumerable.Range(0, set.Channels).Select(c => meanImage.AsSpan(c * plane, plane).ToArray().Average()).ToArray();
        double miMean = meanImage.Average();
        double miStd = Math.Sqrt(meanImage.Average(v => (v - miMean) * (v - miMean)));
        var labels = set.Labels?.GroupBy(l => l).OrderBy(g => g.Key).ToDictionary(g => g.Key, g => g.Count());
        return new DatasetStatistics(DisjointSplit.SpecOf(set), set.Count, set.Channels, set.Height, set.Width, d,
            total > 0 ? min : double.NaN, total > 0 ? max : double.NaN, mean, std, channelMeans,
            set.Count > 0 ? meanImage.Min() : double.NaN, set.Count > 0 ? meanImage.Max() : double.NaN, miStd, labels, loadSeconds);
    }

    private static void WriteInfo(TextWriter output, DatasetStatistics s)
    {
        string F(double v) => v.ToString("G5", CultureInfo.InvariantCulture);
        output.WriteLine($"dataset      {s.Spec}");
        output.WriteLine($"images       {s.Count} × {s.Channels}×{s.Height}×{s.Width} (d = {s.Dimension})");
        output.WriteLine($"values       min {F(s.Min)}, max {F(s.Max)}, mean {F(s.Mean)}, std {F(s.Std)}");
        output.WriteLine($"channel mean {string.Join(", ", s.ChannelMeans.Select(F))}");
        output.WriteLine($"mean image   min {F(s.MeanImageMin)}, max {F(s.MeanImageMax)}, spatial std {F(s.MeanImageStd)}");
        if (s.LabelCounts is not null)
            output.WriteLine($"labels       {string.Join(", ", s.LabelCounts.Select(kv => $"{kv.Key}: {kv.Value}"))}");
        output.WriteLine($"loaded in    {s.LoadSeconds:F2} s");
    }

    private static ImageSet Load(string text, TextWriter error)
    {
        var spec = DatasetSpec.Parse(text);
        if (ReferenceEquals(error, Console.Error) && !Console.IsErrorRedirected)
        {
            // Interactive terminal: a Spectre.Console progress bar on stderr.
            var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
            ImageSet? result = null;
            console.Progress().AutoClear(true).Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(spec.ToString()), maxValue: 1);
                result = DatasetLoader.Load(spec, new Progress(p => task.Value = p));
                task.Value = 1;
            });
            return result!;
        }
        int lastDecile = -1;
        var progress = new Progress(p =>
        {
            int decile = (int)(p * 10);
            if (decile <= lastDecile) return;
            lastDecile = decile;
            lock (error) error.WriteLine($"memgen data: {spec} … {decile * 10}%");
        });
        return DatasetLoader.Load(spec, progress);
    }

    /// <summary>Synchronous progress sink (System.Progress posts to the thread pool, which reorders lines).</summary>
    private sealed class Progress(Action<double> report) : IProgress<double>
    {
        public void Report(double value) => report(value);
    }

    private static int Run(ParseResult parse, string name, Func<TextWriter, TextWriter, int> body)
    {
        var output = parse.InvocationConfiguration.Output;
        var error = parse.InvocationConfiguration.Error;
        try
        {
            return body(output, error);
        }
        catch (DataFormatException e)
        {
            return Fail(error, name, e.Message.TrimEnd('.'));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return Fail(error, name, e.Message.Replace('\n', ' ').TrimEnd('.'));
        }
    }

    private static int Fail(TextWriter error, string name, string message)
    {
        error.WriteLine($"memgen data {name}: {message}.");
        return 2;
    }
}
