using MemGen.Analysis.AdaptiveBasis;
using System.Globalization;
using System.Text.Json.Nodes;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Nn;
using MemGen.Results;
using MemGen.Runs;

namespace MemGen.Analysis;

/// <summary>Everything <c>memgen analyze jacobian</c> needs.</summary>
public sealed record JacobianJobSettings
{
    /// <summary>The network: <c>checkpoint:PATH</c> (a .safetensors file or a training run directory).</summary>
    public required string Denoiser { get; init; }

    /// <summary>Dataset spec holding the clean image x.</summary>
    public required string Data { get; init; }

    /// <summary>Index of the clean image in <see cref="Data"/>.</summary>
    public int Index { get; init; }

    /// <summary>Noise standard deviation σ on the [0,1] scale.</summary>
    public required double Sigma { get; init; }

    /// <summary>Seed of the noise z (y = x + σz).</summary>
    public long Seed { get; init; }

    /// <summary>Eigenvectors written (largest λ first).</summary>
    public int Top { get; init; } = 16;

    /// <summary>Basis vectors pushed through the network per pass.</summary>
    public int Batch { get; init; } = 64;

    /// <summary>Output folder.</summary>
    public required string Out { get; init; }

    /// <summary>Overwrite results already in <see cref="Out"/>.</summary>
    public bool Force { get; init; }
}

/// <summary>What a Jacobian job produced.</summary>
/// <param name="Analysis">The eigen-analysis.</param>
/// <param name="Architecture">The network's spec.</param>
public sealed record JacobianJobResult(JacobianAnalysisResult Analysis, NetworkSpec Architecture);

/// <summary>
/// <c>memgen analyze jacobian</c>: the GAHB Jacobian analysis (docs/science.md §5.6) of a checkpoint at one noisy image; writes
/// eigenvalues.csv, summary.json, eigenvectors.npy/png and jacobian.npy. Every input is checked before anything is
/// written; invalid input raises an <see cref="InvalidSettingException"/> naming the setting.
/// </summary>
public static class JacobianJob
{
    /// <summary>Files the job writes into its output folder.</summary>
    public static IReadOnlyList<string> OutputFiles { get; } =
        ["eigenvalues.csv", "summary.json", "eigenvectors.npy", "eigenvectors.png", "jacobian.npy"];

    /// <summary>Runs the job (the network on <paramref name="backend"/>, the CPU when null); <paramref name="progress"/> receives the fraction of the Jacobian assembled.</summary>
    public static JacobianJobResult Run(JacobianJobSettings settings, IProgress<double>? progress = null, ComputeBackend? backend = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        // 1. Checks that read nothing.
        var spec = DenoiserSpec.ParseAs("denoiser", settings.Denoiser);
        if (spec.Kind != DenoiserKind.Checkpoint) throw new InvalidSettingException("denoiser", $"'{spec}' is not a network; the Jacobian analysis needs checkpoint:PATH");
        var dataSpec = DatasetSpec.ParseAs("data", settings.Data);
        if (!double.IsFinite(settings.Sigma) || settings.Sigma <= 0)
            throw new InvalidSettingException("sigma", $"must be a positive number, got {settings.Sigma.ToString(CultureInfo.InvariantCulture)}");
        if (settings.Index < 0) throw new InvalidSettingException("index", $"must be at least 0, got {settings.Index}");
        if (settings.Top < 1) throw new InvalidSettingException("top", $"must be at least 1, got {settings.Top}");
        if (settings.Batch < 1) throw new InvalidSettingException("batch", $"must be at least 1, got {settings.Batch}");
        var outDir = settings.Out;
        if (File.Exists(outDir)) throw new InvalidSettingException("out", $"{outDir} is a file, not a directory");
        using var folderLock = RunFolderLock.Acquire(outDir);
        if (!settings.Force)
            foreach (var f in OutputFiles)
                if (File.Exists(Path.Combine(outDir, f))) throw new InvalidSettingException("out", $"{outDir} already holds {f} (use --force to overwrite)");

        // 2. Read the data and the network.
        var images = DatasetLoader.LoadAs("data", dataSpec);
        if (settings.Index >= images.Count) throw new InvalidSettingException("index", $"'{dataSpec}' has {images.Count} images, index {settings.Index} is out of range");

        CheckpointMetadata meta;
        string file;
        try
        {
            file = DenoiserSpec.CheckpointFile(spec.Path!);
            meta = Checkpoint.ReadMetadata(file);
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidSettingException("denoiser", e.Message, e);
        }
        string shape = $"{images.Channels}x{images.Height}x{images.Width}";
        if (meta.Channels != images.Channels)
            throw new InvalidSettingException("denoiser", $"the checkpoint takes {meta.Channels}-channel images, --data images are {shape}");
        int div = meta.Spec.SizeDivisor;
        if (images.Height % div != 0 || images.Width % div != 0)
            throw new InvalidSettingException("denoiser", $"{meta.Spec} needs image sides divisible by {div}, --data images are {shape}");

        using var ownBackend = backend is null ? new CpuBackend() : null;
        DenoisingNetwork network;
        try
        {
            network = Checkpoint.Load(file, backend ?? ownBackend!);
        }
        catch (Exception e) when (e is CheckpointException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidSettingException("denoiser", e.Message, e);
        }
        using (network)
        {
            // 3. Analyze.
            int d = images.ImageSize;
            var clean = images.Image(settings.Index).ToArray();
            var result = JacobianAnalysis.Analyze(network, clean, images.Height, images.Width, settings.Sigma, settings.Seed, settings.Top, settings.Batch,
                (done, total) => progress?.Report((double)done / Math.Max(1, total)));

            // 4. Write (all or nothing).
            var written = new List<string>();
            try
            {
                Directory.CreateDirectory(outDir);
                string PathOf(string name) { var p = Path.Combine(outDir, name); written.Add(p); return p; }
                EigenvaluesTable(result).WriteCsv(PathOf("eigenvalues.csv"));
                AtomicFile.WriteAllText(PathOf("summary.json"), Summary(result, spec, dataSpec, settings.Index, meta).ToJsonString(new() { WriteIndented = true }));
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
                throw new InvalidSettingException("out", $"cannot write to {outDir} ({e.Message.TrimEnd('.')})", e);
            }
            return new JacobianJobResult(result, meta.Spec);
        }
    }

    /// <summary>eigenvalues.csv: k (1-based), λ_k and ⟨x, e_k⟩ for every eigenvalue of the symmetric part, descending.</summary>
    public static ResultTable EigenvaluesTable(JacobianAnalysisResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var table = new ResultTable(["k", "lambda", "coefficient"]);
        for (int k = 0; k < result.Eigenvalues.Length; k++) table.Add(k + 1, result.Eigenvalues[k], result.Coefficients[k]);
        return table;
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
        ["noise_conditioned"] = meta.Spec.IsConditioned,
        ["top_eigenvalues"] = new JsonArray([.. r.Eigenvalues.Take(r.Top).Select(v => (JsonNode?)JsonValue.Create(v))]),
    };

    /// <summary>A PNG grid of the top eigenvectors, each scaled to its own [min, max] (eigenvectors have either sign).</summary>
    public static void WriteEigenvectorGrid(string path, float[] vectors, JacobianAnalysisResult r)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentNullException.ThrowIfNull(r);
        EigenvectorGrid.Write(path, new ImageShape(r.Channels, r.Height, r.Width), Array.ConvertAll(vectors, v => (double)v), r.Top, Math.Min(r.Top, 8));
    }
}
