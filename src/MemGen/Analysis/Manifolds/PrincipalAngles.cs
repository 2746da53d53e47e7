using MemGen.Compute;

namespace MemGen.Analysis.Manifolds;

/// <summary>
/// Principal angles between two subspaces of R^d, each given by spanning vectors (rows, not necessarily orthonormal or
/// independent): orthonormalize each (modified Gram–Schmidt, applied twice for accuracy), then the cosines of the
/// principal angles are the singular values of Q1·Q2ᵀ (LAPACK dgesvd), in descending order, min(rank1, rank2) of them.
/// Used to ask whether the top-k Jacobian eigenvectors span a manifold's tangent space ([K24] §3.2: cosines near 1).
/// </summary>
public static class PrincipalAngles
{
    /// <summary>
    /// Vectors whose norm after removing the earlier ones' directions falls below this fraction of their own norm are
    /// dropped as dependent.
    /// </summary>
    public const double DependenceTolerance = 1e-9;

    /// <summary>
    /// An orthonormal basis (rows) of the span of the <paramref name="count"/> rows of <paramref name="vectors"/> (row-major
    /// count×d), dependent rows dropped: rank×d values.
    /// </summary>
    public static double[] Orthonormalize(ReadOnlySpan<double> vectors, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        if (vectors.Length % count != 0 || vectors.Length == 0) throw new ArgumentException($"{vectors.Length} values are not {count} vectors of equal length.");
        int d = vectors.Length / count;
        var basis = new List<double[]>();
        foreach (var k in Enumerable.Range(0, count))
        {
            var v = vectors.Slice(k * d, d).ToArray();
            double original = Norm(v);
            if (!double.IsFinite(original)) throw new ArgumentException($"Vector {k} is not finite.");
            if (original == 0) continue;
            for (int pass = 0; pass < 2; pass++)
                foreach (var q in basis)
                {
                    double dot = Dot(v, q);
                    for (int i = 0; i < d; i++) v[i] -= dot * q[i];
                }
            double norm = Norm(v);
            if (norm <= DependenceTolerance * original) continue;
            for (int i = 0; i < d; i++) v[i] /= norm;
            basis.Add(v);
        }
        return [.. basis.SelectMany(q => q)];
    }

    /// <summary>
    /// Cosines of the principal angles between span(rows of <paramref name="first"/>, <paramref name="firstCount"/> of them)
    /// and span(rows of <paramref name="second"/>), descending; empty when either span is {0}.
    /// </summary>
    public static double[] Cosines(ReadOnlySpan<double> first, int firstCount, ReadOnlySpan<double> second, int secondCount)
    {
        var q1 = Orthonormalize(first, firstCount);
        var q2 = Orthonormalize(second, secondCount);
        int d = first.Length / firstCount;
        if (second.Length / secondCount != d) throw new ArgumentException($"Vectors of {d} and {second.Length / secondCount} values span subspaces of different spaces.");
        int m = q1.Length / d, n = q2.Length / d;
        if (m == 0 || n == 0) return [];
        var product = new double[m * n];
        var linearAlgebra = ComputeBackend.Host.LinearAlgebra;
        linearAlgebra.Dgemm(false, true, m, n, d, 1.0, q1, q2, 0.0, product); // Q1·Q2ᵀ
        var singular = new double[Math.Min(m, n)];
        linearAlgebra.SingularValueDecomposition(product, m, n, singular, new double[m * m]);
        for (int i = 0; i < singular.Length; i++) singular[i] = Math.Min(1.0, singular[i]);
        return singular;
    }

    /// <summary><see cref="Cosines(ReadOnlySpan{double}, int, ReadOnlySpan{double}, int)"/> of float vectors (tangents, images).</summary>
    public static double[] Cosines(ReadOnlySpan<float> first, int firstCount, ReadOnlySpan<double> second, int secondCount)
    {
        var converted = new double[first.Length];
        for (int i = 0; i < first.Length; i++) converted[i] = first[i];
        return Cosines(converted, firstCount, second, secondCount);
    }

    /// <summary>The principal angles (radians, ascending) for the cosines of <see cref="Cosines(ReadOnlySpan{double}, int, ReadOnlySpan{double}, int)"/>.</summary>
    public static double[] Angles(IReadOnlyList<double> cosines)
    {
        ArgumentNullException.ThrowIfNull(cosines);
        return [.. cosines.Select(c => Math.Acos(Math.Clamp(c, -1, 1)))];
    }

    private static double Dot(double[] a, double[] b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * b[i];
        return sum;
    }

    private static double Norm(double[] v) => Math.Sqrt(Dot(v, v));
}
