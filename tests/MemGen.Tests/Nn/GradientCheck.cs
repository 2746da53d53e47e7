using MemGen.Tensors;

namespace MemGen.Tests.Nn;

/// <summary>A variable of a gradient check: its value (perturbed in place) and where its analytic gradient lands.</summary>
internal sealed record CheckedVariable(string Name, Tensor Value, Func<Tensor> Gradient);

/// <summary>
/// Directional central finite differences: with a fixed random cotangent c and loss L = Σ c·y (accumulated in
/// double), the analytic directional derivative ⟨∇L, d⟩ along a random direction d is compared with
/// (L(v + εd) − L(v − εd)) / 2ε for each variable v. One direction per variable exercises every element at once.
/// </summary>
internal static class GradientCheck
{
    public static Tensor Random(Tensor t, DeterministicRng rng, float scale = 1f)
    {
        rng.FillNormal(t.Span, 0f, scale);
        return t;
    }

    public static double Dot(Tensor a, Tensor b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a.Data[i] * b.Data[i];
        return s;
    }

    /// <summary>
    /// Runs forward, backward(c), then checks each variable. <paramref name="tolerance"/> is relative to
    /// |⟨∇L, d⟩| + ‖∇L‖ (‖∇L‖ is the typical size of ⟨∇L, d⟩ for d ~ N(0, I); it covers directions nearly
    /// orthogonal to the gradient).
    /// </summary>
    public static void Check(Func<Tensor> forward, Action<Tensor> backward, IReadOnlyList<CheckedVariable> variables,
        double epsilon, double tolerance, long seed)
    {
        var rng = new DeterministicRng(seed, 99);
        var y = forward();
        var c = Random(y.ZerosLike(), rng);
        backward(c.Clone()); // layers may back-propagate in place
        var gradients = variables.Select(v => v.Gradient().Clone()).ToArray();
        for (int k = 0; k < variables.Count; k++)
        {
            var v = variables[k];
            // Directions on the scale of the variable (Kaiming weights are ~0.05), so ε is a relative step.
            double rms = Math.Sqrt(Dot(v.Value, v.Value) / v.Value.Length);
            var d = Random(v.Value.ZerosLike(), rng, rms > 0 ? (float)rms : 1f);
            double analytic = Dot(gradients[k], d);
            var saved = v.Value.Clone();
            double Derivative(double eps)
            {
                for (int i = 0; i < d.Length; i++) v.Value.Data[i] = saved.Data[i] + (float)eps * d.Data[i];
                double plus = Dot(forward(), c);
                for (int i = 0; i < d.Length; i++) v.Value.Data[i] = saved.Data[i] - (float)eps * d.Data[i];
                double minus = Dot(forward(), c);
                saved.Span.CopyTo(v.Value.Span);
                return (plus - minus) / (2 * eps);
            }
            double scale = Math.Abs(analytic) + Math.Sqrt(Dot(gradients[k], gradients[k]));
            // A step can cross a ReLU kink (error O(1) in a few units) or be swamped by float rounding (error
            // ~ rounding/ε); neither affects every step size the same way, a wrong gradient does. One of
            // the step sizes ε, 4ε, ε/4 (tried in turn) must match.
            var errors = new List<(double Eps, double Numeric, double Error)>();
            foreach (double e in new[] { epsilon, epsilon * 4, epsilon / 4 })
            {
                double numeric = Derivative(e);
                errors.Add((e, numeric, Math.Abs(analytic - numeric) / scale));
                if (errors[^1].Error <= tolerance) break;
            }
            Assert.True(errors[^1].Error <= tolerance,
                $"{v.Name}: analytic {analytic:G8} vs finite differences " +
                string.Join(", ", errors.Select(r => $"{r.Numeric:G8} (ε {r.Eps:G2}, relative error {r.Error:E2})")));
        }
        forward();
    }
}
