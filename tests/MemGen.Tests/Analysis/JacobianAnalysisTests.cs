using MemGen.Analysis;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Tests.Analysis;

public class JacobianAnalysisTests
{
    private const int Size = 6;

    /// <summary>A small BF-CNN on the reference convolution, γ near 1 so evaluation activations keep their scale.</summary>
    private static DenoisingNetwork SmallNetwork()
    {
        var net = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=3,width=4"), 1, new ReferenceConvolutionFactory(), seed: 11);
        var rng = new DeterministicRng(12);
        foreach (var p in net.Parameters.Where(p => p.Name.EndsWith(".gamma", StringComparison.Ordinal))) rng.FillUniform(p.Value.Span, 0.5f, 1.5f);
        return net;
    }

    private static float[] CleanImage()
    {
        var x = new float[Size * Size];
        new DeterministicRng(13).FillUniform(x);
        return x;
    }

    private static float[] Denoise(DenoisingNetwork net, float[] y)
    {
        var input = Tensor.FromArray(y, 1, 1, Size, Size);
        var r = net.Forward(input, training: false);
        var f = new float[y.Length];
        for (int i = 0; i < y.Length; i++) f[i] = y[i] - r.Data[i];
        return f;
    }

    [Fact]
    public void AssembledJacobianMatchesFiniteDifferencesAndEuler()
    {
        using var net = SmallNetwork();
        var result = JacobianAnalysis.Analyze(net, CleanImage(), Size, Size, sigma: 0.2, seed: 3, top: 4, batch: 7);
        int d = result.Dimension;
        Assert.Equal(Size * Size, d);

        // f(y) is reproduced by a plain evaluation forward pass.
        var f = Denoise(net, result.Noisy);
        for (int i = 0; i < d; i++) Assert.Equal(f[i], result.Denoised[i], 1e-5f);

        // Central differences in random directions (piecewise linear: exact unless a ReLU switches).
        var rng = new DeterministicRng(14);
        const float eps = 1e-3f;
        for (int trial = 0; trial < 3; trial++)
        {
            var v = new float[d];
            rng.FillNormal(v);
            var plus = new float[d];
            var minus = new float[d];
            for (int i = 0; i < d; i++) { plus[i] = result.Noisy[i] + eps * v[i]; minus[i] = result.Noisy[i] - eps * v[i]; }
            var fp = Denoise(net, plus);
            var fm = Denoise(net, minus);
            double err = 0, norm = 0;
            for (int i = 0; i < d; i++)
            {
                double jv = 0;
                for (int c = 0; c < d; c++) jv += result.Jacobian[(long)i * d + c] * v[c];
                double fd = (fp[i] - fm[i]) / (2.0 * eps);
                err += (jv - fd) * (jv - fd);
                norm += jv * jv;
            }
            Assert.True(Math.Sqrt(err / norm) < 1e-2, $"direction {trial}: relative error {Math.Sqrt(err / norm)}");
        }

        // Bias-free: J·y = f(y).
        Assert.True(result.EulerRelativeError < 1e-4, $"Euler error {result.EulerRelativeError}");
        // The residual is not trivial: an untrained conv net's Jacobian is visibly asymmetric (I − J_r with J_r ≠ J_rᵀ).
        Assert.InRange(result.Asymmetry, 1e-3, 2);
    }

    [Fact]
    public void EigendecompositionReconstructsSymmetricPart()
    {
        using var net = SmallNetwork();
        var x = CleanImage();
        var result = JacobianAnalysis.Analyze(net, x, Size, Size, sigma: 0.1, seed: 4, top: Size * Size, batch: 64);
        int d = result.Dimension;
        var j = result.Jacobian;
        var lambda = result.Eigenvalues;
        var e = result.TopEigenvectors;
        for (int k = 1; k < d; k++) Assert.True(lambda[k - 1] >= lambda[k]);

        double trace = 0, sumSq = 0, maxErr = 0, asym = 0, norm = 0;
        for (int r = 0; r < d; r++)
        {
            trace += j[(long)r * d + r];
            for (int c = 0; c < d; c++)
            {
                double s = 0.5 * (j[(long)r * d + c] + j[(long)c * d + r]);
                double rec = 0;
                for (int k = 0; k < d; k++) rec += lambda[k] * e[(long)k * d + r] * e[(long)k * d + c];
                maxErr = Math.Max(maxErr, Math.Abs(rec - s));
                asym += Math.Pow(j[(long)r * d + c] - j[(long)c * d + r], 2);
                norm += Math.Pow(j[(long)r * d + c], 2);
            }
        }
        Assert.True(maxErr < 1e-9, $"reconstruction error {maxErr}");
        foreach (var l in lambda) sumSq += l * l;
        Assert.Equal(trace, lambda.Sum(), 1e-9);
        Assert.Equal(trace, result.EffectiveDimensionality, 1e-9);
        Assert.Equal(sumSq, result.SumSquaredEigenvalues, 1e-9);
        Assert.Equal(Math.Sqrt(asym / norm), result.Asymmetry, 1e-12);
        for (int k = 0; k < d; k++)
        {
            double dot = 0;
            for (int i = 0; i < d; i++) dot += x[i] * e[(long)k * d + i];
            Assert.Equal(dot, result.Coefficients[k], 1e-9);
        }
    }

    [Fact]
    public void RowAndColumnAssemblyAgree()
    {
        using var net = SmallNetwork();
        var y = Tensor.FromArray(CleanImage(), 1, 1, Size, Size);
        var lin = net.LinearizeAt(y);
        var columns = JacobianAnalysis.AssembleResidualJacobian(lin, 5);
        var rows = JacobianAnalysis.AssembleResidualJacobian(lin, 8, rows: true);
        for (int i = 0; i < columns.Length; i++) Assert.Equal(columns[i], rows[i], 1e-5f);
    }
}

public sealed class AnalyzeJacobianCommandTests : IDisposable
{
    private const string Data = "gaussian:size=8,mean=0.5,std=0.1,n=3,seed=3";
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-analyze-jacobian-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static int Run(params string[] args) => MemGen.Cli.Program.BuildRoot().Parse(args).Invoke();

    private string SaveCheckpoint(int channels = 1)
    {
        var path = Path.Combine(_folder, "net.safetensors");
        using var convolutions = new MemGen.Native.OneDnnConvolutionFactory();
        using var network = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=3,width=4"), channels, convolutions, seed: 5);
        foreach (var p in network.Parameters.Where(p => p.Name.EndsWith(".gamma", StringComparison.Ordinal))) p.Value.Span.Fill(1f);
        Checkpoint.Save(path, network, 8, 8, 1);
        return path;
    }

    [Fact]
    public void WritesEveryOutputWithConsistentNumbers()
    {
        var checkpoint = SaveCheckpoint();
        var outDir = Path.Combine(_folder, "out");
        Assert.Equal(0, Run("analyze", "jacobian", "--denoiser", "checkpoint:" + checkpoint, "--data", Data, "--index", "1",
            "--sigma", "0.1", "--top", "4", "--out", outDir));
        foreach (var f in MemGen.Cli.Commands.AnalyzeCommand.JacobianOutputFiles) Assert.True(File.Exists(Path.Combine(outDir, f)), f);
        var lines = File.ReadAllLines(Path.Combine(outDir, "eigenvalues.csv"));
        Assert.Equal(1 + 64, lines.Length);
        var lambdas = lines.Skip(1).Select(l => double.Parse(l.Split(',')[1], System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var summary = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "summary.json")))!;
        Assert.Equal(lambdas.Sum(), (double)summary["effective_dimensionality_trace"]!, 1e-9);
        Assert.True((double)summary["euler_relative_error"]! < 1e-4);
        var vectors = MemGen.Data.NpyReader.Read(Path.Combine(outDir, "eigenvectors.npy"));
        Assert.Equal([4, 1, 8, 8], vectors.Shape);
        var jacobian = MemGen.Data.NpyReader.Read(Path.Combine(outDir, "jacobian.npy"));
        Assert.Equal([64, 64], jacobian.Shape);
    }

    [Theory]
    [InlineData("--sigma", "0")]
    [InlineData("--top", "0")]
    [InlineData("--index", "3")]
    [InlineData("--denoiser", "identity")]
    [InlineData("--data", "nosuchsource:x")]
    [InlineData("--denoiser", "rgb")]
    public void BadInputWritesNothing(string flag, string value)
    {
        var checkpoint = SaveCheckpoint(value == "rgb" ? 3 : 1);
        if (value == "rgb") value = "checkpoint:" + checkpoint; // a 3-channel network for 1-channel data
        var outDir = Path.Combine(_folder, "bad");
        var args = new Dictionary<string, string>
        {
            ["--denoiser"] = "checkpoint:" + checkpoint,
            ["--data"] = Data,
            ["--sigma"] = "0.1",
            ["--out"] = outDir,
        };
        args[flag] = value;
        Assert.Equal(MemGen.Cli.Commands.CommandError.ExitCode, Run(["analyze", "jacobian", .. args.SelectMany(kv => new[] { kv.Key, kv.Value })]));
        Assert.False(Directory.Exists(outDir));
    }
}
