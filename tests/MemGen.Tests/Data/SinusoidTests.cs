using MemGen.Analysis.Manifolds;
using MemGen.Data;

namespace MemGen.Tests.Data;

public class SinusoidTests
{
    [Fact]
    public void GeneratedImagesAreRenderingsOfTheirDrawnParameters()
    {
        var set = Sinusoids.Generate(5, 12, seed: 3, fx: 2, fy: 1, amplitude: 0.4);
        var image = new float[144];
        for (int i = 0; i < 5; i++)
        {
            var p = Sinusoids.Draw(3, i, 0.4);
            Assert.InRange(p.Amplitude, 0, 0.4);
            Assert.InRange(p.Phase, 0, 2 * Math.PI);
            Sinusoids.Render(p, 12, 2, 1, image);
            Assert.Equal(set.Image(i).ToArray(), image);
        }
    }

    [Fact]
    public void TangentsAreTheDerivativesOfTheRenderingAndLieInThePlane()
    {
        var p = new SinusoidParameters(0.3, 1.2);
        const int size = 10, d = size * size;
        var t = Sinusoids.Tangents(p, size);
        var plus = new float[d];
        var minus = new float[d];
        const double h = 1e-3;
        for (int k = 0; k < 2; k++)
        {
            var up = k == 0 ? p with { Amplitude = p.Amplitude + h } : p with { Phase = p.Phase + h };
            var down = k == 0 ? p with { Amplitude = p.Amplitude - h } : p with { Phase = p.Phase - h };
            Sinusoids.Render(up, size, 3, 2, plus);
            Sinusoids.Render(down, size, 3, 2, minus);
            for (int i = 0; i < d; i++) Assert.Equal((plus[i] - minus[i]) / (2 * h), t[k * d + i], 1e-3);
        }
        // Both tangents lie in the plane of cos θ and sin θ, and span it (A > 0).
        var cosines = PrincipalAngles.Cosines(t, 2, Sinusoids.PlaneBasis(size), 2);
        Assert.All(cosines, c => Assert.Equal(1, c, 10));
    }
}
