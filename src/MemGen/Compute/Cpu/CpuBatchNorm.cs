using MemGen.Tensors;

namespace MemGen.Compute.Cpu;

/// <summary>
/// <see cref="BatchNormKernels"/> on host memory: per-channel statistics in float64 from the SIMD
/// <see cref="ChannelKernels"/>, per-channel scalars in float arrays padded to whole 16-lane blocks for the blocked layout.
/// </summary>
internal sealed class CpuBatchNorm : BatchNormKernels
{
    private readonly double[] _sum, _sumSquares, _dots;
    private readonly float[] _scale, _evalScale, _sd, _k, _b;

    public CpuBatchNorm(int channels, bool fusedRelu) : base(channels, fusedRelu)
    {
        int padded = (channels + BlockedLayout.BlockSize - 1) / BlockedLayout.BlockSize * BlockedLayout.BlockSize;
        (_sum, _sumSquares, _dots) = (new double[channels], new double[channels], new double[channels]);
        (_scale, _evalScale, _sd, _k, _b) = (new float[padded], new float[padded], new float[padded], new float[padded], new float[padded]);
    }

    public override void TrainingForward(Tensor x, Tensor gamma, Tensor runningSd, Tensor y)
    {
        var g = gamma.Span;
        var running = runningSd.Span;
        ChannelKernels.Moments(x, _sum, _sumSquares);
        double count = (double)x.N * x.H * x.W;
        for (int c = 0; c < Channels; c++)
        {
            double mean = _sum[c] / count;
            double variance = Math.Max(_sumSquares[c] / count - mean * mean, 0);
            double sd = Math.Sqrt(variance + Epsilon);
            _sd[c] = (float)sd;
            _sum[c] = mean;
            _scale[c] = (float)(g[c] / sd);
            running[c] = (float)((1 - Momentum) * running[c] + Momentum * sd);
        }
        ChannelKernels.Scale(x, _scale, y, FusedRelu);
    }

    public override void EvaluationForward(Tensor x, Tensor gamma, Tensor runningSd, Tensor y)
    {
        EvaluationScale(gamma, runningSd, _scale);
        ChannelKernels.Scale(x, _scale, y, FusedRelu);
    }

    public override void Linearized(Tensor x, Tensor gamma, Tensor runningSd, Tensor? mask, Tensor y)
    {
        EvaluationScale(gamma, runningSd, _evalScale);
        ChannelKernels.ScaleGated(x, _evalScale, mask, gateIsMask: true, y);
    }

    public override void TrainingBackward(Tensor dy, Tensor x, Tensor y, Tensor gamma, Tensor? gammaGradient, Tensor dx)
    {
        var gate = FusedRelu ? y : null;
        var g = gamma.Span;
        ChannelKernels.GatedDots(dy, gate, x, _dots);
        double count = (double)dy.N * dy.H * dy.W;
        var dGamma = gammaGradient is null ? default : gammaGradient.Span;
        for (int c = 0; c < Channels; c++)
        {
            double sd = _sd[c], a = _dots[c];
            double k = g[c] * a / (count * sd * sd * sd);
            _k[c] = (float)k;
            _b[c] = (float)(k * _sum[c]);
            if (gammaGradient is not null) dGamma[c] = (float)(a / sd);
        }
        ChannelKernels.BatchNormInputGradient(dy, gate, x, _scale, _k, _b, dx);
    }

    public override void EvaluationBackward(Tensor dy, Tensor x, Tensor y, Tensor gamma, Tensor runningSd, Tensor? gammaGradient, Tensor dx)
    {
        var gate = FusedRelu ? y : null;
        if (gammaGradient is not null)
        {
            var running = runningSd.Span;
            var dGamma = gammaGradient.Span;
            ChannelKernels.GatedDots(dy, gate, x, _dots);
            for (int c = 0; c < Channels; c++) dGamma[c] = (float)(_dots[c] / running[c]);
        }
        ChannelKernels.ScaleGated(dy, _scale, gate, gateIsMask: false, dx);
    }

    private void EvaluationScale(Tensor gamma, Tensor runningSd, float[] scale)
    {
        var g = gamma.Span;
        var running = runningSd.Span;
        for (int c = 0; c < Channels; c++) scale[c] = g[c] / running[c];
    }
}
