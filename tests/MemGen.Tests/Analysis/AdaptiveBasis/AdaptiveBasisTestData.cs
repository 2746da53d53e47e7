using MathNet.Numerics.LinearAlgebra;
using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Tensors;

namespace MemGen.Tests.Analysis.AdaptiveBasis;

/// <summary>Denoisers with known Jacobians for the adaptive-basis tests.</summary>
internal static class AdaptiveBasisTestData
{
    public static readonly ImageShape Shape = new(1, 8, 8);

    /// <summary>A random orthogonal d×d matrix (QR of a Gaussian matrix, MathNet's managed provider).</summary>
    public static Matrix<double> RandomRotation(int d, long seed)
    {
        var rng = new DeterministicRng(seed);
        return Matrix<double>.Build.Dense(d, d, (_, _) => rng.NextNormal()).QR().Q;
    }

    /// <summary>
    /// A Gaussian N(μ, Σ) with Σ = Q·diag(s)·Qᵀ of known, distinct spectrum s_k = 0.5·(k + 1)^(−1.5) (descending),
    /// and its Wiener denoiser.
    /// </summary>
    public static (GaussianDenoiser Denoiser, double[] Mean, Matrix<double> Covariance, double[] Spectrum) Wiener(long seed)
    {
        int d = Shape.Size;
        var q = RandomRotation(d, seed);
        var spectrum = Enumerable.Range(0, d).Select(k => 0.5 * Math.Pow(k + 1, -1.5)).ToArray();
        var covariance = q * Matrix<double>.Build.DenseOfDiagonalArray(spectrum) * q.Transpose();
        var rng = new DeterministicRng(seed + 1);
        var mean = Enumerable.Range(0, d).Select(_ => rng.NextUniform(0.3, 0.7)).ToArray();
        return (new GaussianDenoiser(mean, covariance.ToRowMajorArray()), mean, covariance, spectrum);
    }

    public static float[] RandomImage(long seed, int d = 64)
    {
        var x = new float[d];
        new DeterministicRng(seed).FillUniform(x);
        return x;
    }

    /// <summary>A small BF-CNN on the reference convolution, γ near 1 so evaluation activations keep their scale.</summary>
    public static DenoisingNetwork SmallNetwork()
    {
        var net = NetworkFactory.Create(NetworkSpec.Parse("bfcnn:layers=3,width=4"), 1, new CpuBackend(new ReferenceConvolutionFactory()), seed: 11);
        var rng = new DeterministicRng(12);
        foreach (var p in net.Parameters.Where(p => p.Name.EndsWith(".gamma", StringComparison.Ordinal))) rng.FillUniform(p.Value.Span, 0.5f, 1.5f);
        return net;
    }
}
