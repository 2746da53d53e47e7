// MemGen's own CUDA kernels: everything of a training step, a sampler step and a Jacobian product that is not a
// convolution (cuDNN) or a matrix product (cuBLAS). Compiled at first use with NVRTC for the device's architecture
// (see CudaKernels.cs) and launched through the driver API, on the legacy default stream.
//
// Layout: plain NCHW. A per-channel kernel sees element i of a tensor of C channels and H·W pixels as channel
// (i / hw) % C. Reductions are deterministic: each block writes its partial sum (float64) to its own slot, and a
// second kernel (or the host) adds the slots in a fixed order, so a seed gives the same numbers on every run.

#define THREADS 256

__device__ __forceinline__ double block_sum(double v, double* shared)
{
    int t = threadIdx.x;
    shared[t] = v;
    __syncthreads();
    for (int s = blockDim.x / 2; s > 0; s >>= 1)
    {
        if (t < s) shared[t] += shared[t + s];
        __syncthreads();
    }
    double r = shared[0];
    __syncthreads();
    return r;
}

// ---- per-channel partial sums: grid (C, P), block THREADS; channel c's M = n·hw values split into P parts ----

// sum[c·P + p] = Σ x, squares[c·P + p] = Σ x² over part p of channel c.
extern "C" __global__ void channel_moments(const float* x, int n, int channels, int hw, int parts, double* sum, double* squares)
{
    __shared__ double shared[THREADS];
    int c = blockIdx.x, p = blockIdx.y;
    long long m = (long long)n * hw;
    long long chunk = (m + parts - 1) / parts;
    long long begin = p * chunk, end = min(m, begin + chunk);
    double s = 0, q = 0;
    for (long long k = begin + threadIdx.x; k < end; k += blockDim.x)
    {
        long long item = k / hw, pixel = k % hw;
        double v = x[(item * channels + c) * hw + pixel];
        s += v;
        q += v * v;
    }
    s = block_sum(s, shared);
    q = block_sum(q, shared);
    if (threadIdx.x == 0)
    {
        sum[c * parts + p] = s;
        squares[c * parts + p] = q;
    }
}

// dots[c·P + p] = Σ g·x over part p of channel c, g = dy·[gate > 0] (or dy when gate is null).
extern "C" __global__ void channel_gated_dots(const float* dy, const float* gate, const float* x, int n, int channels, int hw, int parts, double* dots)
{
    __shared__ double shared[THREADS];
    int c = blockIdx.x, p = blockIdx.y;
    long long m = (long long)n * hw;
    long long chunk = (m + parts - 1) / parts;
    long long begin = p * chunk, end = min(m, begin + chunk);
    double s = 0;
    for (long long k = begin + threadIdx.x; k < end; k += blockDim.x)
    {
        long long item = k / hw, pixel = k % hw;
        long long i = (item * channels + c) * hw + pixel;
        float g = (gate == 0 || gate[i] > 0.0f) ? dy[i] : 0.0f;
        s += (double)g * x[i];
    }
    s = block_sum(s, shared);
    if (threadIdx.x == 0) dots[c * parts + p] = s;
}

// ---- per-channel scalars: one thread per channel ----

// Training forward: mean, sd = sqrt(max(E[x²] − mean², 0) + eps), scale = γ/sd, running ← (1 − m)·running + m·sd.
extern "C" __global__ void batchnorm_statistics(const double* sum, const double* squares, int channels, int parts, double count,
    const float* gamma, float* running, float momentum, double epsilon, double* mean, double* sd, float* scale)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    double s = 0, q = 0;
    for (int p = 0; p < parts; p++)
    {
        s += sum[c * parts + p];
        q += squares[c * parts + p];
    }
    double mu = s / count;
    double variance = fmax(q / count - mu * mu, 0.0);
    double d = sqrt(variance + epsilon);
    mean[c] = mu;
    sd[c] = (float)d; // rounded as the CPU backend rounds it
    scale[c] = (float)(gamma[c] / d);
    running[c] = (float)((1.0 - momentum) * running[c] + momentum * d);
}

// Evaluation and linearized passes: scale = γ/running_sd.
extern "C" __global__ void batchnorm_evaluation_scale(const float* gamma, const float* running, int channels, float* scale)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c < channels) scale[c] = gamma[c] / running[c];
}

// Training backward: A = Σ g·x; k = γ·A/(M·sd³), b = k·mean, dγ = A/sd (dγ may be null).
extern "C" __global__ void batchnorm_training_gradients(const double* dots, int channels, int parts, double count, const float* gamma,
    const double* mean, const double* sd, float* k, float* b, float* gammaGradient)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    double a = 0;
    for (int p = 0; p < parts; p++) a += dots[c * parts + p];
    double d = (double)(float)sd[c];
    double kc = gamma[c] * a / (count * d * d * d);
    k[c] = (float)kc;
    b[c] = (float)(kc * mean[c]);
    if (gammaGradient != 0) gammaGradient[c] = (float)(a / d);
}

// Evaluation backward: dγ = Σ g·x / running_sd.
extern "C" __global__ void batchnorm_evaluation_gradients(const double* dots, int channels, int parts, const float* running, float* gammaGradient)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    double a = 0;
    for (int p = 0; p < parts; p++) a += dots[c * parts + p];
    gammaGradient[c] = (float)(a / running[c]);
}

// ---- elementwise, grid-stride over `total` elements ----

#define FOR_EACH(i, total) for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < (total); i += (long long)gridDim.x * blockDim.x)

// y = scale_c·x, then max(0, ·) when relu.
extern "C" __global__ void channel_scale(const float* x, const float* scale, float* y, long long total, int channels, int hw, int relu)
{
    FOR_EACH(i, total)
    {
        float v = x[i] * scale[(i / hw) % channels];
        y[i] = relu ? fmaxf(v, 0.0f) : v;
    }
}

// y = scale_c·x·mask, the mask holding `maskLength` values (one item, broadcast, or the whole batch); no mask when null.
extern "C" __global__ void channel_scale_masked(const float* x, const float* scale, const float* mask, long long maskLength, float* y,
    long long total, int channels, int hw)
{
    FOR_EACH(i, total)
    {
        float v = x[i] * scale[(i / hw) % channels];
        y[i] = mask == 0 ? v : v * mask[i % maskLength];
    }
}

// y = scale_c·x·[gate > 0] (ReLU backward through a fused batch norm).
extern "C" __global__ void channel_scale_gated(const float* x, const float* scale, const float* gate, float* y, long long total, int channels, int hw)
{
    FOR_EACH(i, total)
    {
        float v = x[i] * scale[(i / hw) % channels];
        y[i] = gate[i] > 0.0f ? v : 0.0f;
    }
}

// Training-mode batch-norm input gradient: dx = s_c·g − k_c·x + b_c, g = dy·[gate > 0] (or dy). dx may be dy.
extern "C" __global__ void batchnorm_input_gradient(const float* dy, const float* gate, const float* x, const float* s, const float* k,
    const float* b, float* dx, long long total, int channels, int hw)
{
    FOR_EACH(i, total)
    {
        int c = (int)((i / hw) % channels);
        float g = (gate == 0 || gate[i] > 0.0f) ? dy[i] : 0.0f;
        dx[i] = s[c] * g - k[c] * x[i] + b[c];
    }
}

extern "C" __global__ void relu(const float* x, float* y, long long total)
{
    FOR_EACH(i, total) y[i] = fmaxf(x[i], 0.0f);
}

extern "C" __global__ void relu_backward(const float* dy, const float* y, float* dx, long long total)
{
    FOR_EACH(i, total) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
}

extern "C" __global__ void multiply_mask(const float* x, const float* mask, long long maskLength, float* y, long long total)
{
    FOR_EACH(i, total) y[i] = x[i] * mask[i % maskLength];
}

extern "C" __global__ void positive_mask(const float* x, float* mask, long long total)
{
    FOR_EACH(i, total) mask[i] = x[i] > 0.0f ? 1.0f : 0.0f;
}

extern "C" __global__ void add(const float* a, const float* b, float* y, long long total)
{
    FOR_EACH(i, total) y[i] = a[i] + b[i];
}

extern "C" __global__ void subtract(const float* a, const float* b, float* y, long long total)
{
    FOR_EACH(i, total) y[i] = a[i] - b[i];
}

// 2×2 average pooling over `planes` = N·C planes of h×w (h, w even): one thread per output pixel.
extern "C" __global__ void average_pool(const float* x, float* y, long long planes, int h, int w)
{
    int oh = h / 2, ow = w / 2;
    FOR_EACH(i, planes * oh * ow)
    {
        long long plane = i / (oh * ow);
        int r = (int)(i % (oh * ow)) / ow, c = (int)(i % ow);
        const float* p = x + plane * h * w + (2 * r) * w + 2 * c;
        y[i] = 0.25f * (p[0] + p[1] + p[w] + p[w + 1]);
    }
}

// Its backward pass: dx[2r+i, 2c+j] = ¼·dy[r, c]; one thread per input pixel.
extern "C" __global__ void average_pool_backward(const float* dy, float* dx, long long planes, int h, int w)
{
    int oh = h / 2, ow = w / 2;
    FOR_EACH(i, planes * h * w)
    {
        long long plane = i / (h * w);
        int r = (int)(i % (h * w)) / w, c = (int)(i % w);
        dx[i] = 0.25f * dy[plane * oh * ow + (r / 2) * ow + c / 2];
    }
}

// y = cat([a, b], dim 1): per item, a's itemA values then b's itemB values.
extern "C" __global__ void concat(const float* a, const float* b, float* y, long long items, long long itemA, long long itemB)
{
    long long itemY = itemA + itemB;
    FOR_EACH(i, items * itemY)
    {
        long long n = i / itemY, k = i % itemY;
        y[i] = k < itemA ? a[n * itemA + k] : b[n * itemB + (k - itemA)];
    }
}

extern "C" __global__ void split(const float* y, float* a, float* b, long long items, long long itemA, long long itemB)
{
    long long itemY = itemA + itemB;
    FOR_EACH(i, items * itemY)
    {
        long long n = i / itemY, k = i % itemY;
        if (k < itemA) a[n * itemA + k] = y[i];
        else b[n * itemB + (k - itemA)] = y[i];
    }
}

// ---- training ----

// Residual loss of one batch item per block: perItem[n] = Σ (p − t)², gradient = scale·(p − t).
extern "C" __global__ void squared_error(const float* prediction, const float* target, float scale, float* gradient, int itemLength, double* perItem)
{
    __shared__ double shared[THREADS];
    long long base = (long long)blockIdx.x * itemLength;
    double s = 0;
    for (int k = threadIdx.x; k < itemLength; k += blockDim.x)
    {
        float diff = prediction[base + k] - target[base + k];
        s += (double)diff * diff;
        gradient[base + k] = scale * diff;
    }
    s = block_sum(s, shared);
    if (threadIdx.x == 0) perItem[blockIdx.x] = s;
}

// Adam (PyTorch's semantics): m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², w ← w − step·m/(√v/rc2 + ε).
extern "C" __global__ void adam(float* w, const float* g, float* m, float* v, long long total, float beta1, float beta2, float stepSize,
    float rootCorrection2, float epsilon)
{
    FOR_EACH(i, total)
    {
        float gi = g[i];
        float mi = beta1 * m[i] + (1.0f - beta1) * gi;
        float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        m[i] = mi;
        v[i] = vi;
        w[i] -= stepSize * mi / (sqrtf(vi) / rootCorrection2 + epsilon);
    }
}

// Partial Σ x² of one tensor: block p of `parts` writes partial[p].
extern "C" __global__ void sum_of_squares(const float* x, long long total, double* partial)
{
    __shared__ double shared[THREADS];
    double s = 0;
    FOR_EACH(i, total) s += (double)x[i] * x[i];
    s = block_sum(s, shared);
    if (threadIdx.x == 0) partial[blockIdx.x] = s;
}

// ---- sampling ----

// norms[r] = ‖row r‖₂, one block per row.
extern "C" __global__ void row_norms(const float* x, int itemLength, double* norms)
{
    __shared__ double shared[THREADS];
    long long base = (long long)blockIdx.x * itemLength;
    double s = 0;
    for (int k = threadIdx.x; k < itemLength; k += blockDim.x) s += (double)x[base + k] * x[base + k];
    s = block_sum(s, shared);
    if (threadIdx.x == 0) norms[blockIdx.x] = sqrt(s);
}

// Algorithm 1's update of selected rows, one block per selected row j: y[rows[j]] ← y − h_j·r + γ_j·z_j.
extern "C" __global__ void algorithm1_step(float* y, const float* direction, const float* noise, const int* rows, const float* stepSizes,
    const float* noiseScales, int itemLength)
{
    int j = blockIdx.x;
    long long base = (long long)rows[j] * itemLength, zbase = (long long)j * itemLength;
    float h = stepSizes[j], gamma = noiseScales[j];
    for (int k = threadIdx.x; k < itemLength; k += blockDim.x)
    {
        float v = y[base + k] - h * direction[base + k];
        y[base + k] = v + gamma * noise[zbase + k];
    }
}
