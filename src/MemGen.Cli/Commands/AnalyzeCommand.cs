using System.CommandLine;
using System.Globalization;
using System.Text.Json.Nodes;
using System.Text;
using MemGen.Analysis;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Native;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen analyze</c>: analyses of a trained denoiser. <c>analyze jacobian</c> is the GAHB Jacobian analysis
/// (docs/science.md §5) of a checkpoint at one noisy image. Every input is checked before anything is written.
/// </summary>
public static class AnalyzeCommand
{
    /// <summary>Files <c>analyze jacobian</c> writes into --out.</summary>
    public static IReadOnlyList<string> JacobianOutputFiles { get; } =
        ["eigenvalues.csv", "summary.json", "eigenvectors.npy", "eigenvectors.png", "jacobian.npy"];

    /// <summary>Creates the command group.</summary>
    public static Command Create()
    {
        var command = new Command("analyze", "Analyses of a trained denoiser (see the subcommands).");
        command.Subcommands.Add(CreateJacobian());
        return command;
    }

    private static Command CreateJacobian()
    {
        var denoiser = new Option<string>("--denoiser") { Description = "checkpoint:PATH (a .safetensors file or a training run directory).", Required = true };
        var data = new Option<string>("--data") { Description = "Dataset spec holding the clean image x (see memgen data --help).", Required = true };
        var index = new Option<int>("--index") { Description = "Index of the clean image in --data.", DefaultValueFactory = _ => 0 };
        var sigma = new Option<double>("--sigma") { Description = "Noise standard deviation σ on the [0,1] scale.", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed of the noise z (y = x + σz).", DefaultValueFactory = _ => 0 };
        var top = new Option<int>("--top") { Description = "Eigenvectors written (largest λ first).", DefaultValueFactory = _ => 16 };
        var batch = new Option<int>("--batch") { Description = "Basis vectors pushed through the network per pass.", DefaultValueFactory = _ => 64 };
        var outDir = new Option<string>("--out") { Description = "Output directory (created if missing).", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite results already in --out." };
        var command = new Command("jacobian",
            "Jacobian J = ∂f/∂y of a checkpoint's denoiser at y = x + σz (docs/science.md §5): eigenvalues of (J+Jᵀ)/2, clean-image coefficients, " +
            "tr J, Σλ², asymmetry, Euler check; writes eigenvalues.csv, summary.json, eigenvectors.npy/png, jacobian.npy.");
        foreach (var o in new Option[] { denoiser, data, index, sigma, seed, top, batch, outDir, force }) command.Options.Add(o);
        command.SetAction(parse => RunJacobian(parse.GetValue(denoiser)!, parse.GetValue(data)!, parse.GetValue(index), parse.GetValue(sigma),
            parse.GetValue(seed), parse.GetValue(top), parse.GetValue(batch), parse.GetValue(outDir)!, parse.GetValue(force)));
        return command;
    }

    private static int RunJacobian(string denoiserText, string dataText, int index, double sigma, long seed, int top, int batch, string outDir, bool force)
    {
        // 1. Checks that read nothing.
        DenoiserSpec spec;
        try
        {
            spec = DenoiserSpec.Parse(denoiserText);
        }
        catch (FormatException e)
        {
            return Fail($"--denoiser: {e.Message.TrimEnd('.')}");
        }
        if (spec.Kind != DenoiserKind.Checkpoint) return Fail($"--denoiser: '{spec}' is not a network; the Jacobian analysis needs checkpoint:PATH");
        DatasetSpec dataSpec;
        try
        {
            dataSpec = DatasetSpec.Parse(dataText);
        }
        catch (DataFormatException e)
        {
            return Fail($"--data: {e.Message.TrimEnd('.')}");
        }
        if (!double.IsFinite(sigma) || sigma <= 0) return Fail($"--sigma must be a positive number, got {sigma.ToString(CultureInfo.InvariantCulture)}");
        if (index < 0) return Fail($"--index must be at least 0, got {index}");
        if (top < 1) return Fail($"--top must be at least 1, got {top}");
        if (batch < 1) return Fail($"--batch must be at least 1, got {batch}");
        if (File.Exists(outDir)) return Fail($"--out: {outDir} is a file, not a directory");
        using var folderLock = MemGen.Runs.RunFolderLock.Acquire(outDir);
        if (!force)
            foreach (var f in JacobianOutputFiles)
                if (File.Exists(Path.Combine(outDir, f))) return Fail($"--out: {outDir} already holds {f} (use --force to overwrite)");

        // 2. Read the data and the network.
        ImageSet images;
        try
        {
            images = DatasetLoader.Load(dataSpec);
        }
        catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
        {
            return Fail($"--data: {e.Message.TrimEnd('.')}");
        }
        if (index >= images.Count) return Fail($"--index: '{dataSpec}' has {images.Count} images, index {index} is out of range");

        CheckpointMetadata meta;
        string file;
        try
        {
            file = DenoiserSpec.CheckpointFile(spec.Path!);
            meta = Checkpoint.ReadMetadata(file);
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            return Fail($"--denoiser: {e.Message.TrimEnd('.')}");
        }
        string shape = $"{images.Channels}x{images.Height}x{images.Width}";
        if (meta.Channels != images.Channels)
            return Fail($"--denoiser: the checkpoint takes {meta.Channels}-channel images, --data images are {shape}");
        int div = meta.Spec.SizeDivisor;
        if (images.Height % div != 0 || images.Width % div != 0)
            return Fail($"--denoiser: {meta.Spec} needs image sides divisible by {div}, --data images are {shape}");

        using var convolutions = new OneDnnConvolutionFactory();
        DenoisingNetwork network;
        try
        {
            network = Checkpoint.Load(file, convolutions);
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            return Fail($"--denoiser: {e.Message.TrimEnd('.')}");
        }
        using (network)
        {
            // 3. Analyze.
            int d = images.ImageSize;
            var clean = images.Image(index).ToArray();
            var result = ConsoleProgress.Run("jacobian", d, progress =>
                JacobianAnalysis.Analyze(network, clean, images.Height, images.Width, sigma, seed, top, batch, (done, _) => progress.Report(done)));

            // 4. Write (all or nothing).
            var written = new List<string>();
            try
            {
                Directory.CreateDirectory(outDir);
                string PathOf(string name) { var p = Path.Combine(outDir, name); written.Add(p); return p; }
                AtomicFile.WriteAllText(PathOf("eigenvalues.csv"), EigenvaluesCsv(result));
                AtomicFile.WriteAllText(PathOf("summary.json"), Summary(result, spec, dataSpec, index, meta).ToJsonString(new() { WriteIndented = true }));
                var vectors = Array.ConvertAll(result.TopEigenvectors, v => (float)v);
                NpyWriter.Write(PathOf("eigenvectors.npy"), vectors, [result.Top, images.Channels, images.Height, images.Width]);
                WriteEigenvectorGrid(PathOf("eigenvectors.png"), vectors, result);
                NpyWriter.Write(PathOf("jacobian.npy"), Array.ConvertAll(result.Jacobian, v => (float)v), [d, d]);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                foreach (var p in written)
                {
                    try { File.Delete(p); } catch (IOException) { }
                }
                return Fail($"--out: cannot write to {outDir} ({e.Message.TrimEnd('.')})");
            }
            Console.WriteLine(FormattableString.Invariant(
                $"{meta.Spec} at σ={sigma}: tr J {result.EffectiveDimensionality:F2}, Σλ² {result.SumSquaredEigenvalues:F2}, λ1 {result.Eigenvalues[0]:F3}, asymmetry {result.Asymmetry:G3}, Euler error {result.EulerRelativeError:G3} (d = {d}); wrote {outDir}"));
            return 0;
        }
    }

    /// <summary>eigenvalues.csv: k (1-based), λ_k and ⟨x, e_k⟩ for every eigenvalue of the symmetric part, descending.</summary>
    public static string EigenvaluesCsv(JacobianAnalysisResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var sb = new StringBuilder("k,lambda,coefficient\n");
        for (int k = 0; k < result.Eigenvalues.Length; k++)
            sb.Append(CultureInfo.InvariantCulture, $"{k + 1},{result.Eigenvalues[k]:R},{result.Coefficients[k]:R}\n");
        return sb.ToString();
    }

    private static JsonObject Summary(JacobianAnalysisResult r, DenoiserSpec spec, DatasetSpec data, int index, CheckpointMetadata meta) => new()
    {
        ["command"] = "analyze jacobian",
        ["memgen_version"] = MemGenInfo.Version,
        ["denoiser"] = spec.ToString(),
        ["architecture"] = meta.Spec.ToString(),
        ["checkpoint_step"] = meta.Step,
        ["data"] = data.ToString(),
        ["index"] = index,
        ["sigma"] = r.Sigma,
        ["seed"] = r.Seed,
        ["dimension"] = r.Dimension,
        ["top"] = r.Top,
        ["asymmetry"] = r.Asymmetry,
        ["effective_dimensionality_trace"] = r.EffectiveDimensionality,
        ["sum_squared_eigenvalues"] = r.SumSquaredEigenvalues,
        ["euler_relative_error"] = r.EulerRelativeError,
        ["top_eigenvalues"] = new JsonArray([.. r.Eigenvalues.Take(r.Top).Select(v => (JsonNode?)JsonValue.Create(v))]),
    };

    private static void WriteEigenvectorGrid(string path, float[] vectors, JacobianAnalysisResult r)
    {
        int d = r.Dimension;
        var scaled = new ReadOnlyMemory<float>[r.Top];
        for (int k = 0; k < r.Top; k++)
        {
            var v = vectors.AsSpan(k * d, d).ToArray();
            float lo = v.Min(), hi = v.Max();
            float range = hi > lo ? hi - lo : 1f;
            for (int i = 0; i < d; i++) v[i] = (v[i] - lo) / range;
            scaled[k] = v;
        }
        PngWriter.WriteGrid(path, scaled, new ImageShape(r.Channels, r.Height, r.Width), columns: Math.Min(r.Top, 8), zoom: r.Height < 64 ? 2 : 1);
    }

    private static int Fail(string message) => CommandError.Report("analyze jacobian", message);
}
