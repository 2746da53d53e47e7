using MemGen.Compute.Cpu;
using MemGen.Tensors;

namespace MemGen.Compute;

/// <summary>
/// The compute engine behind every layer: it owns tensor storage (host or device memory) and every kernel the
/// networks, the training step, the samplers and the Jacobian analysis run: convolutions, bias-free batch norm,
/// ReLU, pooling, concatenation, the loss, Adam, reductions, GEMM and the dense linear algebra of the analyses.
/// One is chosen at the command line (<c>--device</c>, <see cref="ComputeDevice"/>) and passed down; nothing outside
/// a backend calls BLAS, LAPACK, oneDNN or CUDA. Implementations: <see cref="CpuBackend"/> (oneDNN and SIMD loops
/// on host memory) and <see cref="Cuda.CudaBackend"/> (cuDNN, cuBLAS and NVRTC-compiled kernels on device memory).
/// </summary>
/// <remarks>
/// Every tensor argument of a kernel must live in this backend's memory (<see cref="Holds"/>); copies between host
/// and device happen only at the edges, through <see cref="Tensor.CopyFrom(ReadOnlySpan{float})"/> and
/// <see cref="Tensor.CopyTo(Span{float})"/> (loading a batch, saving a checkpoint, writing samples). Kernels run in
/// the order they are called; a method that returns a host value (a loss, a norm) waits for the work before it.
/// Instances are not thread-safe: one caller thread at a time.
/// </remarks>
public abstract class ComputeBackend : IDisposable
{
    private static readonly Lazy<CpuBackend> s_host = new(() => new CpuBackend());

    /// <summary>
    /// The process-wide CPU backend for work on host memory that no device choice concerns: closed-form denoisers,
    /// nearest-neighbour search and the float64 linear algebra of the analyses. Never dispose it.
    /// </summary>
    public static ComputeBackend Host => s_host.Value;

    /// <summary>Short name: "cpu" or "cuda:N".</summary>
    public abstract string Name { get; }

    /// <summary>What runs the kernels, e.g. "CPU, oneDNN 2.6.3, 2 threads" or "NVIDIA H100 80GB HBM3, cuDNN 9.1".</summary>
    public abstract string Description { get; }

    /// <summary>Arithmetic of the convolutions and matrix products.</summary>
    public abstract ComputePrecision Precision { get; }

    /// <summary>Dense linear algebra on host matrices (GEMM, symmetric eigendecomposition, SVD) for the analyses.</summary>
    public abstract LinearAlgebra LinearAlgebra { get; }

    /// <summary>True when <paramref name="tensor"/> lives in memory this backend's kernels work on.</summary>
    public abstract bool Holds(Tensor tensor);

    /// <summary>A zero-filled plain tensor of <paramref name="shape"/> in this backend's memory.</summary>
    public Tensor Zeros(params int[] shape) => Allocate(shape, TensorLayout.Nchw);

    /// <summary>A zero-filled rank-4 tensor of logical shape (n,c,h,w) in <paramref name="layout"/>, in this backend's memory.</summary>
    public Tensor Zeros(int n, int c, int h, int w, TensorLayout layout) => Allocate([n, c, h, w], layout);

    /// <summary>A copy of <paramref name="source"/> (any memory, plain layout) in this backend's memory.</summary>
    public Tensor ToBackend(Tensor source)
    {
        ArgumentNullException.ThrowIfNull(source);
        var t = Allocate(source.Shape.ToArray(), source.Layout);
        source.Storage.CopyTo(t.Storage);
        return t;
    }

    /// <summary>Allocates zero-filled storage; <paramref name="layout"/> other than NCHW needs a rank-4 shape this backend supports.</summary>
    protected abstract Tensor Allocate(int[] shape, TensorLayout layout);

    /// <summary>The layout the networks' hidden activations of <paramref name="channels"/> channels use on this backend.</summary>
    public abstract TensorLayout ActivationLayout(int channels);

    // ---- convolutions and per-layer kernels ----

    /// <summary>The convolution primitive of <paramref name="shape"/> (built on first request, owned and cached by the backend).</summary>
    public abstract IConvolution Convolution(ConvolutionShape shape);

    /// <summary>Kernels of one bias-free batch-norm layer of <paramref name="channels"/> channels (they keep its per-channel scratch).</summary>
    public abstract BatchNormKernels BatchNorm(int channels, bool fusedRelu);

    // ---- elementwise and channel kernels (all operands share one shape and layout unless stated) ----

    /// <summary>y = max(0, x).</summary>
    public abstract void Relu(Tensor x, Tensor y);

    /// <summary>dx = dy·[y &gt; 0] (ReLU backward from its output); dx may be dy.</summary>
    public abstract void ReluBackward(Tensor dy, Tensor y, Tensor dx);

    /// <summary>y = x·mask, where mask holds one item (broadcast over the batch) or as many items as x; y may be x.</summary>
    public abstract void Mask(Tensor x, Tensor mask, Tensor y);

    /// <summary>mask = [x &gt; 0] as 0/1 floats.</summary>
    public abstract void PositiveMask(Tensor x, Tensor mask);

    /// <summary>2×2 average pooling, stride 2: y[h,w] = ¼·Σ x[2h+i, 2w+j] (y is [N,C,H/2,W/2]).</summary>
    public abstract void AveragePool(Tensor x, Tensor y);

    /// <summary>Its backward pass: dx[2h+i, 2w+j] = ¼·dy[h,w].</summary>
    public abstract void AveragePoolBackward(Tensor dy, Tensor dx);

    /// <summary>y = cat([a, b], dim = 1).</summary>
    public abstract void Concat(Tensor a, Tensor b, Tensor y);

    /// <summary>The inverse of <see cref="Concat"/>: a and b receive the first and the last channels of y.</summary>
    public abstract void Split(Tensor y, Tensor a, Tensor b);

    /// <summary>y = a + b (elementwise, any layout); y may be a or b.</summary>
    public abstract void Add(Tensor a, Tensor b, Tensor y);

    /// <summary>y = a − b (elementwise, any layout); y may be a or b.</summary>
    public abstract void Subtract(Tensor a, Tensor b, Tensor y);

    /// <summary>Copies <paramref name="count"/> elements from source[sourceOffset..] to destination[destinationOffset..] (physical order).</summary>
    public abstract void Copy(Tensor source, int sourceOffset, Tensor destination, int destinationOffset, int count);

    /// <summary>Sets <paramref name="count"/> elements from <paramref name="offset"/> to zero.</summary>
    public abstract void Clear(Tensor tensor, int offset, int count);

    /// <summary>Sets every element to zero.</summary>
    public void Clear(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Clear(tensor, 0, tensor.Length);
    }

    // ---- noise-conditioned networks (biases, SiLU, per-item coefficients; docs/science.md §9.3) ----

    /// <summary>
    /// y = x + bias_c: a per-channel bias added to a [N, C] or [N, C, H, W] tensor (any layout; bias is a plain [C] tensor).
    /// y may be x.
    /// </summary>
    public abstract void AddChannelBias(Tensor x, Tensor bias, Tensor y);

    /// <summary>
    /// sums_c = Σ over items and pixels of x (the gradient of a per-channel bias), overwritten; x is [N, C] or
    /// [N, C, H, W] in any layout, sums a plain [C] tensor. Partial sums are added in float64 in a fixed order.
    /// </summary>
    public abstract void ChannelSums(Tensor x, Tensor sums);

    /// <summary>SiLU, y = x·sigmoid(x) (any shape and layout).</summary>
    public abstract void Silu(Tensor x, Tensor y);

    /// <summary>Its backward pass from the input: dx = dy·silu'(x), silu'(x) = s·(1 + x·(1 − s)) with s = sigmoid(x); dx may be dy.</summary>
    public abstract void SiluBackward(Tensor dy, Tensor x, Tensor dx);

    /// <summary>derivative = silu'(x), the diagonal of the layer's Jacobian at x (frozen for linearized passes).</summary>
    public abstract void SiluDerivative(Tensor x, Tensor derivative);

    /// <summary>
    /// y[n] = alpha[n]·a[n] + beta[n]·b[n] for every item n of plain [N, ...] tensors, with per-item coefficients in plain
    /// [N] tensors; without <paramref name="b"/> (and <paramref name="beta"/>) y[n] = alpha[n]·a[n]. y may be a or b.
    /// (The preconditioning of a noise-conditioned network: c_in(σ)·y in, c_skip(σ)·y + c_out(σ)·F out.)
    /// </summary>
    public abstract void CombineItems(Tensor a, Tensor alpha, Tensor? b, Tensor? beta, Tensor y);

    /// <summary>
    /// Σ_n w_n·Σ (p − t)² over the items of plain [B, ...] tensors (each item summed in float64, then the items in order)
    /// and gradient = <paramref name="gradientScale"/>·w_n·(p − t); <paramref name="weights"/> is a plain [B] tensor.
    /// </summary>
    public abstract double WeightedSquaredError(Tensor prediction, Tensor target, Tensor weights, float gradientScale, Tensor gradient);

    /// <summary>
    /// Kernels of one conditioned batch-norm layer of <paramref name="channels"/> channels (batch norm with affine γ, β, a
    /// per-item FiLM scale and shift, and SiLU, fused; they keep its per-channel scratch).
    /// </summary>
    public abstract ConditionedNormKernels ConditionedNorm(int channels);

    // ---- training ----

    /// <summary>
    /// Σ (p − t)² over all elements (summed per batch item in float64, then over items in order) and
    /// gradient = <paramref name="gradientScale"/>·(p − t). Plain [B, ...] tensors.
    /// </summary>
    public abstract double SquaredError(Tensor prediction, Tensor target, float gradientScale, Tensor gradient);

    /// <summary>One Adam update of a parameter (PyTorch's semantics; see <see cref="AdamCoefficients"/>).</summary>
    public abstract void AdamUpdate(Tensor weights, Tensor gradient, Tensor firstMoment, Tensor secondMoment, AdamCoefficients coefficients);

    /// <summary>Σ over the tensors of Σ x² (float64 across tensors): the squared gradient norm.</summary>
    public abstract double SumOfSquares(IReadOnlyList<Tensor> tensors);

    /// <summary>
    /// C = alpha·op(A)·op(B) + beta·C on tensors of this backend, row-major: op(A) m×k, op(B) k×n, C m×n
    /// (the leading dimension of each is its stored row length).
    /// </summary>
    public abstract void Gemm(bool transposeA, bool transposeB, int m, int n, int k, float alpha, Tensor a, Tensor b, float beta, Tensor c);

    // ---- sampling ----

    /// <summary>norms[i] = ‖row i of x‖₂ for the first norms.Length rows of x (rows = items of a [B, ...] tensor).</summary>
    public abstract void RowNorms(Tensor x, Span<double> norms);

    /// <summary>
    /// The Algorithm 1 update of selected rows: y[rows[j]] ← y[rows[j]] − stepSizes[j]·direction[rows[j]] + noiseScales[j]·noise[j],
    /// where <paramref name="noise"/> holds one row per selected row, in order (drawn on the host, so a seed means the
    /// same noise on every backend).
    /// </summary>
    public abstract void Algorithm1Step(Tensor y, Tensor direction, Tensor noise, ReadOnlySpan<int> rows,
        ReadOnlySpan<float> stepSizes, ReadOnlySpan<float> noiseScales);

    /// <summary>Waits until every kernel queued so far has finished (for timings; a no-op where kernels run synchronously).</summary>
    public virtual void Synchronize()
    {
    }

    /// <summary>Releases what the backend created (primitives, handles, workspaces).</summary>
    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Releases native resources.</summary>
    protected virtual void Dispose(bool disposing)
    {
    }

    /// <inheritdoc />
    public override string ToString() => Name;

    /// <summary>Throws unless every tensor lives in this backend's memory (names the backend and the tensor).</summary>
    protected void RequireHeld(Tensor tensor, string what)
    {
        ArgumentNullException.ThrowIfNull(tensor, what);
        if (!Holds(tensor))
            throw new ArgumentException($"{Name}: {what} Tensor[{tensor.ShapeString}] lives in {tensor.Storage.Location} memory, not this backend's; copy it over first.", what);
    }

    /// <summary>Throws unless the two tensors have the same shape and layout.</summary>
    protected static void RequireSameShape(Tensor a, Tensor b, string what) => a.RequireSameShape(b, what);
}

/// <summary>Arithmetic of a backend's convolutions and matrix products.</summary>
public enum ComputePrecision
{
    /// <summary>IEEE float32 throughout.</summary>
    Float32,

    /// <summary>Convolutions and matrix products on TF32 tensor cores (10-bit mantissa inputs, float32 accumulation); everything else float32.</summary>
    Tf32,
}

/// <summary>
/// The scalars of one Adam step (PyTorch's semantics, no weight decay): m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g²,
/// w ← w − StepSize·m / (√v / RootCorrection2 + ε), with StepSize = lr / (1 − β1^t) and RootCorrection2 = √(1 − β2^t).
/// </summary>
/// <param name="Beta1">β1.</param>
/// <param name="Beta2">β2.</param>
/// <param name="StepSize">lr / (1 − β1^t).</param>
/// <param name="RootCorrection2">√(1 − β2^t).</param>
/// <param name="Epsilon">ε.</param>
public readonly record struct AdamCoefficients(float Beta1, float Beta2, float StepSize, float RootCorrection2, float Epsilon);
