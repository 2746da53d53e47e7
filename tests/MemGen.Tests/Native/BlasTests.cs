using MemGen.Native;
using MemGen.Tensors;

namespace MemGen.Tests.Native;

public class BlasTests
{
    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void SgemmMatchesNaiveLoops(bool ta, bool tb)
    {
        int m = 7, n = 5, k = 9;
        var rng = new DeterministicRng(5);
        var a = new float[m * k];
        var b = new float[k * n];
        rng.FillNormal(a);
        rng.FillNormal(b);
        var c = new float[m * n];
        c.AsSpan().Fill(1f);
        Blas.Sgemm(ta, tb, m, n, k, 2f, a, b, 0.5f, c);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = 0;
                for (int l = 0; l < k; l++)
                    acc += (ta ? a[l * m + i] : a[i * k + l]) * (double)(tb ? b[j * k + l] : b[l * n + j]);
                Assert.Equal(2 * acc + 0.5, c[i * n + j], 4);
            }
    }

    [Fact]
    public void SymmetricEigenReconstructsMatrix()
    {
        int n = 6;
        var rng = new DeterministicRng(9);
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j <= i; j++)
                a[i * n + j] = a[j * n + i] = rng.NextNormal();
        var v = (double[])a.Clone();
        var w = new double[n];
        Blas.SymmetricEigen(v, w, n);
        for (int i = 1; i < n; i++) Assert.True(w[i] >= w[i - 1]);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = 0;
                for (int l = 0; l < n; l++) acc += v[i * n + l] * w[l] * v[j * n + l];
                Assert.Equal(a[i * n + j], acc, 10);
            }
    }
}
