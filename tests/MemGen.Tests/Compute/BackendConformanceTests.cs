using MemGen.Compute;
using MemGen.Compute.Cpu;
using MemGen.Compute.Cuda;
using MemGen.Denoisers;
using MemGen.Images;
using MemGen.Nn;
using MemGen.Sampling;
using MemGen.Tensors;
using MemGen.Tests.Data;
using MemGen.Training;

namespace MemGen.Tests.Compute;

/// <summary>
/// The backend conformance suite, written once: every kernel of <see cref="Backend"/> against the plain C# reference
/// (<see cref="ReferenceBackend"/>) on small shapes, gradients against finite differences and adjoint identities, the
/// full networks' forward, backward, JVP and VJP, the Algorithm 1 sampler and a short training run against the
/// reference, and checkpoints that another backend reads. Each concrete subclass names one backend.
/// </summary>
public abstract class BackendConformanceTests
{
    private static readonly ReferenceBackend s_reference = new();

    /// <summary>The backend under test.</summary>
    protected abstract ComputeBackend Backend { get; }

    /// <summary>Relative tolerance of a kernel against the float64 reference (float32 arithmetic: ~1e-5; TF32: ~1e-2).</summary>
    protected virtual double Tolerance => 2e-5;

    // ---- elementwise and channel kernels ----

    [ConformanceFact]
    public void ReluForwardBackwardAndMasks()
    {
        var rng = new DeterministicRng(1);
        var x = Random(rng, 2, 3, 4, 5);
        var dy = Random(rng, 2, 3, 4, 5);
        var one = Random(rng, 1, 3, 4, 5);
        Same(Run((b, t) => b.Relu(t[0], t[1]), x, Zeros(x)), s => s.Relu(x, s.Zeros(2, 3, 4, 5)));
        var y = Host((b, t) => b.Relu(t[0], t[1]), x, Zeros(x));
        Same(Run((b, t) => b.ReluBackward(t[0], t[1], t[2]), dy, y, Zeros(x)), s => s.ReluBackward(dy, y, s.Zeros(2, 3, 4, 5)));
        Same(Run((b, t) => b.PositiveMask(t[0], t[1]), x, Zeros(x)), s => s.PositiveMask(x, s.Zeros(2, 3, 4, 5)));
        var mask = Host((b, t) => b.PositiveMask(t[0], t[1]), one, Zeros(one));
        Same(Run((b, t) => b.Mask(t[0], t[1], t[2]), x, mask, Zeros(x)), s => s.Mask(x, mask, s.Zeros(2, 3, 4, 5))); // one item, broadcast
        var batchMask = Host((b, t) => b.PositiveMask(t[0], t[1]), dy, Zeros(dy));
        Same(Run((b, t) => b.Mask(t[0], t[1], t[2]), x, batchMask, Zeros(x)), s => s.Mask(x, batchMask, s.Zeros(2, 3, 4, 5)));
    }

    [ConformanceFact]
    public void AddSubtractCopyClear()
    {
        var rng = new DeterministicRng(2);
        var a = Random(rng, 3, 7);
        var b = Random(rng, 3, 7);
        Same(Run((k, t) => k.Add(t[0], t[1], t[2]), a, b, Zeros(a)), s => s.Add(a, b, s.Zeros(3, 7)));
        Same(Run((k, t) => k.Subtract(t[0], t[1], t[2]), a, b, Zeros(a)), s => s.Subtract(a, b, s.Zeros(3, 7)));
        var copied = Run((k, t) => k.Copy(t[0], 3, t[1], 5, 9), a, b);
        var clear = Run((k, t) => k.Clear(t[0], 4, 6), a);
        var expectedCopy = b.ToArray();
        Array.Copy(a.Data, 3, expectedCopy, 5, 9);
        var expectedClear = a.ToArray();
        Array.Clear(expectedClear, 4, 6);
        Assert.Equal(expectedCopy, copied);
        Assert.Equal(expectedClear, clear);
    }

    [ConformanceFact]
    public void AveragePoolingAndItsAdjoint()
    {
        var rng = new DeterministicRng(3);
        foreach (int c in new[] { 3, 16 })
        {
            var x = Random(rng, 2, c, 6, 8);
            var dy = Random(rng, 2, c, 3, 4);
            var y = RunActivations((k, t) => k.AveragePool(t[0], t[1]), [x], [2, c, 3, 4]);
            Same(y, s => s.AveragePool(x, s.Zeros(2, c, 3, 4)));
            var dx = RunActivations((k, t) => k.AveragePoolBackward(t[0], t[1]), [dy], [2, c, 6, 8]);
            Same(dx, s => s.AveragePoolBackward(dy, s.Zeros(2, c, 6, 8)));
            Assert.Equal(Dot(y, dy.Data), Dot(dx, x.Data), 4); // ⟨Px, dy⟩ = ⟨x, Pᵀdy⟩
        }
    }

    [ConformanceFact]
    public void ConcatenationAndSplit()
    {
        var rng = new DeterministicRng(4);
        foreach (var (ca, cb) in new[] { (3, 5), (16, 32) })
        {
            var a = Random(rng, 2, ca, 3, 4);
            var b = Random(rng, 2, cb, 3, 4);
            var y = RunActivations((k, t) => k.Concat(t[0], t[1], t[2]), [a, b], [2, ca + cb, 3, 4]);
            Same(y, s => s.Concat(a, b, s.Zeros(2, ca + cb, 3, 4)));
            var back = Tensor.FromArray(y, 2, ca + cb, 3, 4);
            var first = RunActivations((k, t) => k.Split(t[0], t[1], t[2]), [back], [2, ca, 3, 4], [2, cb, 3, 4]);
            Assert.Equal(a.Data, first);
        }
    }

    // ---- noise-conditioned networks: biases, SiLU, per-item coefficients, weighted loss ----

    [ConformanceFact]
    public void BiasSiluAndPerItemKernelsMatchTheReference()
    {
        var rng = new DeterministicRng(21);
        foreach (int c in new[] { 3, 16 })
        {
            var x = Random(rng, 2, c, 3, 5, scale: 3f);
            var dy = Random(rng, 2, c, 3, 5);
            var bias = Random(rng, c);
            Same(RunActivations((k, t) => k.AddChannelBias(t[0], k.ToBackend(bias), t[1]), [x], [2, c, 3, 5]),
                s => s.AddChannelBias(x, bias, s.Zeros(2, c, 3, 5)));
            var sums = Backend.Zeros(c);
            Backend.ChannelSums(Activation(x, Backend.ActivationLayout(c)), sums);
            Same(sums.ToArray(), s => s.ChannelSums(x, s.Zeros(c)));
            Same(RunActivations((k, t) => k.Silu(t[0], t[1]), [x], [2, c, 3, 5]), s => s.Silu(x, s.Zeros(2, c, 3, 5)));
            Same(RunActivations((k, t) => k.SiluBackward(t[0], t[1], t[2]), [dy, x], [2, c, 3, 5]), s => s.SiluBackward(dy, x, s.Zeros(2, c, 3, 5)));
            Same(RunActivations((k, t) => k.SiluDerivative(t[0], t[1]), [x], [2, c, 3, 5]), s => s.SiluDerivative(x, s.Zeros(2, c, 3, 5)));
        }
        // [N, C] rows (the embedding's linear layers), and SiLU far into both tails (no overflow to NaN).
        var rows = Random(rng, 5, 7);
        var rowBias = Random(rng, 7);
        Same(Run((k, t) => k.AddChannelBias(t[0], t[1], t[2]), rows, rowBias, Zeros(rows)), s => s.AddChannelBias(rows, rowBias, s.Zeros(5, 7)));
        Same(Run((k, t) => k.ChannelSums(t[0], t[1]), rows, new Tensor(7)), s => s.ChannelSums(rows, s.Zeros(7)));
        var tails = Tensor.FromArray([-200f, -30f, -1f, 0f, 1f, 30f, 200f, 1e-3f], 8);
        Same(Run((k, t) => k.Silu(t[0], t[1]), tails, Zeros(tails)), s => s.Silu(tails, s.Zeros(8)));
        Same(Run((k, t) => k.SiluDerivative(t[0], t[1]), tails, Zeros(tails)), s => s.SiluDerivative(tails, s.Zeros(8)));

        var a = Random(rng, 3, 1, 4, 4);
        var bImages = Random(rng, 3, 1, 4, 4);
        var alpha = Random(rng, 3);
        var beta = Random(rng, 3);
        Same(Run((k, t) => k.CombineItems(t[0], t[1], t[2], t[3], t[4]), a, alpha, bImages, beta, Zeros(a)), s => s.CombineItems(a, alpha, bImages, beta, s.Zeros(3, 1, 4, 4)));
        Same(Run((k, t) => k.CombineItems(t[0], t[1], null, null, t[2]), a, alpha, Zeros(a)), s => s.CombineItems(a, alpha, null, null, s.Zeros(3, 1, 4, 4)));
        // y may alias a: in place.
        Same(Run((k, t) => k.CombineItems(t[3], t[0], t[1], t[2], t[3]), alpha, bImages, beta, a), s => s.CombineItems(a, alpha, bImages, beta, s.Zeros(3, 1, 4, 4)));

        var weights = Tensor.FromArray([0.5f, 2f, 7f], 3);
        var gradient = Backend.Zeros(3, 1, 4, 4);
        double loss = Backend.WeightedSquaredError(Backend.ToBackend(a), Backend.ToBackend(bImages), Backend.ToBackend(weights), 0.25f, gradient);
        var expectedGradient = new Tensor(3, 1, 4, 4);
        double expected = s_reference.WeightedSquaredError(a, bImages, weights, 0.25f, expectedGradient);
        Close([expected], [loss], "weighted squared error");
        Close(expectedGradient.Data, gradient.ToArray(), "weighted squared error gradient");
        double unweighted = s_reference.SquaredError(a, bImages, 1f, new Tensor(3, 1, 4, 4));
        Assert.True(Math.Abs(loss - unweighted) > 1e-3 * unweighted, "the weights change the loss");
    }

    [ConformanceFact]
    public void ConditionedBatchNormMatchesItsDefinitionInEveryMode()
    {
        foreach (int c in new[] { 3, 16 })
        {
            var rng = new DeterministicRng(22 + c);
            var x = Random(rng, 2, c, 3, 4, offset: 0.3f);
            var dy = Random(rng, 2, c, 3, 4);
            var gamma = Random(rng, c, offset: 1f);
            var beta = Random(rng, c);
            var film = Random(rng, 2, 2 * c, scale: 0.5f);
            var mean = Random(rng, c, scale: 0.2f);
            var sd = Tensor.FromArray(Enumerable.Range(0, c).Select(i => 0.5f + 0.1f * i).ToArray(), c);
            var layout = Backend.ActivationLayout(c);

            (float[] Y, float[] Mean, float[] Sd, float[] Dx, float[] DGamma, float[] DBeta, float[] DFilm, float[] Derivative) Run(ComputeBackend b, TensorLayout l, bool training)
            {
                var k = b.ConditionedNorm(c);
                var xb = b.Zeros(2, c, 3, 4, l);
                Upload(x, xb);
                var (gb, bb, fb, mb, sb) = (b.ToBackend(gamma), b.ToBackend(beta), b.ToBackend(film), b.ToBackend(mean), b.ToBackend(sd));
                var yb = xb.ZerosLike();
                if (training) k.TrainingForward(xb, gb, bb, fb, mb, sb, yb);
                else k.EvaluationForward(xb, gb, bb, fb, mb, sb, yb);
                var dyb = xb.ZerosLike();
                Upload(dy, dyb);
                var (dg, db, df) = (b.Zeros(c), b.Zeros(c), b.Zeros(2, 2 * c));
                k.Backward(training, dyb, xb, gb, bb, fb, mb, sb, dg, db, df, dyb);
                var derivative = xb.ZerosLike();
                k.Derivative(xb, gb, bb, fb, mb, sb, derivative);
                return (Download(yb), mb.ToArray(), sb.ToArray(), Download(dyb), dg.ToArray(), db.ToArray(), df.ToArray(), Download(derivative));
            }

            foreach (bool training in new[] { true, false })
            {
                var got = Run(Backend, layout, training);
                var want = Run(s_reference, TensorLayout.Nchw, training);
                string label = $"{c} channels {(training ? "training" : "evaluation")}";
                Close(want.Y, got.Y, $"{label} forward");
                Close(want.Mean, got.Mean, $"{label} running mean");
                Close(want.Sd, got.Sd, $"{label} running sd");
                Close(want.Dx, got.Dx, $"{label} input gradient");
                Close(want.DGamma, got.DGamma, $"{label} γ gradient");
                Close(want.DBeta, got.DBeta, $"{label} β gradient");
                Close(want.DFilm, got.DFilm, $"{label} FiLM gradient");
                Close(want.Derivative, got.Derivative, $"{label} derivative");
            }
            CheckConditionedNormByFiniteDifferences(x, dy, gamma, beta, film, c, layout);
        }
    }

    /// <summary>Central differences of L = ⟨dy, norm_train(x; γ, β, film)⟩ on the backend against its backward pass, for every input.</summary>
    private void CheckConditionedNormByFiniteDifferences(Tensor x, Tensor dy, Tensor gamma, Tensor beta, Tensor film, int c, TensorLayout layout)
    {
        double Loss(Tensor xv, Tensor g, Tensor b, Tensor f)
        {
            var k = Backend.ConditionedNorm(c);
            var xb = Backend.Zeros(2, c, 3, 4, layout);
            Upload(xv, xb);
            var yb = xb.ZerosLike();
            k.TrainingForward(xb, Backend.ToBackend(g), Backend.ToBackend(b), Backend.ToBackend(f), Backend.Zeros(c), Backend.Zeros(c), yb);
            return Dot(Download(yb), dy.Data);
        }
        var kernel = Backend.ConditionedNorm(c);
        var xb0 = Backend.Zeros(2, c, 3, 4, layout);
        Upload(x, xb0);
        var (gb, bb, fb) = (Backend.ToBackend(gamma), Backend.ToBackend(beta), Backend.ToBackend(film));
        var y0 = xb0.ZerosLike();
        var (m, s) = (Backend.Zeros(c), Backend.Zeros(c));
        kernel.TrainingForward(xb0, gb, bb, fb, m, s, y0);
        var dyb = xb0.ZerosLike();
        Upload(dy, dyb);
        var (dg, db, df) = (Backend.Zeros(c), Backend.Zeros(c), Backend.Zeros(2, 2 * c));
        kernel.Backward(true, dyb, xb0, gb, bb, fb, m, s, dg, db, df, dyb);
        var analytic = new[] { Download(dyb), dg.ToArray(), db.ToArray(), df.ToArray() };
        var variables = new[] { x, gamma, beta, film };
        string[] names = ["x", "γ", "β", "FiLM"];
        const float h = 1e-2f;
        for (int v = 0; v < variables.Length; v++)
        {
            var values = variables[v];
            foreach (int i in new[] { 0, values.Length / 3, values.Length / 2 + 1, values.Length - 1 })
            {
                var plus = values.Clone();
                var minus = values.Clone();
                plus.Data[i] += h;
                minus.Data[i] -= h;
                Tensor[] With(Tensor t) => [.. variables.Select((o, j) => j == v ? t : o)];
                var (p, q) = (With(plus), With(minus));
                double fd = (Loss(p[0], p[1], p[2], p[3]) - Loss(q[0], q[1], q[2], q[3])) / (2 * h);
                Assert.True(Math.Abs(fd - analytic[v][i]) <= 2e-2 * Math.Max(1, Math.Abs(fd)),
                    $"{c} channels: dL/d{names[v]}[{i}] = {analytic[v][i]}, finite differences {fd}");
            }
        }
    }

    // ---- convolutions: forward against the loops, both backward passes by the adjoint identities ----

    [ConformanceFact]
    public void ConvolutionsMatchTheReferenceAndTheirAdjoints()
    {
        var rng = new DeterministicRng(5);
        foreach (var (kind, n, cin, cout, h, w) in new[]
        {
            (ConvolutionKind.Same3x3, 2, 1, 16, 6, 5), (ConvolutionKind.Same3x3, 2, 16, 32, 5, 6), (ConvolutionKind.Same3x3, 1, 32, 1, 4, 4),
            (ConvolutionKind.Transposed2x2, 2, 32, 16, 3, 4), (ConvolutionKind.Transposed2x2, 1, 3, 5, 2, 3),
        })
        {
            var inLayout = Backend.ActivationLayout(cin);
            var outLayout = Backend.ActivationLayout(cout);
            var shape = new ConvolutionShape(n, cin, cout, h, w, kind, inLayout, outLayout);
            var plain = shape with { SourceLayout = TensorLayout.Nchw, DestinationLayout = TensorLayout.Nchw };
            var x = Random(rng, n, cin, h, w);
            var wt = Random(rng, shape.WeightShape);
            var dy = Random(rng, n, cout, shape.OutHeight, shape.OutWidth);
            var conv = Backend.Convolution(shape);
            var xb = Activation(x, inLayout);
            var wb = Backend.ToBackend(wt);
            var yb = Backend.Zeros(n, cout, shape.OutHeight, shape.OutWidth, outLayout);
            conv.Forward(xb, wb, yb);
            var expected = new Tensor(n, cout, shape.OutHeight, shape.OutWidth);
            new ReferenceConvolution(plain).Forward(x, wt, expected);
            Close(expected.Data, Plain(yb), $"{kind} {cin}→{cout} forward");

            var dyb = Activation(dy, outLayout);
            var dxb = Backend.Zeros(n, cin, h, w, inLayout);
            conv.BackwardData(dyb, wb, dxb);
            var dwb = Backend.Zeros(shape.WeightShape);
            conv.BackwardWeights(xb, dyb, dwb);
            double forward = Dot(expected.Data, dy.Data);
            Close([forward], [Dot(Plain(dxb), x.Data)], $"{kind} {cin}→{cout} ⟨conv x, dy⟩ = ⟨x, convᵀ dy⟩");
            Close([forward], [Dot(dwb.ToArray(), wt.Data)], $"{kind} {cin}→{cout} ⟨conv x, dy⟩ = ⟨W, dW⟩");
            var dxRef = new Tensor(n, cin, h, w);
            new ReferenceConvolution(plain).BackwardData(dy, wt, dxRef);
            Close(dxRef.Data, Plain(dxb), $"{kind} {cin}→{cout} backward data");
            var dwRef = new Tensor(shape.WeightShape);
            new ReferenceConvolution(plain).BackwardWeights(x, dy, dwRef);
            Close(dwRef.Data, dwb.ToArray(), $"{kind} {cin}→{cout} backward weights");
        }
    }

    // ---- batch norm: every mode against the float64 definition, the training gradient also by finite differences ----

    [ConformanceFact]
    public void BatchNormMatchesItsDefinitionInEveryMode()
    {
        foreach (bool relu in new[] { false, true })
            foreach (int c in new[] { 3, 16 })
            {
                var rng = new DeterministicRng(6 + c);
                var x = Random(rng, 2, c, 3, 4, offset: 0.3f);
                var dy = Random(rng, 2, c, 3, 4);
                var gamma = Random(rng, c);
                var running = Tensor.FromArray(Enumerable.Range(0, c).Select(i => 0.5f + 0.1f * i).ToArray(), c);
                var mask = Host((b, t) => b.PositiveMask(t[0], t[1]), Random(rng, 1, c, 3, 4), new Tensor(1, c, 3, 4));
                var layout = Backend.ActivationLayout(c);
                string label = $"{c} channels{(relu ? " + ReLU" : "")}";

                (float[] Y, float[] Running, float[] Dx, float[] DGamma) Run(ComputeBackend b, TensorLayout l, bool training)
                {
                    var k = b.BatchNorm(c, relu);
                    var xb = b.Zeros(2, c, 3, 4, l);
                    Upload(x, xb);
                    var (gb, rb) = (b.ToBackend(gamma), b.ToBackend(running));
                    var yb = xb.ZerosLike();
                    if (training) k.TrainingForward(xb, gb, rb, yb);
                    else k.EvaluationForward(xb, gb, rb, yb);
                    var dyb = xb.ZerosLike();
                    Upload(dy, dyb);
                    var dg = b.Zeros(c);
                    if (training) k.TrainingBackward(dyb, xb, yb, gb, dg, dyb);
                    else k.EvaluationBackward(dyb, xb, yb, gb, rb, dg, dyb);
                    return (Download(yb), rb.ToArray(), Download(dyb), dg.ToArray());
                }

                foreach (bool training in new[] { true, false })
                {
                    var got = Run(Backend, layout, training);
                    var want = Run(s_reference, TensorLayout.Nchw, training);
                    string mode = training ? "training" : "evaluation";
                    Close(want.Y, got.Y, $"{label} {mode} forward");
                    Close(want.Running, got.Running, $"{label} {mode} running sd");
                    Close(want.Dx, got.Dx, $"{label} {mode} input gradient");
                    Close(want.DGamma, got.DGamma, $"{label} {mode} γ gradient");
                }

                // Linearized (one mask item broadcast over the batch; and no mask).
                foreach (var m in new[] { mask, null })
                {
                    var k = Backend.BatchNorm(c, relu);
                    var xb = Backend.Zeros(2, c, 3, 4, layout);
                    Upload(x, xb);
                    Tensor? mb = null;
                    if (m is not null)
                    {
                        mb = Backend.Zeros(1, c, 3, 4, layout);
                        Upload(m, mb);
                    }
                    var yb = xb.ZerosLike();
                    k.Linearized(xb, Backend.ToBackend(gamma), Backend.ToBackend(running), mb, yb);
                    var yRef = new Tensor(2, c, 3, 4);
                    s_reference.BatchNorm(c, relu).Linearized(x, gamma, running.Clone(), m, yRef);
                    Close(yRef.Data, Download(yb), $"{label} linearized{(m is null ? " without mask" : "")}");
                }

                // Finite differences of L = ⟨dy, BN_train(x)⟩ (float32 forward on the backend, central differences).
                if (!relu) CheckTrainingGradientByFiniteDifferences(x, dy, gamma, c, layout, label);
            }
    }

    private void CheckTrainingGradientByFiniteDifferences(Tensor x, Tensor dy, Tensor gamma, int c, TensorLayout layout, string label)
    {
        double Loss(float[] values, float[] g)
        {
            var k = Backend.BatchNorm(c, false);
            var xb = Backend.Zeros(2, c, 3, 4, layout);
            Upload(Tensor.FromArray(values, 2, c, 3, 4), xb);
            var yb = xb.ZerosLike();
            k.TrainingForward(xb, Backend.ToBackend(Tensor.FromArray(g, c)), Backend.Zeros(c), yb);
            return Dot(Download(yb), dy.Data);
        }
        var kernel = Backend.BatchNorm(c, false);
        var xb0 = Backend.Zeros(2, c, 3, 4, layout);
        Upload(x, xb0);
        var gb = Backend.ToBackend(gamma);
        var y0 = xb0.ZerosLike();
        kernel.TrainingForward(xb0, gb, Backend.Zeros(c), y0);
        var dyb = xb0.ZerosLike();
        Upload(dy, dyb);
        var dg = Backend.Zeros(c);
        kernel.TrainingBackward(dyb, xb0, y0, gb, dg, dyb);
        var dx = Download(dyb);
        const float h = 1e-2f;
        foreach (int i in new[] { 0, 7, 13, x.Length - 1 })
        {
            var plus = x.ToArray();
            var minus = x.ToArray();
            plus[i] += h;
            minus[i] -= h;
            double fd = (Loss(plus, gamma.Data) - Loss(minus, gamma.Data)) / (2 * h);
            Assert.True(Math.Abs(fd - dx[i]) <= 2e-2 * Math.Max(1, Math.Abs(fd)), $"{label}: dL/dx[{i}] = {dx[i]}, finite differences {fd}");
        }
        var dgamma = dg.ToArray();
        for (int j = 0; j < c; j += Math.Max(1, c / 3))
        {
            var plus = gamma.ToArray();
            var minus = gamma.ToArray();
            plus[j] += h;
            minus[j] -= h;
            double fd = (Loss(x.Data, plus) - Loss(x.Data, minus)) / (2 * h);
            Assert.True(Math.Abs(fd - dgamma[j]) <= 2e-2 * Math.Max(1, Math.Abs(fd)), $"{label}: dL/dγ[{j}] = {dgamma[j]}, finite differences {fd}");
        }
    }

    // ---- training pieces ----

    [ConformanceFact]
    public void LossGradientMatchesTheReferenceAndFiniteDifferences()
    {
        var rng = new DeterministicRng(8);
        var r = Random(rng, 3, 1, 4, 4);
        var target = Random(rng, 3, 1, 4, 4);
        var gradient = Backend.Zeros(3, 1, 4, 4);
        double loss = Loss.Evaluate(Backend, Backend.ToBackend(r), Backend.ToBackend(target), gradient);
        double expected = 0;
        for (int i = 0; i < r.Length; i++) expected += ((double)r.Data[i] - target.Data[i]) * (r.Data[i] - target.Data[i]);
        expected /= 3;
        Assert.Equal(expected, loss, 5);
        var g = gradient.ToArray();
        const float h = 1e-2f;
        foreach (int i in new[] { 0, 9, 30, 47 })
        {
            var plus = r.ToArray();
            plus[i] += h;
            var minus = r.ToArray();
            minus[i] -= h;
            double fd = (Loss.Evaluate(Backend, Backend.ToBackend(Tensor.FromArray(plus, 3, 1, 4, 4)), Backend.ToBackend(target), Backend.Zeros(3, 1, 4, 4))
                - Loss.Evaluate(Backend, Backend.ToBackend(Tensor.FromArray(minus, 3, 1, 4, 4)), Backend.ToBackend(target), Backend.Zeros(3, 1, 4, 4))) / (2 * h);
            Assert.Equal(fd, g[i], 2);
        }
    }

    [ConformanceFact]
    public void AdamAndSumOfSquaresMatchTheReference()
    {
        var rng = new DeterministicRng(9);
        var w = Random(rng, 5, 7);
        var g = Random(rng, 5, 7);
        var m = Random(rng, 5, 7, scale: 0.1f);
        var v = Random(rng, 5, 7, scale: 0.1f);
        for (int i = 0; i < v.Length; i++) v.Data[i] = Math.Abs(v.Data[i]); // second moments are non-negative
        var c = new AdamCoefficients(0.9f, 0.999f, 1e-2f, 0.3f, 1e-8f);
        var got = Run((b, t) => b.AdamUpdate(t[3], t[0], t[1], t[2], c), g, m, v, w);
        var (wr, mr, vr) = (w.Clone(), m.Clone(), v.Clone());
        s_reference.AdamUpdate(wr, g, mr, vr, c);
        Close(wr.Data, got, "Adam weights");
        var tensors = new[] { w, g, Random(rng, 1000) };
        Close([s_reference.SumOfSquares(tensors)], [Backend.SumOfSquares(tensors.Select(Backend.ToBackend).ToArray())], "sum of squares");
    }

    [ConformanceFact]
    public void GemmInEveryTranspositionMatchesTheReference()
    {
        var rng = new DeterministicRng(10);
        const int m = 5, n = 7, k = 3;
        foreach (bool ta in new[] { false, true })
            foreach (bool tb in new[] { false, true })
            {
                var a = Random(rng, m * k);
                var b = Random(rng, k * n);
                var c = Random(rng, m * n);
                var got = Run((e, t) => e.Gemm(ta, tb, m, n, k, 1.5f, t[0], t[1], 0.5f, t[2]), a, b, c);
                var expected = c.Clone();
                s_reference.Gemm(ta, tb, m, n, k, 1.5f, a, b, 0.5f, expected);
                Close(expected.Data, got, $"GEMM transA={ta} transB={tb}");
            }
    }

    [ConformanceFact]
    public void SamplerKernelsMatchTheReference()
    {
        var rng = new DeterministicRng(11);
        var x = Random(rng, 4, 1, 3, 3);
        var norms = new double[3];
        Backend.RowNorms(Backend.ToBackend(x), norms);
        var expected = new double[3];
        s_reference.RowNorms(x, expected);
        Close(expected.Select(v => (float)v).ToArray(), norms.Select(v => (float)v).ToArray(), "row norms");
        var y = Random(rng, 4, 1, 3, 3);
        var r = Random(rng, 4, 1, 3, 3);
        var z = Random(rng, 2, 1, 3, 3);
        int[] rows = [3, 1];
        float[] h = [0.1f, 0.2f], gamma = [0.05f, 0.3f];
        var got = Run((b, t) => b.Algorithm1Step(t[2], t[0], t[1], rows, h, gamma), r, z, y);
        var want = y.Clone();
        s_reference.Algorithm1Step(want, r, z, rows, h, gamma);
        Close(want.Data, got, "Algorithm 1 update");
    }

    // ---- whole networks against the same network on the reference backend ----

    [ConformanceFact]
    public void NetworksForwardBackwardJvpAndVjpMatchTheReference()
    {
        foreach (var spec in new[] { "bfcnn:layers=4,width=16", "unet:blocks=2,width=16" })
        {
            using var net = NetworkFactory.Create(NetworkSpec.Parse(spec), 1, Backend, seed: 3);
            using var reference = NetworkFactory.Create(NetworkSpec.Parse(spec), 1, s_reference, seed: 3);
            var rng = new DeterministicRng(12);
            var x = Random(rng, 2, 1, 8, 8, scale: 0.5f, offset: 0.5f);
            var dr = Random(rng, 2, 1, 8, 8);
            foreach (bool training in new[] { true, false })
            {
                string mode = training ? "training" : "evaluation";
                Close(reference.Forward(x, training).Data, net.Forward(Backend.ToBackend(x), training).ToArray(), $"{spec} {mode} forward");
                var gx = Backend.Zeros(2, 1, 8, 8);
                var gxRef = new Tensor(2, 1, 8, 8);
                net.Backward(Backend.ToBackend(dr), gx);
                reference.Backward(dr, gxRef);
                Close(gxRef.Data, gx.ToArray(), $"{spec} {mode} input gradient");
                for (int p = 0; p < net.Parameters.Count; p++)
                    Close(reference.Parameters[p].Gradient.Data, net.Parameters[p].Gradient.ToArray(), $"{spec} {mode} gradient of {net.Parameters[p].Name}", 1e-3);
            }
            var point = Random(rng, 1, 1, 8, 8, scale: 0.5f, offset: 0.5f);
            var lin = net.LinearizeAt(Backend.ToBackend(point));
            var linRef = reference.LinearizeAt(point);
            var v = Random(rng, 3, 1, 8, 8);
            var jv = Backend.Zeros(3, 1, 8, 8);
            var jvRef = new Tensor(3, 1, 8, 8);
            lin.DenoiserJvp(Backend.ToBackend(v), jv);
            linRef.DenoiserJvp(v, jvRef);
            Close(jvRef.Data, jv.ToArray(), $"{spec} JVP");
            lin.DenoiserVjp(Backend.ToBackend(v), jv);
            linRef.DenoiserVjp(v, jvRef);
            Close(jvRef.Data, jv.ToArray(), $"{spec} VJP");
            // Bias-free: J_r(y)·y = r(y).
            var jy = Backend.Zeros(1, 1, 8, 8);
            lin.ResidualJvp(lin.Point, jy);
            Close(lin.Residual.ToArray(), jy.ToArray(), $"{spec} Euler identity J·y = r(y)");
        }
    }

    [ConformanceFact]
    public void ConditionedNetworkForwardBackwardJvpAndVjpMatchTheReference()
    {
        var spec = NetworkSpec.Parse("unet-cond:blocks=2,width=16,emb=8");
        using var net = NetworkFactory.Create(spec, 1, Backend, seed: 3);
        using var reference = NetworkFactory.Create(spec, 1, s_reference, seed: 3);
        var rng = new DeterministicRng(14);
        // Non-zero FiLM projections, β and biases, so every conditioning path carries signal.
        for (int p = 0; p < net.Parameters.Count; p++)
        {
            if (!net.Parameters[p].Name.Contains("film", StringComparison.Ordinal) && !net.Parameters[p].Name.EndsWith(".beta", StringComparison.Ordinal)
                && !net.Parameters[p].Name.EndsWith(".bias", StringComparison.Ordinal)) continue;
            var values = Random(rng, net.Parameters[p].Value.Shape.ToArray(), 0.1f, 0f);
            net.Parameters[p].Value.CopyFrom(values.Data);
            reference.Parameters[p].Value.CopyFrom(values.Data);
        }
        var x = Random(rng, 2, 1, 8, 8, scale: 0.5f, offset: 0.5f);
        var dr = Random(rng, 2, 1, 8, 8);
        float[] sigmas = [0.05f, 0.8f];
        foreach (bool training in new[] { true, false })
        {
            string mode = training ? "training" : "evaluation";
            Close(reference.Forward(x, sigmas, training).Data, net.Forward(Backend.ToBackend(x), sigmas, training).ToArray(), $"{spec} {mode} forward");
            var gx = Backend.Zeros(2, 1, 8, 8);
            var gxRef = new Tensor(2, 1, 8, 8);
            net.Backward(Backend.ToBackend(dr), gx);
            reference.Backward(dr, gxRef);
            Close(gxRef.Data, gx.ToArray(), $"{spec} {mode} input gradient");
            for (int p = 0; p < net.Parameters.Count; p++)
                Close(reference.Parameters[p].Gradient.Data, net.Parameters[p].Gradient.ToArray(), $"{spec} {mode} gradient of {net.Parameters[p].Name}", 1e-3);
        }
        for (int b = 0; b < net.Buffers.Count; b++) Close(reference.Buffers[b].Value.Data, net.Buffers[b].Value.ToArray(), $"{net.Buffers[b].Name}");
        var point = Random(rng, 1, 1, 8, 8, scale: 0.5f, offset: 0.5f);
        var lin = net.LinearizeAt(Backend.ToBackend(point), [0.3f]);
        var linRef = reference.LinearizeAt(point, [0.3f]);
        Close(linRef.Residual.Data, lin.Residual.ToArray(), $"{spec} residual at the linearization point");
        var v = Random(rng, 3, 1, 8, 8);
        var jv = Backend.Zeros(3, 1, 8, 8);
        var jvRef = new Tensor(3, 1, 8, 8);
        lin.DenoiserJvp(Backend.ToBackend(v), jv);
        linRef.DenoiserJvp(v, jvRef);
        Close(jvRef.Data, jv.ToArray(), $"{spec} JVP");
        lin.DenoiserVjp(Backend.ToBackend(v), jv);
        linRef.DenoiserVjp(v, jvRef);
        Close(jvRef.Data, jv.ToArray(), $"{spec} VJP");
    }

    [ConformanceFact]
    public void ConditionedNetworkTrainsLikeTheReference()
    {
        var spec = NetworkSpec.Parse("unet-cond:blocks=1,width=16,emb=8");
        var rng = new DeterministicRng(15);
        var pixels = new float[16 * 8 * 8];
        rng.FillUniform(pixels);
        var images = new ImageSet(pixels, 16, 1, 8, 8, new Provenance("uniform:15", []));
        var options = new TrainingOptions { BatchSize = 8, ImagesPerEpoch = 16, Budget = 8 * 6, LearningRate = 1e-3 };
        using var net = NetworkFactory.Create(spec, 1, Backend, seed: 4);
        using var reference = NetworkFactory.Create(spec, 1, s_reference, seed: 4);
        var trainer = new Trainer(net, images, options.Resolve(spec), seed: 5);
        var referenceTrainer = new Trainer(reference, images, options.Resolve(spec), seed: 5);
        for (int step = 0; step < 6; step++)
        {
            var outcome = trainer.Step(step);
            var expected = referenceTrainer.Step(step);
            Assert.True(outcome.IsFinite);
            Assert.True(Math.Abs(outcome.Loss - expected.Loss) <= 1e-3 * Math.Abs(expected.Loss), $"step {step}: loss {outcome.Loss} vs reference {expected.Loss}");
        }
        for (int p = 0; p < net.Parameters.Count; p++)
            Close(reference.Parameters[p].Value.Data, net.Parameters[p].Value.ToArray(), $"weights of {net.Parameters[p].Name} after 6 steps", 1e-3);
    }

    [ConformanceFact]
    public void ShortTrainingRunFollowsTheReferenceAndItsCheckpointLoadsOnTheCpu()
    {
        var spec = NetworkSpec.Parse("unet:blocks=1,width=16");
        var rng = new DeterministicRng(13);
        var pixels = new float[24 * 8 * 8];
        rng.FillUniform(pixels);
        var images = new ImageSet(pixels, 24, 1, 8, 8, new Provenance("uniform:13", []));
        var options = new TrainingOptions { BatchSize = 8, ImagesPerEpoch = 24, Budget = 8 * 10, LearningRate = 1e-3 };
        using var net = NetworkFactory.Create(spec, 1, Backend, seed: 4);
        using var reference = NetworkFactory.Create(spec, 1, s_reference, seed: 4);
        var trainer = new Trainer(net, images, options.Resolve(), seed: 5);
        var referenceTrainer = new Trainer(reference, images, options.Resolve(), seed: 5);
        for (int step = 0; step < 10; step++)
        {
            var outcome = trainer.Step(step);
            var expected = referenceTrainer.Step(step);
            Assert.True(outcome.IsFinite);
            Assert.True(Math.Abs(outcome.Loss - expected.Loss) <= 1e-3 * Math.Abs(expected.Loss), $"step {step}: loss {outcome.Loss} vs reference {expected.Loss}");
        }
        for (int p = 0; p < net.Parameters.Count; p++)
            Close(reference.Parameters[p].Value.Data, net.Parameters[p].Value.ToArray(), $"weights of {net.Parameters[p].Name} after 10 steps", 1e-3);

        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "net.safetensors");
        Checkpoint.Save(path, net, 8, 8, 10);
        using var cpu = new CpuBackend(new ReferenceConvolutionFactory());
        using var loaded = Checkpoint.Load(path, cpu);
        var probe = Random(rng, 2, 1, 8, 8);
        Close(net.Forward(Backend.ToBackend(probe), training: false).ToArray(), loaded.Forward(probe, training: false).Data, "checkpoint written on this backend, read on the CPU");
    }

    [ConformanceFact]
    public void Algorithm1SamplesMatchTheReference()
    {
        var spec = NetworkSpec.Parse("bfcnn:layers=3,width=16");
        using var net = NetworkFactory.Create(spec, 1, Backend, seed: 6);
        using var reference = NetworkFactory.Create(spec, 1, s_reference, seed: 6);
        var options = new Algorithm1Options { MaxSteps = 6, BatchSize = 4, Beta = 0.5, InitialSigma = 0.5f };
        var got = new Algorithm1Sampler(options).Sample(new NetworkDenoiser(net, 4), 6, 1, 6, 6, seed: 7);
        var want = new Algorithm1Sampler(options).Sample(new NetworkDenoiser(reference, 4), 6, 1, 6, 6, seed: 7);
        Assert.Equal(want.Steps, got.Steps);
        Assert.Equal(want.Outcomes, got.Outcomes);
        Close(want.Samples.Data, got.Samples.Data, "Algorithm 1 samples", 1e-3);
    }

    // ---- helpers ----

    private static Tensor Random(DeterministicRng rng, params int[] shape) => Random(rng, shape, 1f, 0f);

    private static Tensor Random(DeterministicRng rng, int a, int b, float scale = 1f, float offset = 0f) => Random(rng, [a, b], scale, offset);

    private static Tensor Random(DeterministicRng rng, int a, float scale = 1f, float offset = 0f) => Random(rng, [a], scale, offset);

    private static Tensor Random(DeterministicRng rng, int a, int b, int c, int d, float scale = 1f, float offset = 0f) => Random(rng, [a, b, c, d], scale, offset);

    private static Tensor Random(DeterministicRng rng, int[] shape, float scale, float offset)
    {
        var t = new Tensor(shape);
        rng.FillNormal(t.Span, offset, scale);
        return t;
    }

    private static Tensor Zeros(Tensor like) => new(like.Shape.ToArray());

    /// <summary>Runs a kernel on copies of <paramref name="inputs"/> on the backend; returns the last operand, downloaded.</summary>
    private float[] Run(Action<ComputeBackend, Tensor[]> kernel, params Tensor[] inputs)
    {
        var onBackend = inputs.Select(Backend.ToBackend).ToArray();
        kernel(Backend, onBackend);
        return onBackend[^1].ToArray();
    }

    /// <summary>Runs a kernel on the reference; returns the last operand.</summary>
    private static Tensor Host(Action<ComputeBackend, Tensor[]> kernel, params Tensor[] inputs)
    {
        kernel(s_reference, inputs);
        return inputs[^1];
    }

    /// <summary>Runs a kernel on activations in the backend's own layout; returns the first output, plain.</summary>
    private float[] RunActivations(Action<ComputeBackend, Tensor[]> kernel, Tensor[] inputs, params int[][] outputs)
    {
        var operands = inputs.Select(t => Activation(t, Backend.ActivationLayout(t.C)))
            .Concat(outputs.Select(s => Backend.Zeros(s[0], s[1], s[2], s[3], Backend.ActivationLayout(s[1])))).ToArray();
        kernel(Backend, operands);
        return Download(operands[inputs.Length]);
    }

    /// <summary>The expected result of a reference kernel that writes into a fresh tensor (the last operand).</summary>
    private void Same(float[] got, Action<ComputeBackend> reference)
    {
        var captured = new List<Tensor>();
        var recorder = new RecordingBackend(s_reference, captured);
        reference(recorder);
        Close(captured[^1].Data, got, "kernel");
    }

    private Tensor Activation(Tensor plain, TensorLayout layout)
    {
        var t = Backend.Zeros(plain.N, plain.C, plain.H, plain.W, layout);
        Upload(plain, t);
        return t;
    }

    /// <summary>Copies a plain host tensor into a backend tensor of any layout.</summary>
    private static void Upload(Tensor plain, Tensor target)
    {
        if (target.Layout == TensorLayout.Nchw) target.CopyFrom(plain.Data);
        else BlockedLayout.Convert(plain, target);
    }

    /// <summary>A backend tensor's elements in plain NCHW order.</summary>
    private static float[] Download(Tensor t) => t.Layout == TensorLayout.Nchw ? t.ToArray() : BlockedLayout.ToPlain(t).Data;

    private static float[] Plain(Tensor t) => Download(t);

    private static double Dot(float[] a, float[] b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    private void Close(float[] expected, float[] actual, string what, double? tolerance = null)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Length == 0 ? 1 : expected.Max(v => Math.Abs((double)v));
        double worst = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.False(float.IsNaN(actual[i]), $"{what}: NaN at {i}");
            worst = Math.Max(worst, Math.Abs((double)expected[i] - actual[i]));
        }
        double allowed = (tolerance ?? Tolerance) * Math.Max(scale, 1e-3);
        Assert.True(worst <= allowed, $"{Backend.Name} {what}: max |difference| {worst:E2} > {allowed:E2} (scale {scale:E2})");
    }

    private void Close(double[] expected, double[] actual, string what) =>
        Close(expected.Select(v => (float)v).ToArray(), actual.Select(v => (float)v).ToArray(), what);

    /// <summary>Forwards to the reference, remembering the tensors it allocates (the outputs of <see cref="Same"/>).</summary>
    private sealed class RecordingBackend(ReferenceBackend inner, List<Tensor> allocated) : ComputeBackend
    {
        public override string Name => inner.Name;
        public override string Description => inner.Description;
        public override ComputePrecision Precision => inner.Precision;
        public override LinearAlgebra LinearAlgebra => inner.LinearAlgebra;
        public override bool Holds(Tensor tensor) => inner.Holds(tensor);
        protected override Tensor Allocate(int[] shape, TensorLayout layout)
        {
            var t = new Tensor(shape);
            allocated.Add(t);
            return t;
        }
        public override TensorLayout ActivationLayout(int channels) => inner.ActivationLayout(channels);
        public override IConvolution Convolution(ConvolutionShape shape) => inner.Convolution(shape);
        public override BatchNormKernels BatchNorm(int channels, bool fusedRelu) => inner.BatchNorm(channels, fusedRelu);
        public override void Relu(Tensor x, Tensor y) => inner.Relu(x, y);
        public override void ReluBackward(Tensor dy, Tensor y, Tensor dx) => inner.ReluBackward(dy, y, dx);
        public override void Mask(Tensor x, Tensor mask, Tensor y) => inner.Mask(x, mask, y);
        public override void PositiveMask(Tensor x, Tensor mask) => inner.PositiveMask(x, mask);
        public override void AveragePool(Tensor x, Tensor y) => inner.AveragePool(x, y);
        public override void AveragePoolBackward(Tensor dy, Tensor dx) => inner.AveragePoolBackward(dy, dx);
        public override void Concat(Tensor a, Tensor b, Tensor y) => inner.Concat(a, b, y);
        public override void Split(Tensor y, Tensor a, Tensor b) => inner.Split(y, a, b);
        public override void Add(Tensor a, Tensor b, Tensor y) => inner.Add(a, b, y);
        public override void Subtract(Tensor a, Tensor b, Tensor y) => inner.Subtract(a, b, y);
        public override void Copy(Tensor source, int sourceOffset, Tensor destination, int destinationOffset, int count) => inner.Copy(source, sourceOffset, destination, destinationOffset, count);
        public override void Clear(Tensor tensor, int offset, int count) => inner.Clear(tensor, offset, count);
        public override double SquaredError(Tensor prediction, Tensor target, float gradientScale, Tensor gradient) => inner.SquaredError(prediction, target, gradientScale, gradient);
        public override void AdamUpdate(Tensor weights, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamCoefficients coefficients) => inner.AdamUpdate(weights, gradient, firstMoment, secondMoment, coefficients);
        public override double SumOfSquares(IReadOnlyList<Tensor> tensors) => inner.SumOfSquares(tensors);
        public override void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c) => inner.Gemm(transposeA, transposeB, m, n, k, alpha, a, b, beta, c);
        public override void RowNorms(Tensor x, Span<double> norms) => inner.RowNorms(x, norms);
        public override void Algorithm1Step(Tensor y, Tensor direction, Tensor noise, ReadOnlySpan<int> rows, ReadOnlySpan<float> stepSizes, ReadOnlySpan<float> noiseScales) => inner.Algorithm1Step(y, direction, noise, rows, stepSizes, noiseScales);
        public override void AddChannelBias(Tensor x, Tensor bias, Tensor y) => inner.AddChannelBias(x, bias, y);
        public override void ChannelSums(Tensor x, Tensor sums) => inner.ChannelSums(x, sums);
        public override void Silu(Tensor x, Tensor y) => inner.Silu(x, y);
        public override void SiluBackward(Tensor dy, Tensor x, Tensor dx) => inner.SiluBackward(dy, x, dx);
        public override void SiluDerivative(Tensor x, Tensor derivative) => inner.SiluDerivative(x, derivative);
        public override void CombineItems(Tensor a, Tensor alpha, Tensor? b, Tensor? beta, Tensor y) => inner.CombineItems(a, alpha, b, beta, y);
        public override double WeightedSquaredError(Tensor prediction, Tensor target, Tensor weights, float gradientScale, Tensor gradient) => inner.WeightedSquaredError(prediction, target, weights, gradientScale, gradient);
        public override ConditionedNormKernels ConditionedNorm(int channels) => inner.ConditionedNorm(channels);
    }
}

/// <summary>The conformance suite on the CPU backend (oneDNN convolutions, blocked activations where channels allow).</summary>
public sealed class CpuBackendConformanceTests : BackendConformanceTests
{
    private static readonly CpuBackend s_backend = new();

    /// <inheritdoc />
    protected override ComputeBackend Backend => s_backend;
}

/// <summary>The conformance suite on CUDA device 0 in float32 (skipped, by name, where no device is usable).</summary>
public sealed class CudaBackendConformanceTests : BackendConformanceTests, IRequiresCuda
{
    private static readonly Lazy<CudaBackend> s_backend = new(() => CudaBackend.Open(0, ComputePrecision.Float32));

    /// <inheritdoc />
    protected override ComputeBackend Backend => s_backend.Value;
}

/// <summary>The conformance suite on CUDA device 0 with TF32 tensor cores (looser tolerance: 10-bit mantissas).</summary>
public sealed class CudaTf32BackendConformanceTests : BackendConformanceTests, IRequiresCuda
{
    private static readonly Lazy<CudaBackend> s_backend = new(() => CudaBackend.Open(0, ComputePrecision.Tf32));

    /// <inheritdoc />
    protected override ComputeBackend Backend => s_backend.Value;

    /// <inheritdoc />
    protected override double Tolerance => 1e-2;
}
