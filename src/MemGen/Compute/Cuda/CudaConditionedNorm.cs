using MemGen.Tensors;

namespace MemGen.Compute.Cuda;

/// <summary>
/// <see cref="ConditionedNormKernels"/> on a CUDA device: batch statistics by the deterministic two-level reduction of
/// <c>channel_moments</c>, per-(item, channel) coefficients A_nc, B_nc by one thread each, the fused pass
/// <c>affine_silu</c>, and the backward pass as one block per (item, channel) plane (<c>affine_silu_gradient</c>, the sums
/// the parameter gradients need) followed by per-channel scalars and one elementwise pass. Every scratch value stays on the device.
/// </summary>
internal sealed unsafe class CudaConditionedNorm : ConditionedNormKernels
{
    private readonly CudaBackend _backend;
    private readonly Tensor _mean, _sd, _runMean, _runSd; // float64 in pairs of floats: 2 per channel
    private readonly Tensor _k, _b; // float, one per channel
    private Tensor? _sum, _squares; // float64 partials, 2·C·parts floats each
    private Tensor? _scale, _shift, _perItem; // float [N, C]
    private Tensor? _sums, _dots; // float64 [N, C]
    private int _parts, _items;

    public CudaConditionedNorm(CudaBackend backend, int channels) : base(channels)
    {
        _backend = backend;
        (_mean, _sd, _runMean, _runSd) = (backend.Zeros(2 * channels), backend.Zeros(2 * channels), backend.Zeros(2 * channels), backend.Zeros(2 * channels));
        (_k, _b) = (backend.Zeros(channels), backend.Zeros(channels));
    }

    public override void TrainingForward(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor y)
    {
        int parts = Partials(x);
        var (px, psum, psq) = (P(x), P(_sum!), P(_squares!));
        int n = x.N, c = Channels, hw = x.H * x.W;
        void** a = stackalloc void*[7] { &px, &n, &c, &hw, &parts, &psum, &psq };
        _backend.Kernels.Launch("channel_moments", (uint)c, (uint)parts, a);
        double count = (double)x.N * x.H * x.W, epsilon = Epsilon;
        float momentum = (float)Momentum;
        var (prm, prs, pm, psd) = (P(runningMean), P(runningSd), P(_mean), P(_sd));
        void** b = stackalloc void*[11] { &psum, &psq, &c, &parts, &count, &prm, &prs, &momentum, &epsilon, &pm, &psd };
        _backend.Kernels.Launch("conditioned_norm_statistics", PerChannel(), 1, b);
        Coefficients(x.N, gamma, beta, film, _mean, _sd);
        AffineSilu("affine_silu", x, y);
    }

    public override void EvaluationForward(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor y)
    {
        Running(runningMean, runningSd);
        Coefficients(x.N, gamma, beta, film, _runMean, _runSd);
        AffineSilu("affine_silu", x, y);
    }

    public override void Backward(bool training, Tensor dy, Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd,
        Tensor? gammaGradient, Tensor? betaGradient, Tensor? filmGradient, Tensor dx)
    {
        var (mean, sd) = training ? (_mean, _sd) : (_runMean, _runSd);
        if (!training) Running(runningMean, runningSd);
        Coefficients(x.N, gamma, beta, film, mean, sd);
        int n = x.N, c = Channels, hw = x.H * x.W;
        var (pdy, px, ps, pt, pdx, psums, pdots) = (P(dy), P(x), P(_scale!), P(_shift!), P(dx), P(_sums!), P(_dots!));
        void** a = stackalloc void*[8] { &pdy, &px, &ps, &pt, &pdx, &hw, &psums, &pdots };
        _backend.Kernels.Launch("affine_silu_gradient", (uint)(n * c), 1, a); // dx holds g = dy·silu'(u) from here on
        double count = (double)n * hw;
        int train = training ? 1 : 0;
        var (pf, pg, pb, pm, psd, pp, pk, pbb) = (P(film), P(gamma), P(beta), P(mean), P(sd), P(_perItem!), P(_k), P(_b));
        IntPtr pdg = gammaGradient is null ? IntPtr.Zero : P(gammaGradient), pdb = betaGradient is null ? IntPtr.Zero : P(betaGradient);
        IntPtr pdf = filmGradient is null ? IntPtr.Zero : P(filmGradient);
        void** b = stackalloc void*[17] { &psums, &pdots, &pf, &pg, &pb, &pm, &psd, &n, &c, &count, &train, &pp, &pk, &pbb, &pdg, &pdb, &pdf };
        _backend.Kernels.Launch("conditioned_norm_gradients", PerChannel(), 1, b);
        long total = x.Length;
        void** d = stackalloc void*[9] { &pdx, &px, &pp, &pk, &pbb, &pdx, &total, &c, &hw };
        _backend.Kernels.Launch("affine_input_gradient", CudaKernels.Blocks(total), 1, d);
        GC.KeepAlive(gammaGradient);
        GC.KeepAlive(betaGradient);
        GC.KeepAlive(filmGradient);
    }

    public override void Derivative(Tensor x, Tensor gamma, Tensor beta, Tensor film, Tensor runningMean, Tensor runningSd, Tensor derivative)
    {
        Running(runningMean, runningSd);
        Coefficients(x.N, gamma, beta, film, _runMean, _runSd);
        AffineSilu("affine_silu_derivative", x, derivative);
    }

    /// <summary>The running statistics as float64 scratch.</summary>
    private void Running(Tensor runningMean, Tensor runningSd)
    {
        var (prm, prs, pm, psd) = (P(runningMean), P(runningSd), P(_runMean), P(_runSd));
        int c = Channels;
        void** a = stackalloc void*[5] { &prm, &prs, &c, &pm, &psd };
        _backend.Kernels.Launch("conditioned_norm_running", PerChannel(), 1, a);
    }

    private void Coefficients(int n, Tensor gamma, Tensor beta, Tensor film, Tensor mean, Tensor sd)
    {
        if (film.Rank != 2 || film.Shape[0] != n || film.Shape[1] != 2 * Channels)
            throw new ArgumentException($"Conditioned batch norm: FiLM coefficients must be [{n}, {2 * Channels}], got [{film.ShapeString}].");
        if (n > _items)
        {
            (_scale, _shift, _perItem) = (_backend.Zeros(n * Channels), _backend.Zeros(n * Channels), _backend.Zeros(n * Channels));
            (_sums, _dots) = (_backend.Zeros(2 * n * Channels), _backend.Zeros(2 * n * Channels));
            _items = n;
        }
        var (pg, pb, pf, pm, psd, ps, pt) = (P(gamma), P(beta), P(film), P(mean), P(sd), P(_scale!), P(_shift!));
        int c = Channels;
        void** a = stackalloc void*[9] { &pg, &pb, &pf, &pm, &psd, &n, &c, &ps, &pt };
        _backend.Kernels.Launch("conditioned_norm_coefficients", (uint)((n * c + CudaKernels.Threads - 1) / CudaKernels.Threads), 1, a);
    }

    private void AffineSilu(string kernel, Tensor x, Tensor y)
    {
        var (px, ps, pt, py) = (P(x), P(_scale!), P(_shift!), P(y));
        long total = x.Length;
        int hw = x.H * x.W;
        void** a = stackalloc void*[6] { &px, &ps, &pt, &py, &total, &hw };
        _backend.Kernels.Launch(kernel, CudaKernels.Blocks(total), 1, a);
    }

    /// <summary>Parts per channel for a reduction over x (about 2,048 values per block), with scratch to match.</summary>
    private int Partials(Tensor x)
    {
        if (x.Rank != 4 || x.Layout != TensorLayout.Nchw) throw new ArgumentException($"CUDA conditioned batch norm: plain [N,C,H,W] expected, got [{x.ShapeString}] {x.Layout}.");
        long m = (long)x.N * x.H * x.W;
        int parts = (int)Math.Clamp((m + 2047) / 2048, 1, 1024);
        if (parts > _parts)
        {
            _sum = _backend.Zeros(2 * Channels * parts);
            _squares = _backend.Zeros(2 * Channels * parts);
            _parts = parts;
        }
        return parts;
    }

    private uint PerChannel() => (uint)((Channels + CudaKernels.Threads - 1) / CudaKernels.Threads);

    private IntPtr P(Tensor t) => _backend.DevicePointer(t, "conditioned batch-norm operand");
}
