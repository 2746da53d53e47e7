using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Tests.Compute;

/// <summary>
/// The plain C# reference every backend is checked against: host memory, plain NCHW only, every kernel a naive loop
/// written from its definition with float64 accumulation (convolutions by <see cref="ReferenceConvolution"/>).
/// Slow and obviously correct; shares no code with the CPU backend's SIMD kernels.
/// </summary>
internal sealed class ReferenceBackend : ComputeBackend
{
    public override string Name => "reference";

    public override string Description => "plain C# reference loops";

    public override ComputePrecision Precision => ComputePrecision.Float32;

    public override LinearAlgebra LinearAlgebra => Host.LinearAlgebra;

    public override bool Holds(Tensor tensor) => tensor.IsHost && tensor.Layout == TensorLayout.Nchw;

    protected override Tensor Allocate(int[] shape, TensorLayout layout) =>
        layout == TensorLayout.Nchw ? new Tensor(shape) : throw new ArgumentException("The reference backend is plain NCHW only.");

    public override TensorLayout ActivationLayout(int channels) => TensorLayout.Nchw;

    public override IConvolution Convolution(ConvolutionShape shape) => new ReferenceConvolution(shape);

    public override BatchNormKernels BatchNorm(int channels, bool fusedRelu) => new ReferenceBatchNorm(channels, fusedRelu);

    public override void Relu(Tensor x, Tensor y)
    {
        for (int i = 0; i < x.Length; i++) y.Data[i] = x.Data[i] > 0 ? x.Data[i] : 0;
    }

    public override void ReluBackward(Tensor dy, Tensor y, Tensor dx)
    {
        for (int i = 0; i < dy.Length; i++) dx.Data[i] = y.Data[i] > 0 ? dy.Data[i] : 0;
    }

    public override void Mask(Tensor x, Tensor mask, Tensor y)
    {
        for (int i = 0; i < x.Length; i++) y.Data[i] = x.Data[i] * mask.Data[i % mask.Length];
    }

    public override void PositiveMask(Tensor x, Tensor mask)
    {
        for (int i = 0; i < x.Length; i++) mask.Data[i] = x.Data[i] > 0 ? 1 : 0;
    }

    public override void AveragePool(Tensor x, Tensor y)
    {
        for (int n = 0; n < y.N; n++)
            for (int c = 0; c < y.C; c++)
                for (int h = 0; h < y.H; h++)
                    for (int w = 0; w < y.W; w++)
                    {
                        double s = 0;
                        for (int i = 0; i < 2; i++)
                            for (int j = 0; j < 2; j++) s += x.Data[((n * x.C + c) * x.H + 2 * h + i) * x.W + 2 * w + j];
                        y.Data[((n * y.C + c) * y.H + h) * y.W + w] = (float)(s / 4);
                    }
    }

    public override void AveragePoolBackward(Tensor dy, Tensor dx)
    {
        for (int n = 0; n < dx.N; n++)
            for (int c = 0; c < dx.C; c++)
                for (int h = 0; h < dx.H; h++)
                    for (int w = 0; w < dx.W; w++)
                        dx.Data[((n * dx.C + c) * dx.H + h) * dx.W + w] = dy.Data[((n * dy.C + c) * dy.H + h / 2) * dy.W + w / 2] / 4;
    }

    public override void Concat(Tensor a, Tensor b, Tensor y)
    {
        int hw = a.H * a.W;
        for (int n = 0; n < y.N; n++)
            for (int c = 0; c < y.C; c++)
                for (int p = 0; p < hw; p++)
                    y.Data[(n * y.C + c) * hw + p] = c < a.C ? a.Data[(n * a.C + c) * hw + p] : b.Data[(n * b.C + c - a.C) * hw + p];
    }

    public override void Split(Tensor y, Tensor a, Tensor b)
    {
        int hw = a.H * a.W;
        for (int n = 0; n < y.N; n++)
            for (int c = 0; c < y.C; c++)
                for (int p = 0; p < hw; p++)
                {
                    float v = y.Data[(n * y.C + c) * hw + p];
                    if (c < a.C) a.Data[(n * a.C + c) * hw + p] = v;
                    else b.Data[(n * b.C + c - a.C) * hw + p] = v;
                }
    }

    public override void Add(Tensor a, Tensor b, Tensor y)
    {
        for (int i = 0; i < a.Length; i++) y.Data[i] = a.Data[i] + b.Data[i];
    }

    public override void Subtract(Tensor a, Tensor b, Tensor y)
    {
        for (int i = 0; i < a.Length; i++) y.Data[i] = a.Data[i] - b.Data[i];
    }

    public override void Copy(Tensor source, int sourceOffset, Tensor destination, int destinationOffset, int count)
    {
        for (int i = 0; i < count; i++) destination.Data[destinationOffset + i] = source.Data[sourceOffset + i];
    }

    public override void Clear(Tensor tensor, int offset, int count)
    {
        for (int i = 0; i < count; i++) tensor.Data[offset + i] = 0;
    }

    public override double SquaredError(Tensor prediction, Tensor target, float gradientScale, Tensor gradient)
    {
        double total = 0;
        for (int i = 0; i < prediction.Length; i++)
        {
            double diff = (double)prediction.Data[i] - target.Data[i];
            total += diff * diff;
            gradient.Data[i] = (float)(gradientScale * diff);
        }
        return total;
    }

    public override void AdamUpdate(Tensor weights, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamCoefficients c)
    {
        for (int i = 0; i < weights.Length; i++)
        {
            double g = gradient.Data[i];
            double m = c.Beta1 * (double)firstMoment.Data[i] + (1 - (double)c.Beta1) * g;
            double v = c.Beta2 * (double)secondMoment.Data[i] + (1 - (double)c.Beta2) * g * g;
            firstMoment.Data[i] = (float)m;
            secondMoment.Data[i] = (float)v;
            weights.Data[i] = (float)(weights.Data[i] - c.StepSize * m / (Math.Sqrt(v) / c.RootCorrection2 + c.Epsilon));
        }
    }

    public override double SumOfSquares(IReadOnlyList<Tensor> tensors) => tensors.Sum(t => t.Data.Sum(v => (double)v * v));

    public override void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double s = 0;
                for (int l = 0; l < k; l++)
                    s += (double)(transposeA ? a.Data[l * m + i] : a.Data[i * k + l]) * (transposeB ? b.Data[j * k + l] : b.Data[l * n + j]);
                c.Data[i * n + j] = (float)(alpha * s + beta * (double)c.Data[i * n + j]);
            }
    }

    public override void RowNorms(Tensor x, Span<double> norms)
    {
        int d = x.ItemLength;
        for (int r = 0; r < norms.Length; r++)
        {
            double s = 0;
            for (int k = 0; k < d; k++) s += (double)x.Data[r * d + k] * x.Data[r * d + k];
            norms[r] = Math.Sqrt(s);
        }
    }

    public override void Algorithm1Step(Tensor y, Tensor direction, Tensor noise, ReadOnlySpan<int> rows, ReadOnlySpan<float> stepSizes, ReadOnlySpan<float> noiseScales)
    {
        int d = y.ItemLength;
        for (int j = 0; j < rows.Length; j++)
            for (int k = 0; k < d; k++)
            {
                int i = rows[j] * d + k;
                y.Data[i] = (float)(y.Data[i] - (double)stepSizes[j] * direction.Data[i] + (double)noiseScales[j] * noise.Data[j * d + k]);
            }
    }

    public override void AddChannelBias(Tensor x, Tensor bias, Tensor y)
    {
        int channels = x.Shape[1], hw = x.ItemLength / channels;
        for (int i = 0; i < x.Length; i++) y.Data[i] = (float)((double)x.Data[i] + bias.Data[i / hw % channels]);
    }

    public override void ChannelSums(Tensor x, Tensor sums)
    {
        int channels = x.Shape[1], hw = x.ItemLength / channels;
        var total = new double[channels];
        for (int i = 0; i < x.Length; i++) total[i / hw % channels] += x.Data[i];
        for (int c = 0; c < channels; c++) sums.Data[c] = (float)total[c];
    }

    public override void Silu(Tensor x, Tensor y)
    {
        for (int i = 0; i < x.Length; i++) y.Data[i] = (float)(x.Data[i] * Sigmoid(x.Data[i]));
    }

    public override void SiluBackward(Tensor dy, Tensor x, Tensor dx)
    {
        for (int i = 0; i < x.Length; i++) dx.Data[i] = (float)(dy.Data[i] * SiluDerivative(x.Data[i]));
    }

    public override void SiluDerivative(Tensor x, Tensor derivative)
    {
        for (int i = 0; i < x.Length; i++) derivative.Data[i] = (float)SiluDerivative(x.Data[i]);
    }

    public override void CombineItems(Tensor a, Tensor alpha, Tensor? b, Tensor? beta, Tensor y)
    {
        int d = a.ItemLength;
        for (int i = 0; i < a.Length; i++)
        {
            int n = i / d;
            y.Data[i] = (float)((double)alpha.Data[n] * a.Data[i] + (b is null ? 0 : (double)beta!.Data[n] * b.Data[i]));
        }
    }

    public override double WeightedSquaredError(Tensor prediction, Tensor target, Tensor weights, float gradientScale, Tensor gradient)
    {
        int d = prediction.ItemLength;
        double total = 0;
        for (int i = 0; i < prediction.Length; i++)
        {
            double w = weights.Data[i / d], diff = (double)prediction.Data[i] - target.Data[i];
            total += w * diff * diff;
            gradient.Data[i] = (float)(gradientScale * w * diff);
        }
        return total;
    }

    public override ConditionedNormKernels ConditionedNorm(int channels) => new ReferenceConditionedNorm(channels);

    /// <summary>σ(u) = 1/(1 + e^−u).</summary>
    internal static double Sigmoid(double u) => 1 / (1 + Math.Exp(-u));

    /// <summary>d/du u·σ(u) = σ(u) + u·σ(u)(1 − σ(u)).</summary>
    internal static double SiluDerivative(double u) => Sigmoid(u) + u * Sigmoid(u) * (1 - Sigmoid(u));

    /// <summary>
    /// The conditioned batch norm from its definition in float64, its backward pass in the textbook form
    /// dx = (γ/sd)·(dh − mean(dh) − x̂·mean(dh·x̂)) with dh = dy·silu'(u)·(1 + s).
    /// </summary>
    private sealed class ReferenceConditionedNorm(int channels) : ConditionedNormKernels(channels)
    {
        private double[] _mean = [], _sd = [];

        public override void TrainingForward(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor y)
        {
            (_mean, _sd) = (new double[Channels], new double[Channels]);
            for (int c = 0; c < Channels; c++)
            {
                var values = Indices(x, c).Select(i => (double)x.Data[i]).ToArray();
                _mean[c] = values.Average();
                _sd[c] = Math.Sqrt(values.Sum(v => (v - _mean[c]) * (v - _mean[c])) / values.Length + Epsilon);
                runningMean.Data[c] = (float)((1 - Momentum) * runningMean.Data[c] + Momentum * _mean[c]);
                runningSd.Data[c] = (float)((1 - Momentum) * runningSd.Data[c] + Momentum * _sd[c]);
            }
            Map(x, y, i => Silu(U(x, i, gamma, beta, film, _mean, _sd)));
        }

        public override void EvaluationForward(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor y)
        {
            var (mean, sd) = Running(runningMean, runningSd);
            Map(x, y, i => Silu(U(x, i, gamma, beta, film, mean, sd)));
        }

        public override void Backward(bool training, Tensor dy, Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd,
            Tensor? gammaGradient, Tensor? betaGradient, Tensor? filmGradient, Tensor dx)
        {
            var (mean, sd) = training ? (_mean, _sd) : Running(runningMean, runningSd);
            int hw = x.H * x.W, m = x.N * hw;
            var result = new double[x.Length];
            var dfilm = new double[x.N * 2 * Channels];
            for (int c = 0; c < Channels; c++)
            {
                var idx = Indices(x, c).ToArray();
                double Hat(int i) => (x.Data[i] - mean[c]) / sd[c];
                double G(int i) => dy.Data[i] * SiluDerivative(U(x, i, gamma, beta, film, mean, sd));
                double Dh(int i) => G(i) * (1 + film.Data[i / hw / Channels * 2 * Channels + c]);
                double meanDh = idx.Average(Dh), meanDhHat = idx.Average(i => Dh(i) * Hat(i));
                if (gammaGradient is not null) gammaGradient.Data[c] = (float)idx.Sum(i => Dh(i) * Hat(i));
                if (betaGradient is not null) betaGradient.Data[c] = (float)idx.Sum(Dh);
                foreach (var i in idx)
                {
                    int n = i / hw / Channels;
                    dfilm[n * 2 * Channels + c] += G(i) * (gamma.Data[c] * Hat(i) + beta.Data[c]);
                    dfilm[n * 2 * Channels + Channels + c] += G(i);
                    result[i] = training
                        ? gamma.Data[c] / sd[c] * (Dh(i) - meanDh - Hat(i) * meanDhHat)
                        : gamma.Data[c] / sd[c] * Dh(i);
                }
            }
            if (filmGradient is not null) for (int k = 0; k < dfilm.Length; k++) filmGradient.Data[k] = (float)dfilm[k];
            for (int i = 0; i < dx.Length; i++) dx.Data[i] = (float)result[i];
        }

        public override void Derivative(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor derivative)
        {
            var (mean, sd) = Running(runningMean, runningSd);
            int hw = x.H * x.W;
            Map(x, derivative, i =>
            {
                int c = i / hw % Channels, n = i / hw / Channels;
                return SiluDerivative(U(x, i, gamma, beta, film, mean, sd)) * gamma.Data[c] * (1 + film.Data[n * 2 * Channels + c]) / sd[c];
            });
        }

        private static double Silu(double u) => u * Sigmoid(u);

        /// <summary>u = (γ·(x − μ)/sd + β)·(1 + s) + t at element i.</summary>
        private double U(Tensor x, int i, Tensor gamma, Tensor beta, Tensor film, double[] mean, double[] sd)
        {
            int hw = x.H * x.W, c = i / hw % Channels, n = i / hw / Channels;
            double h = gamma.Data[c] * (x.Data[i] - mean[c]) / sd[c] + beta.Data[c];
            return h * (1 + film.Data[n * 2 * Channels + c]) + film.Data[n * 2 * Channels + Channels + c];
        }

        private static (double[], double[]) Running(Tensor runningMean, Tensor runningSd) =>
            (runningMean.Data.Select(v => (double)v).ToArray(), runningSd.Data.Select(v => (double)v).ToArray());

        private static IEnumerable<int> Indices(Tensor x, int c)
        {
            int hw = x.H * x.W;
            for (int n = 0; n < x.N; n++)
                for (int p = 0; p < hw; p++) yield return (n * x.C + c) * hw + p;
        }

        private static void Map(Tensor x, Tensor y, Func<int, double> f)
        {
            var values = new double[x.Length];
            for (int i = 0; i < x.Length; i++) values[i] = f(i);
            for (int i = 0; i < x.Length; i++) y.Data[i] = (float)values[i];
        }
    }

    /// <summary>Batch norm from its definition, in float64.</summary>
    private sealed class ReferenceBatchNorm(int channels, bool fusedRelu) : BatchNormKernels(channels, fusedRelu)
    {
        private double[] _mean = [], _sd = [];

        public override void TrainingForward(Tensor x, Tensor gamma, Tensor runningSd, Tensor y)
        {
            (_mean, _sd) = (new double[Channels], new double[Channels]);
            for (int c = 0; c < Channels; c++)
            {
                var values = Values(x, c).ToArray();
                double mean = values.Average();
                double variance = values.Sum(v => (v - mean) * (v - mean)) / values.Length;
                _mean[c] = mean;
                _sd[c] = Math.Sqrt(variance + Epsilon);
                runningSd.Data[c] = (float)((1 - Momentum) * runningSd.Data[c] + Momentum * _sd[c]);
            }
            Map(x, y, (c, v) => Activate(v * gamma.Data[c] / _sd[c]));
        }

        public override void EvaluationForward(Tensor x, Tensor gamma, Tensor runningSd, Tensor y) =>
            Map(x, y, (c, v) => Activate(v * gamma.Data[c] / runningSd.Data[c]));

        public override void Linearized(Tensor x, Tensor gamma, Tensor runningSd, Tensor? mask, Tensor y)
        {
            var scaled = new double[x.Length];
            int hw = x.H * x.W;
            for (int i = 0; i < x.Length; i++)
            {
                int c = i / hw % Channels;
                scaled[i] = x.Data[i] * (double)gamma.Data[c] / runningSd.Data[c] * (mask is null ? 1 : mask.Data[i % mask.Length]);
            }
            for (int i = 0; i < x.Length; i++) y.Data[i] = (float)scaled[i];
        }

        public override void TrainingBackward(Tensor dy, Tensor x, Tensor y, Tensor gamma, Tensor? gammaGradient, Tensor dx)
        {
            // y = γ(x − 0)/sd with sd² = E[(x − μ)²] + ε: dsd/dx_i = (x_i − μ)/(M·sd); dy/dx through sd.
            int hw = x.H * x.W, m = x.N * hw;
            var g = Gated(dy, y);
            var result = new double[x.Length];
            for (int c = 0; c < Channels; c++)
            {
                double a = 0;
                foreach (var i in Indices(x, c)) a += g[i] * x.Data[i];
                double sd = _sd[c];
                if (gammaGradient is not null) gammaGradient.Data[c] = (float)(a / sd);
                foreach (var i in Indices(x, c))
                    result[i] = gamma.Data[c] / sd * g[i] - gamma.Data[c] * a / (m * sd * sd * sd) * (x.Data[i] - _mean[c]);
            }
            for (int i = 0; i < dx.Length; i++) dx.Data[i] = (float)result[i];
        }

        public override void EvaluationBackward(Tensor dy, Tensor x, Tensor y, Tensor gamma, Tensor runningSd, Tensor? gammaGradient, Tensor dx)
        {
            var g = Gated(dy, y);
            if (gammaGradient is not null)
                for (int c = 0; c < Channels; c++)
                    gammaGradient.Data[c] = (float)(Indices(x, c).Sum(i => g[i] * x.Data[i]) / runningSd.Data[c]);
            int hw = x.H * x.W;
            for (int i = 0; i < dx.Length; i++)
            {
                int c = i / hw % Channels;
                dx.Data[i] = (float)(g[i] * gamma.Data[c] / runningSd.Data[c]);
            }
        }

        private double Activate(double v) => FusedRelu && v < 0 ? 0 : v;

        private double[] Gated(Tensor dy, Tensor y) =>
            Enumerable.Range(0, dy.Length).Select(i => !FusedRelu || y.Data[i] > 0 ? (double)dy.Data[i] : 0).ToArray();

        private static IEnumerable<int> Indices(Tensor x, int c)
        {
            int hw = x.H * x.W;
            for (int n = 0; n < x.N; n++)
                for (int p = 0; p < hw; p++) yield return (n * x.C + c) * hw + p;
        }

        private static IEnumerable<double> Values(Tensor x, int c) => Indices(x, c).Select(i => (double)x.Data[i]);

        private void Map(Tensor x, Tensor y, Func<int, double, double> f)
        {
            int hw = x.H * x.W;
            var values = new double[x.Length];
            for (int i = 0; i < x.Length; i++) values[i] = f(i / hw % Channels, x.Data[i]);
            for (int i = 0; i < x.Length; i++) y.Data[i] = (float)values[i];
        }
    }
}
