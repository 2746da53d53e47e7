using MemGen.Native;
using MemGen.Nn;
using MemGen.Tensors;
using static MemGen.Tests.Nn.GradientCheck;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Nn;

/// <summary>Bias-free properties in evaluation mode and the exactness of the linearized network (docs/science.md §1.1, §1.5).</summary>
public class LinearizationTests
{
    private static readonly CpuBackend s_reference = new(new ReferenceConvolutionFactory());

    // One oneDNN factory for the class: its primitives (JIT-compiled per shape) are reused across tests.
    private static readonly CpuBackend s_onednn = new();

    public static TheoryData<string, bool> Networks => new()
    {
        { "bfcnn:layers=5,width=16", false },
        { "unet:blocks=2,width=16", false },
        { "unet:blocks=1,width=4", false },
        { "bfcnn:layers=5,width=16", true },
        { "unet:blocks=2,width=16", true },
    };

    /// <summary>A small network with O(1) γ and running sd set by a few training passes (so eval differs from init).</summary>
    private static (LayeredNetwork Net, Tensor Y, IDisposable? Engine) Build(string spec, bool onednn)
    {
        IDisposable? engine = null;
        var net = NetworkFactory.Create(NetworkSpec.Parse(spec), 1, onednn ? s_onednn : s_reference, seed: 21);
        var rng = new DeterministicRng(22);
        foreach (var p in net.Parameters.Where(p => p.Name.EndsWith(".gamma"))) Random(p.Value, rng);
        var batch = Random(new Tensor(4, 1, 8, 8), rng);
        for (int i = 0; i < 3; i++) net.Forward(batch, training: true);
        var y = Random(new Tensor(1, 1, 8, 8), rng, 0.5f);
        return (net, y, engine);
    }

    private static double RelativeError(Tensor expected, Tensor actual)
    {
        double diff = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = expected.Data[i] - actual.Data[i];
            diff += d * d;
            norm += (double)expected.Data[i] * expected.Data[i];
        }
        return Math.Sqrt(diff / norm);
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void EvaluationModeIsPositivelyHomogeneous(string spec, bool onednn)
    {
        var (net, y, engine) = Build(spec, onednn);
        using (net) using (engine)
        {
            var f = net.Forward(y, training: false).Clone();
            foreach (float a in new[] { 0.3f, 2.5f })
            {
                var ay = y.Clone();
                System.Numerics.Tensors.TensorPrimitives.Multiply(y.Span, a, ay.Span);
                var fa = net.Forward(ay, training: false).Clone();
                var expected = f.Clone();
                System.Numerics.Tensors.TensorPrimitives.Multiply(f.Span, a, expected.Span);
                // Scaling by a leaves every ReLU switch and BN scale as is; only float rounding differs (~1e-7 per op).
                Assert.True(RelativeError(expected, fa) < 1e-5, $"r({a}·y) vs {a}·r(y): {RelativeError(expected, fa):E2}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void JacobianTimesPointIsTheOutput(string spec, bool onednn)
    {
        var (net, y, engine) = Build(spec, onednn);
        using (net) using (engine)
        {
            var lin = net.LinearizeAt(y);
            var eval = net.Forward(y, training: false);
            Assert.True(RelativeError(eval, lin.Residual) == 0, "LinearizeAt's residual is the evaluation-mode output");
            var jr = y.ZerosLike();
            lin.ResidualJvp(y, jr);
            var jf = y.ZerosLike();
            lin.DenoiserJvp(y, jf);
            // The frozen pass multiplies by the very masks max(0,·) applied at y: equal up to float rounding.
            Assert.True(RelativeError(lin.Residual, jr) < 1e-6, $"J_r·y vs r(y): {RelativeError(lin.Residual, jr):E2}");
            Assert.True(RelativeError(lin.Denoised, jf) < 1e-6, $"J_f·y vs f(y): {RelativeError(lin.Denoised, jf):E2}");
        }
    }

    [Theory]
    [MemberData(nameof(Networks))]
    public void BackwardIsTheTransposeOfTheLinearizedForward(string spec, bool onednn)
    {
        var (net, y, engine) = Build(spec, onednn);
        using (net) using (engine)
        {
            var lin = net.LinearizeAt(y);
            var rng = new DeterministicRng(23);
            var v = Random(new Tensor(3, 1, 8, 8), rng);
            var u = Random(new Tensor(3, 1, 8, 8), rng);
            var (jv, jtu) = (v.ZerosLike(), u.ZerosLike());
            foreach (bool denoiser in new[] { false, true })
            {
                if (denoiser)
                {
                    lin.DenoiserJvp(v, jv);
                    lin.DenoiserVjp(u, jtu);
                }
                else
                {
                    lin.ResidualJvp(v, jv);
                    lin.ResidualVjp(u, jtu);
                }
                for (int n = 0; n < 3; n++)
                {
                    double a = 0, b = 0, scale = 0;
                    for (int i = 0; i < 64; i++)
                    {
                        a += (double)u.Item(n)[i] * jv.Item(n)[i];
                        b += (double)jtu.Item(n)[i] * v.Item(n)[i];
                        scale += Math.Abs((double)u.Item(n)[i] * jv.Item(n)[i]);
                    }
                    // Both sides are the same bilinear form summed in different orders in float32.
                    Assert.True(Math.Abs(a - b) < 1e-5 * scale, $"<u,Jv> {a:G9} vs <Jᵀu,v> {b:G9} (denoiser {denoiser})");
                }
            }
        }
    }

    /// <summary>
    /// The eval network is piecewise linear, so central differences are exact unless ±εv flips a ReLU; in float32
    /// they also carry rounding ~1e-6·|r|/(ε|Jv|). With ~10³ units a relative step of 1e-3 flips about one
    /// (a few % of one unit's share), while 1e-4 is rounding-limited at ~1e-2: no step is clean for the larger
    /// networks, so they get 3e-2 (a wrong mask, scale or wiring is off by O(1)); the 2-ReLU-layer 4-channel
    /// BF-CNN (~10² units) is checked at 2e-3. The best of several steps is taken.
    /// </summary>
    [Theory]
    [InlineData("bfcnn:layers=3,width=4", false, 2e-3)]
    [InlineData("bfcnn:layers=4,width=16", false, 3e-2)]
    [InlineData("unet:blocks=1,width=4", false, 3e-2)]
    [InlineData("unet:blocks=2,width=16", true, 3e-2)]
    public void JvpMatchesFiniteDifferencesAndBatchesAreIndependent(string spec, bool onednn, double tolerance)
    {
        var (net, y, engine) = Build(spec, onednn);
        using (net) using (engine)
        {
            var lin = net.LinearizeAt(y);
            var rng = new DeterministicRng(24);
            var v = Random(new Tensor(2, 1, 8, 8), rng, 0.5f);
            var jv = v.ZerosLike();
            lin.ResidualJvp(v, jv);
            for (int n = 0; n < 2; n++)
            {
                var single = Tensor.FromArray(v.Item(n), 1, 1, 8, 8);
                var one = single.ZerosLike();
                lin.ResidualJvp(single, one);
                Assert.True(one.Span.SequenceEqual(jv.Item(n)), "a vector's JVP does not depend on its batch");
                double best = double.MaxValue;
                var all = new List<string>();
                foreach (double eps in new[] { 1e-2, 1e-3, 1e-4 })
                {
                    var plus = y.Clone();
                    var minus = y.Clone();
                    for (int i = 0; i < 64; i++)
                    {
                        plus.Data[i] += (float)eps * single.Data[i];
                        minus.Data[i] -= (float)eps * single.Data[i];
                    }
                    var rp = net.Forward(plus, training: false).Clone();
                    var rm = net.Forward(minus, training: false);
                    var fd = one.ZerosLike();
                    for (int i = 0; i < 64; i++) fd.Data[i] = (float)((rp.Data[i] - rm.Data[i]) / (2 * eps));
                    best = Math.Min(best, RelativeError(one, fd));
                    all.Add($"{eps}: {RelativeError(one, fd):E2}");
                }
                Assert.True(best < tolerance, $"JVP vs finite differences: relative error {best:E2} " + string.Join(", ", all));
            }
        }
    }

    [Fact]
    public void StaleLinearizationsAndMismatchedVectorsAreRejected()
    {
        var (net, y, _) = Build("bfcnn:layers=3,width=4", false);
        using (net)
        {
            var first = net.LinearizeAt(y);
            var jv = y.ZerosLike();
            Assert.Throws<ArgumentException>(() => first.ResidualJvp(new Tensor(1, 1, 4, 8), new Tensor(1, 1, 4, 8)));
            net.LinearizeAt(y);
            var e = Assert.Throws<InvalidOperationException>(() => first.ResidualJvp(y, jv));
            Assert.Contains("stale", e.Message);
            // A linearized pass overwrites the activations a training Backward would need.
            net.Forward(y, training: true);
            net.LinearizeAt(y).ResidualJvp(y, jv);
            Assert.Throws<InvalidOperationException>(() => net.Backward(y));
        }
    }
}
