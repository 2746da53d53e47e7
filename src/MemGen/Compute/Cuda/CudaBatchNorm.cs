using MemGen.Tensors;

namespace MemGen.Compute.Cuda;

/// <summary>
/// <see cref="BatchNormKernels"/> on a CUDA device: per-channel sums in float64 by deterministic two-level reductions
/// (<c>channel_moments</c>, <c>channel_gated_dots</c>), per-channel scalars by one thread per channel, elementwise
/// passes fused with the ReLU and its gate. Every per-channel scratch value stays on the device.
/// </summary>
internal sealed unsafe class CudaBatchNorm : BatchNormKernels
{
    private readonly CudaBackend _backend;
    private readonly Tensor _scale, _evalScale, _k, _b; // float, one per channel
    private readonly Tensor _mean, _sd; // float64 stored in pairs of floats: 2 per channel
    private Tensor? _sum, _squares; // float64 partials, 2·C·parts floats each
    private int _parts;

    public CudaBatchNorm(CudaBackend backend, int channels, bool fusedRelu) : base(channels, fusedRelu)
    {
        _backend = backend;
        (_scale, _evalScale, _k, _b) = (backend.Zeros(channels), backend.Zeros(channels), backend.Zeros(channels), backend.Zeros(channels));
        (_mean, _sd) = (backend.Zeros(2 * channels), backend.Zeros(2 * channels));
    }

    public override void TrainingForward(Tensor x, Tensor gamma, Tensor runningSd, Tensor y)
    {
        int parts = Partials(x);
        var (px, psum, psq) = (P(x), P(_sum!), P(_squares!));
        int n = x.N, c = Channels, hw = x.H * x.W;
        void** a = stackalloc void*[7] { &px, &n, &c, &hw, &parts, &psum, &psq };
        _backend.Kernels.Launch("channel_moments", (uint)c, (uint)parts, a);
        double count = (double)x.N * x.H * x.W, epsilon = Epsilon;
        float momentum = (float)Momentum;
        var (pg, pr, pm, psd, ps) = (P(gamma), P(runningSd), P(_mean), P(_sd), P(_scale));
        void** b = stackalloc void*[12] { &psum, &psq, &c, &parts, &count, &pg, &pr, &momentum, &epsilon, &pm, &psd, &ps };
        _backend.Kernels.Launch("batchnorm_statistics", PerChannel(), 1, b);
        Scale(x, _scale, y, FusedRelu);
        GC.KeepAlive(gamma);
        GC.KeepAlive(runningSd);
    }

    public override void EvaluationForward(Tensor x, Tensor gamma, Tensor runningSd, Tensor y)
    {
        EvaluationScale(gamma, runningSd, _scale);
        Scale(x, _scale, y, FusedRelu);
    }

    public override void Linearized(Tensor x, Tensor gamma, Tensor runningSd, Tensor? mask, Tensor y)
    {
        EvaluationScale(gamma, runningSd, _evalScale);
        var (px, ps, pmask, py) = (P(x), P(_evalScale), mask is null ? IntPtr.Zero : P(mask), P(y));
        long total = x.Length, maskLength = mask?.Length ?? 1;
        int c = Channels, hw = x.H * x.W;
        void** a = stackalloc void*[8] { &px, &ps, &pmask, &maskLength, &py, &total, &c, &hw };
        _backend.Kernels.Launch("channel_scale_masked", CudaKernels.Blocks(total), 1, a);
        GC.KeepAlive(mask);
    }

    public override void TrainingBackward(Tensor dy, Tensor x, Tensor y, Tensor gamma, Tensor? gammaGradient, Tensor dx)
    {
        int parts = GatedDots(dy, x, y);
        double count = (double)dy.N * dy.H * dy.W;
        int c = Channels;
        var (pdots, pg, pm, psd, pk, pb, pdg) = (P(_sum!), P(gamma), P(_mean), P(_sd), P(_k), P(_b), gammaGradient is null ? IntPtr.Zero : P(gammaGradient));
        void** a = stackalloc void*[10] { &pdots, &c, &parts, &count, &pg, &pm, &psd, &pk, &pb, &pdg };
        _backend.Kernels.Launch("batchnorm_training_gradients", PerChannel(), 1, a);
        var (pdy, pgate, px, ps, pdx) = (P(dy), FusedRelu ? P(y) : IntPtr.Zero, P(x), P(_scale), P(dx));
        long total = dy.Length;
        int hw = dy.H * dy.W;
        void** b = stackalloc void*[10] { &pdy, &pgate, &px, &ps, &pk, &pb, &pdx, &total, &c, &hw };
        _backend.Kernels.Launch("batchnorm_input_gradient", CudaKernels.Blocks(total), 1, b);
        GC.KeepAlive(gammaGradient);
    }

    public override void EvaluationBackward(Tensor dy, Tensor x, Tensor y, Tensor gamma, Tensor runningSd, Tensor? gammaGradient, Tensor dx)
    {
        int c = Channels;
        if (gammaGradient is not null)
        {
            int parts = GatedDots(dy, x, y);
            var (pdots, pr, pdg) = (P(_sum!), P(runningSd), P(gammaGradient));
            void** a = stackalloc void*[5] { &pdots, &c, &parts, &pr, &pdg };
            _backend.Kernels.Launch("batchnorm_evaluation_gradients", PerChannel(), 1, a);
        }
        if (FusedRelu)
        {
            var (pdy, ps, pgate, pdx) = (P(dy), P(_scale), P(y), P(dx));
            long total = dy.Length;
            int hw = dy.H * dy.W;
            void** b = stackalloc void*[7] { &pdy, &ps, &pgate, &pdx, &total, &c, &hw };
            _backend.Kernels.Launch("channel_scale_gated", CudaKernels.Blocks(total), 1, b);
        }
        else
        {
            Scale(dy, _scale, dx, relu: false);
        }
    }

    private void Scale(Tensor x, Tensor scale, Tensor y, bool relu)
    {
        var (px, ps, py) = (P(x), P(scale), P(y));
        long total = x.Length;
        int c = Channels, hw = x.H * x.W, r = relu ? 1 : 0;
        void** a = stackalloc void*[7] { &px, &ps, &py, &total, &c, &hw, &r };
        _backend.Kernels.Launch("channel_scale", CudaKernels.Blocks(total), 1, a);
    }

    private void EvaluationScale(Tensor gamma, Tensor runningSd, Tensor scale)
    {
        var (pg, pr, ps) = (P(gamma), P(runningSd), P(scale));
        int c = Channels;
        void** a = stackalloc void*[4] { &pg, &pr, &c, &ps };
        _backend.Kernels.Launch("batchnorm_evaluation_scale", PerChannel(), 1, a);
    }

    /// <summary>Partial Σ g·x per channel into the first scratch buffer; returns the number of parts.</summary>
    private int GatedDots(Tensor dy, Tensor x, Tensor y)
    {
        int parts = Partials(x);
        var (pdy, pgate, px, pdots) = (P(dy), FusedRelu ? P(y) : IntPtr.Zero, P(x), P(_sum!));
        int n = x.N, c = Channels, hw = x.H * x.W;
        void** a = stackalloc void*[8] { &pdy, &pgate, &px, &n, &c, &hw, &parts, &pdots };
        _backend.Kernels.Launch("channel_gated_dots", (uint)c, (uint)parts, a);
        return parts;
    }

    /// <summary>Parts per channel for a reduction over x (about 2,048 values per block), with scratch to match.</summary>
    private int Partials(Tensor x)
    {
        if (x.Rank != 4 || x.Layout != TensorLayout.Nchw) throw new ArgumentException($"CUDA batch norm: plain [N,C,H,W] expected, got [{x.ShapeString}] {x.Layout}.");
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

    private IntPtr P(Tensor t) => _backend.DevicePointer(t, "batch-norm operand");
}
