using MathNet.Numerics.LinearAlgebra;
using MemGen.Analysis.Manifolds;
using MemGen.Tests.Analysis.AdaptiveBasis;

namespace MemGen.Tests.Analysis.Manifolds;

public class PrincipalAnglesTests
{
    private const int D = 10;

    private static double[] Rows(params double[][] rows) => [.. rows.SelectMany(r => r)];

    private static double[] Unit(int i, double scale = 1)
    {
        var e = new double[D];
        e[i] = scale;
        return e;
    }

    private static double[] Combine(double a, double[] u, double b, double[] v) => u.Zip(v, (x, y) => a * x + b * y).ToArray();

    /// <summary>A = span(e0, e1); B = span(cos a·e0 + sin a·e2, cos b·e1 + sin b·e3): principal angles a and b exactly.</summary>
    private static (double[] A, double[] B) HandBuilt(double a, double b) =>
        (Rows(Unit(0), Unit(1)), Rows(Combine(Math.Cos(a), Unit(0), Math.Sin(a), Unit(2)), Combine(Math.Cos(b), Unit(1), Math.Sin(b), Unit(3))));

    [Fact]
    public void HandBuiltSubspacesHaveTheirConstructionAngles()
    {
        var (a, b) = HandBuilt(0.3, 1.1);
        var cosines = PrincipalAngles.Cosines(a, 2, b, 2);
        Assert.Equal(2, cosines.Length);
        Assert.Equal(Math.Cos(0.3), cosines[0], 12);
        Assert.Equal(Math.Cos(1.1), cosines[1], 12);
        var angles = PrincipalAngles.Angles(cosines);
        Assert.Equal(0.3, angles[0], 10);
        Assert.Equal(1.1, angles[1], 10);
    }

    [Fact]
    public void AnglesDoNotDependOnTheSpanningVectorsOrOnARotationOfBoth()
    {
        var (a, b) = HandBuilt(0.5, 0.9);
        // Other spanning vectors of A (mixed, scaled, one duplicated) and of B.
        var a0 = a.AsSpan(0, D).ToArray();
        var a1 = a.AsSpan(D, D).ToArray();
        var mixedA = Rows(Combine(2, a0, -3, a1), Combine(0.1, a0, 0.4, a1), Combine(2, a0, -3, a1));
        var b0 = b.AsSpan(0, D).ToArray();
        var b1 = b.AsSpan(D, D).ToArray();
        var mixedB = Rows(Combine(1, b0, 1, b1), Combine(1, b0, -1, b1));
        var cosines = PrincipalAngles.Cosines(mixedA, 3, mixedB, 2);
        Assert.Equal(2, cosines.Length); // the duplicate is dropped: rank 2
        Assert.Equal(Math.Cos(0.5), cosines[0], 10);
        Assert.Equal(Math.Cos(0.9), cosines[1], 10);
        // A rotation of R^d applied to both keeps the angles.
        var rotation = AdaptiveBasisTestData.RandomRotation(D, seed: 3);
        double[] Rotate(double[] rows, int n) => [.. Enumerable.Range(0, n).SelectMany(k => (rotation * Vector<double>.Build.Dense(rows.AsSpan(k * D, D).ToArray())).ToArray())];
        var rotated = PrincipalAngles.Cosines(Rotate(a, 2), 2, Rotate(b, 2), 2);
        Assert.Equal(Math.Cos(0.5), rotated[0], 10);
        Assert.Equal(Math.Cos(0.9), rotated[1], 10);
    }

    [Fact]
    public void ContainedSubspaceHasCosinesOneAndOrthogonalOnesZero()
    {
        var big = Rows(Unit(0), Unit(1), Unit(2));
        var inside = Rows(Combine(1, Unit(0), 1, Unit(2)), Unit(1, 5));
        Assert.Equal([1.0, 1.0], PrincipalAngles.Cosines(big, 3, inside, 2), (x, y) => Math.Abs(x - y) < 1e-12);
        var orthogonal = Rows(Unit(5), Unit(7));
        Assert.All(PrincipalAngles.Cosines(big, 3, orthogonal, 2), c => Assert.Equal(0, c, 12));
        Assert.Empty(PrincipalAngles.Cosines(new double[D], 1, big, 3));
        Assert.Throws<ArgumentException>(() => PrincipalAngles.Cosines(big, 3, new double[2 * (D + 1)], 2));
    }
}
