using MemGen.Analysis;
using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Analysis;

public class JacobianAnalysisTests
{
    private const int Size = 6;

    /// <summary>A small BF-CNN on the reference convolution, γ near 1 so evaluation activations keep their scale.</summary>
    private static DenoisingNetwork SmallNetwork()
    {
        var net = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=3,width=4"), 1, new CpuBackend(new ReferenceConvolutionFactory()), seed: 11);
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
