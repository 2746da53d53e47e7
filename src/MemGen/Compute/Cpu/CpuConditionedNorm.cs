using MemGen.Tensors;

namespace MemGen.Compute.Cpu;

/// <summary>
/// <see cref="ConditionedNormKernels"/> on host memory: per-channel statistics in float64 from <see cref="ChannelKernels.Moments"/>,
/// the per-(item, channel) coefficients A_nc, B_nc folded on the host, and the elementwise passes as the SIMD
/// <see cref="ConditioningKernels"/> (one pass forward, two backward, as the bias-free batch norm).
/// </summary>
internal sealed class CpuConditionedNorm(int channels) : ConditionedNormKernels(channels)
{
    private readonly double[] _sum = new double[channels], _sumSquares = new double[channels];
    private readonly double[] _mean = new double[channels], _sd = new double[channels];
    private readonly float[] _k = new float[channels], _b = new float[channels];
    private float[] _scale = [], _shift = [], _perItem = [];
    private double[] _sums = [], _dots = [];

    public override void TrainingForward(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor y)
    {
        ChannelKernels.Moments(x, _sum, _sumSquares);
        double count = (double)x.N * x.H * x.W;
        var (rm, rsd) = (runningMean.Data, runningSd.Data);
        for (int c = 0; c < Channels; c++)
        {
            double mean = _sum[c] / count;
            double variance = Math.Max(_sumSquares[c] / count - mean * mean, 0);
            _mean[c] = mean;
            _sd[c] = Math.Sqrt(variance + Epsilon);
            rm[c] = (float)((1 - Momentum) * rm[c] + Momentum * mean);
            rsd[c] = (float)((1 - Momentum) * rsd[c] + Momentum * _sd[c]);
        }
        Coefficients(x.N, gamma, beta, film, _mean, _sd);
        ConditioningKernels.AffineSilu(x, _scale, _shift, y);
    }

    public override void EvaluationForward(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor y)
    {
        var (mean, sd) = Running(runningMean, runningSd);
        Coefficients(x.N, gamma, beta, film, mean, sd);
        ConditioningKernels.AffineSilu(x, _scale, _shift, y);
    }

    public override void Backward(bool training, Tensor dy, Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd,
        Tensor? gammaGradient, Tensor? betaGradient, Tensor? filmGradient, Tensor dx)
    {
        int n = x.N, channels = Channels;
        var (mean, sd) = training ? (_mean, _sd) : Running(runningMean, runningSd);
        Coefficients(n, gamma, beta, film, mean, sd);
        if (_sums.Length < n * channels) (_sums, _dots) = (new double[n * channels], new double[n * channels]);
        ConditioningKernels.AffineSiluGradient(dy, x, _scale, _shift, dx, _sums, _dots); // dx holds g = dy·silu'(u) from here on
        var (g, b, f) = (gamma.Data, beta.Data, film.Data);
        var dg = gammaGradient?.Data;
        var db = betaGradient?.Data;
        var df = filmGradient?.Data;
        double m = (double)n * x.H * x.W;
        for (int c = 0; c < channels; c++)
        {
            double p = 0, q = 0;
            for (int i = 0; i < n; i++)
            {
                int at = i * channels + c;
                double film1 = 1 + (double)f[i * 2 * channels + c];
                p += film1 * _sums[at];
                q += film1 * (_dots[at] - mean[c] * _sums[at]);
                _perItem[at] = (float)(g[c] * film1 / sd[c]);
                if (df is not null)
                {
                    df[i * 2 * channels + c] = (float)(g[c] / sd[c] * (_dots[at] - mean[c] * _sums[at]) + b[c] * _sums[at]);
                    df[i * 2 * channels + channels + c] = (float)_sums[at];
                }
            }
            q /= sd[c];
            if (dg is not null) dg[c] = (float)q;
            if (db is not null) db[c] = (float)p;
            double k = training ? g[c] * q / (m * sd[c] * sd[c]) : 0;
            _k[c] = (float)k;
            _b[c] = training ? (float)(k * mean[c] - g[c] * p / (m * sd[c])) : 0f;
        }
        ConditioningKernels.AffineInputGradient(dx, x, _perItem, _k, _b, dx);
    }

    public override void Derivative(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor derivative)
    {
        var (mean, sd) = Running(runningMean, runningSd);
        Coefficients(x.N, gamma, beta, film, mean, sd);
        ConditioningKernels.AffineSiluDerivative(x, _scale, _shift, derivative);
    }

    private static (double[] Mean, double[] Sd) Running(Tensor runningMean, Tensor runningSd) =>
        (Array.ConvertAll(runningMean.Data, v => (double)v), Array.ConvertAll(runningSd.Data, v => (double)v));

    /// <summary>A_nc = γ_c(1 + s_nc)/sd_c and B_nc = (β_c − γ_c·μ_c/sd_c)(1 + s_nc) + t_nc, [N, C].</summary>
    private void Coefficients(int n, Tensor gamma, Tensor beta, Tensor film, double[] mean, double[] sd)
    {
        int channels = Channels;
        if (film.Rank != 2 || film.Shape[0] != n || film.Shape[1] != 2 * channels)
            throw new ArgumentException($"Conditioned batch norm: FiLM coefficients must be [{n}, {2 * channels}], got [{film.ShapeString}].");
        if (_scale.Length < n * channels) (_scale, _shift, _perItem) = (new float[n * channels], new float[n * channels], new float[n * channels]);
        var (g, b, f) = (gamma.Data, beta.Data, film.Data);
        for (int i = 0; i < n; i++)
            for (int c = 0; c < channels; c++)
            {
                double film1 = 1 + (double)f[i * 2 * channels + c], shift = f[i * 2 * channels + channels + c];
                double a = g[c] / sd[c];
                _scale[i * channels + c] = (float)(a * film1);
                _shift[i * channels + c] = (float)((b[c] - a * mean[c]) * film1 + shift);
            }
    }
}
