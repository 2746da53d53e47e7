using System.Globalization;
using MemGen.Native;
using MemGen.Tensors;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace MemGen.Compute.Cpu;

/// <summary>
/// The CPU engine: tensors in pinned host memory, convolutions from an <see cref="IConvolutionFactory"/> (oneDNN by
/// default, with hidden activations in its blocked nChw16c layout where the channels allow), batch norm, ReLU,
/// pooling and the rest as SIMD loops (<see cref="ChannelKernels"/>), and OpenBLAS/LAPACKE for dense linear algebra.
/// </summary>
public sealed class CpuBackend : ComputeBackend
{
    private static readonly OpenBlasLinearAlgebra s_linearAlgebra = new();
    private readonly IConvolutionFactory _convolutions;
    private readonly IDisposable? _ownedConvolutions;

    /// <summary>The CPU backend on oneDNN convolutions.</summary>
    /// <param name="winograd">Ask oneDNN for its Winograd algorithm for 3×3 convolutions where it exists (opt-in: ~3× the rounding error of direct).</param>
    public CpuBackend(bool winograd = false)
    {
        var onednn = new OneDnnConvolutionFactory(winograd);
        _convolutions = onednn;
        _ownedConvolutions = onednn;
        Winograd = winograd;
    }

    /// <summary>
    /// The CPU backend on the convolutions of <paramref name="convolutions"/> (not owned): the reference loops of
    /// <see cref="ReferenceConvolutionFactory"/> (no native library needed) or an instrumented factory in benchmarks.
    /// </summary>
    public CpuBackend(IConvolutionFactory convolutions)
    {
        ArgumentNullException.ThrowIfNull(convolutions);
        _convolutions = convolutions;
    }

    /// <summary>Whether 3×3 convolutions ask oneDNN for the Winograd algorithm.</summary>
    public bool Winograd { get; }

    /// <inheritdoc />
    public override string Name => "cpu";

    /// <inheritdoc />
    public override string Description => _ownedConvolutions is null
        ? string.Create(CultureInfo.InvariantCulture, $"CPU, {_convolutions.GetType().Name} convolutions, {Environment.ProcessorCount} cores")
        : string.Create(CultureInfo.InvariantCulture, $"CPU, oneDNN {OneDnn.Version}, {OneDnn.ThreadCount} threads{(OneDnn.HasAvx512 ? ", AVX-512" : "")}{(Winograd ? ", Winograd" : "")}");

    /// <summary>oneDNN's (OpenMP) thread count, the engine's parallelism.</summary>
    public static int Threads => OneDnn.ThreadCount;

    /// <inheritdoc />
    public override ComputePrecision Precision => ComputePrecision.Float32;

    /// <inheritdoc />
    public override LinearAlgebra LinearAlgebra => s_linearAlgebra;

    /// <inheritdoc />
    public override bool Holds(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor.IsHost;
    }

    /// <inheritdoc />
    protected override Tensor Allocate(int[] shape, TensorLayout layout) =>
        layout == TensorLayout.Nchw ? new Tensor(shape) : BlockedLayout.Allocate(shape[0], shape[1], shape[2], shape[3], layout);

    /// <inheritdoc />
    public override TensorLayout ActivationLayout(int channels) =>
        channels % BlockedLayout.BlockSize == 0 ? TensorLayout.Nchw16c : TensorLayout.Nchw;

    /// <inheritdoc />
    public override IConvolution Convolution(ConvolutionShape shape) => _convolutions.Create(shape);

    /// <inheritdoc />
    public override BatchNormKernels BatchNorm(int channels, bool fusedRelu) => new CpuBatchNorm(channels, fusedRelu);

    /// <inheritdoc />
    public override void Relu(Tensor x, Tensor y) => ChannelKernels.Relu(x, y);

    /// <inheritdoc />
    public override void ReluBackward(Tensor dy, Tensor y, Tensor dx) => ChannelKernels.Gate(dy, y, dx);

    /// <inheritdoc />
    public override void Mask(Tensor x, Tensor mask, Tensor y) => ChannelKernels.Mask(x, mask, y);

    /// <inheritdoc />
    public override void PositiveMask(Tensor x, Tensor mask) => ChannelKernels.PositiveMask(x, mask);

    /// <inheritdoc />
    public override void AveragePool(Tensor x, Tensor y) => CpuPooling.Run(x, y, forward: true);

    /// <inheritdoc />
    public override void AveragePoolBackward(Tensor dy, Tensor dx) => CpuPooling.Run(dx, dy, forward: false);

    /// <inheritdoc />
    public override void Concat(Tensor a, Tensor b, Tensor y)
    {
        // Per batch item both layouts store channels (or 16-channel blocks) outermost, so each item of y is a's item
        // followed by b's item; in the blocked layout that needs a's channels to fill whole blocks.
        if (a.Layout == TensorLayout.Nchw16c && a.C % BlockedLayout.BlockSize != 0)
            throw new ArgumentException($"Blocked concatenation needs the first input's channels divisible by {BlockedLayout.BlockSize}, got {a.C}.");
        int ia = a.ItemLength, ib = b.ItemLength;
        for (int n = 0; n < a.N; n++)
        {
            a.Data.AsSpan(n * ia, ia).CopyTo(y.Data.AsSpan(n * (ia + ib), ia));
            b.Data.AsSpan(n * ib, ib).CopyTo(y.Data.AsSpan(n * (ia + ib) + ia, ib));
        }
    }

    /// <inheritdoc />
    public override void Split(Tensor y, Tensor a, Tensor b)
    {
        int ia = a.ItemLength, ib = b.ItemLength;
        for (int n = 0; n < y.N; n++)
        {
            y.Data.AsSpan(n * (ia + ib), ia).CopyTo(a.Data.AsSpan(n * ia, ia));
            y.Data.AsSpan(n * (ia + ib) + ia, ib).CopyTo(b.Data.AsSpan(n * ib, ib));
        }
    }

    /// <inheritdoc />
    public override void Add(Tensor a, Tensor b, Tensor y) => TensorPrimitives.Add(a.Span, b.Span, y.Span);

    /// <inheritdoc />
    public override void Subtract(Tensor a, Tensor b, Tensor y) => TensorPrimitives.Subtract(a.Span, b.Span, y.Span);

    /// <inheritdoc />
    public override void Copy(Tensor source, int sourceOffset, Tensor destination, int destinationOffset, int count) =>
        source.Data.AsSpan(sourceOffset, count).CopyTo(destination.Data.AsSpan(destinationOffset, count));

    /// <inheritdoc />
    public override void Clear(Tensor tensor, int offset, int count) => tensor.Data.AsSpan(offset, count).Clear();

    /// <inheritdoc />
    public override void AddChannelBias(Tensor x, Tensor bias, Tensor y) => ConditioningKernels.AddChannelBias(x, bias, y);

    /// <inheritdoc />
    public override void ChannelSums(Tensor x, Tensor sums)
    {
        var total = new double[sums.Length];
        ConditioningKernels.ChannelSums(x, total);
        for (int c = 0; c < total.Length; c++) sums.Data[c] = (float)total[c];
    }

    /// <inheritdoc />
    public override void Silu(Tensor x, Tensor y) => ConditioningKernels.Silu(x, y);

    /// <inheritdoc />
    public override void SiluBackward(Tensor dy, Tensor x, Tensor dx) => ConditioningKernels.SiluGradient(dy, x, dx);

    /// <inheritdoc />
    public override void SiluDerivative(Tensor x, Tensor derivative) => ConditioningKernels.SiluGradient(null, x, derivative);

    /// <inheritdoc />
    public override void CombineItems(Tensor a, Tensor alpha, Tensor? b, Tensor? beta, Tensor y) =>
        ConditioningKernels.CombineItems(a, alpha.Span, b, beta is null ? default : beta.Span, y);

    /// <inheritdoc />
    public override ConditionedNormKernels ConditionedNorm(int channels) => new CpuConditionedNorm(channels);

    /// <inheritdoc />
    public override double WeightedSquaredError(Tensor prediction, Tensor target, Tensor weights, float gradientScale, Tensor gradient) =>
        SquaredError(prediction, target, weights.Data, gradientScale, gradient);

    /// <inheritdoc />
    public override double SquaredError(Tensor prediction, Tensor target, float gradientScale, Tensor gradient) =>
        SquaredError(prediction, target, null, gradientScale, gradient);

    private static double SquaredError(Tensor prediction, Tensor target, float[]? weights, float gradientScale, Tensor gradient)
    {
        int items = prediction.Shape[0], d = prediction.ItemLength;
        var perItem = new double[items];
        Parallel.For(0, items, i =>
        {
            var r = prediction.Data.AsSpan(i * d, d);
            var t = target.Data.AsSpan(i * d, d);
            var g = gradient.Data.AsSpan(i * d, d);
            float w = weights is null ? 1f : weights[i], scale = gradientScale * w;
            double sum = 0;
            for (int k = 0; k < d; k++)
            {
                float diff = r[k] - t[k];
                sum += (double)diff * diff;
                g[k] = scale * diff;
            }
            perItem[i] = w * sum;
        });
        double total = 0;
        for (int i = 0; i < items; i++) total += perItem[i];
        return total;
    }

    /// <inheritdoc />
    public override void AdamUpdate(Tensor weights, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamCoefficients c)
    {
        var w = weights.Span;
        var g = gradient.Span;
        var m = firstMoment.Span;
        var v = secondMoment.Span;
        float b1 = c.Beta1, b2 = c.Beta2, stepSize = c.StepSize, rootCorrection2 = c.RootCorrection2, eps = c.Epsilon;
        for (int k = 0; k < w.Length; k++)
        {
            m[k] = b1 * m[k] + (1 - b1) * g[k];
            v[k] = b2 * v[k] + (1 - b2) * g[k] * g[k];
            w[k] -= stepSize * m[k] / (MathF.Sqrt(v[k]) / rootCorrection2 + eps);
        }
    }

    /// <inheritdoc />
    public override double SumOfSquares(IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        double sum = 0;
        foreach (var t in tensors) sum += TensorPrimitives.Dot<float>(t.Span, t.Span);
        return sum;
    }

    /// <inheritdoc />
    public override void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c) =>
        Blas.Sgemm(transposeA, transposeB, m, n, k, alpha, a.Span, b.Span, beta, c.Span);

    /// <inheritdoc />
    public override void RowNorms(Tensor x, Span<double> norms)
    {
        int d = x.ItemLength;
        for (int i = 0; i < norms.Length; i++) norms[i] = TensorPrimitives.Norm<float>(x.Data.AsSpan(i * d, d));
    }

    /// <inheritdoc />
    public override void Algorithm1Step(Tensor y, Tensor direction, Tensor noise, ReadOnlySpan<int> rows,
        ReadOnlySpan<float> stepSizes, ReadOnlySpan<float> noiseScales)
    {
        int d = y.ItemLength;
        for (int j = 0; j < rows.Length; j++)
        {
            var ys = y.Data.AsSpan(rows[j] * d, d);
            TensorPrimitives.MultiplyAdd(direction.Data.AsSpan(rows[j] * d, d), -stepSizes[j], ys, ys); // y − h·r
            TensorPrimitives.MultiplyAdd(noise.Data.AsSpan(j * d, d), noiseScales[j], ys, ys);         // + γ·z
        }
    }

    /// <inheritdoc />
    protected override void Dispose(bool disposing)
    {
        if (disposing) _ownedConvolutions?.Dispose();
    }
}
