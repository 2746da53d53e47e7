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

// sum[c·P + p] = Σ x, squares[c·P + p] = Σ x² over part p of channel c (no squares when null).
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
        if (squares != 0) squares[c * parts + p] = q;
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

// Residual loss of one batch item per block: perItem[n] = w_n·Σ (p − t)², gradient = scale·w_n·(p − t) (w_n = 1 without weights).
extern "C" __global__ void squared_error(const float* prediction, const float* target, const float* weights, float scale, float* gradient, int itemLength,
    double* perItem)
{
    __shared__ double shared[THREADS];
    long long base = (long long)blockIdx.x * itemLength;
    float w = weights == 0 ? 1.0f : weights[blockIdx.x], itemScale = scale * w;
    double s = 0;
    for (int k = threadIdx.x; k < itemLength; k += blockDim.x)
    {
        float diff = prediction[base + k] - target[base + k];
        s += (double)diff * diff;
        gradient[base + k] = itemScale * diff;
    }
    s = block_sum(s, shared);
    if (threadIdx.x == 0) perItem[blockIdx.x] = w * s;
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

// ---- noise-conditioned networks: biases, SiLU, per-item coefficients, the conditioned batch norm ----
// A per-(item, channel) coefficient array is [N, C]: element i of an [N, C, H, W] tensor uses entry i / hw.

__device__ __forceinline__ float sigmoid(float u) { return 1.0f / (1.0f + expf(-u)); }

__device__ __forceinline__ float silu_derivative(float u)
{
    float s = sigmoid(u);
    return s * (1.0f + u * (1.0f - s));
}

// y = x + bias_c (y may be x); hw = 1 for [N, C] tensors.
extern "C" __global__ void channel_bias(const float* x, const float* bias, float* y, long long total, int channels, int hw)
{
    FOR_EACH(i, total) y[i] = x[i] + bias[(i / hw) % channels];
}

// out[c] = Σ_p partial[c·P + p] (after channel_moments without squares).
extern "C" __global__ void channel_total(const double* partial, int channels, int parts, float* out)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    double s = 0;
    for (int p = 0; p < parts; p++) s += partial[c * parts + p];
    out[c] = (float)s;
}

extern "C" __global__ void silu(const float* x, float* y, long long total)
{
    FOR_EACH(i, total)
    {
        float u = x[i];
        y[i] = u * sigmoid(u);
    }
}

// dx = dy·silu'(x) (dx may be dy); derivative = silu'(x) when dy is null.
extern "C" __global__ void silu_gradient(const float* dy, const float* x, float* dx, long long total)
{
    FOR_EACH(i, total)
    {
        float d = silu_derivative(x[i]);
        dx[i] = dy == 0 ? d : d * dy[i];
    }
}

// y[i] = alpha[n]·a[i] + beta[n]·b[i] with n = i / itemLength (no b term when b is null).
extern "C" __global__ void combine_items(const float* a, const float* alpha, const float* b, const float* beta, float* y, long long total, long long itemLength)
{
    FOR_EACH(i, total)
    {
        long long n = i / itemLength;
        float v = alpha[n] * a[i];
        y[i] = b == 0 ? v : v + beta[n] * b[i];
    }
}

// Training statistics of a conditioned batch norm: mean, sd = sqrt(max(E[x²] − mean², 0) + eps) (float64 scratch), and
// running_mean ← (1 − m)·running_mean + m·mean, running_sd ← (1 − m)·running_sd + m·sd.
extern "C" __global__ void conditioned_norm_statistics(const double* sum, const double* squares, int channels, int parts, double count,
    float* runningMean, float* runningSd, float momentum, double epsilon, double* mean, double* sd)
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
    double d = sqrt(fmax(q / count - mu * mu, 0.0) + epsilon);
    mean[c] = mu;
    sd[c] = d;
    runningMean[c] = (float)((1.0 - momentum) * runningMean[c] + momentum * mu);
    runningSd[c] = (float)((1.0 - momentum) * runningSd[c] + momentum * d);
}

// Evaluation statistics: the running mean and sd as float64 scratch.
extern "C" __global__ void conditioned_norm_running(const float* runningMean, const float* runningSd, int channels, double* mean, double* sd)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    mean[c] = runningMean[c];
    sd[c] = runningSd[c];
}

// A_nc = γ_c(1 + s_nc)/sd_c, B_nc = (β_c − γ_c·μ_c/sd_c)(1 + s_nc) + t_nc; film row n = (s_n· | t_n·). One thread per (n, c).
extern "C" __global__ void conditioned_norm_coefficients(const float* gamma, const float* beta, const float* film, const double* mean, const double* sd,
    int n, int channels, float* scale, float* shift)
{
    int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i >= n * channels) return;
    int item = i / channels, c = i % channels;
    double film1 = 1.0 + (double)film[item * 2 * channels + c], t = film[item * 2 * channels + channels + c];
    double a = gamma[c] / sd[c];
    scale[i] = (float)(a * film1);
    shift[i] = (float)((beta[c] - a * mean[c]) * film1 + t);
}

// y = silu(A_nc·x + B_nc).
extern "C" __global__ void affine_silu(const float* x, const float* scale, const float* shift, float* y, long long total, int hw)
{
    FOR_EACH(i, total)
    {
        long long k = i / hw;
        float u = x[i] * scale[k] + shift[k];
        y[i] = u * sigmoid(u);
    }
}

// derivative = silu'(A_nc·x + B_nc)·A_nc.
extern "C" __global__ void affine_silu_derivative(const float* x, const float* scale, const float* shift, float* derivative, long long total, int hw)
{
    FOR_EACH(i, total)
    {
        long long k = i / hw;
        derivative[i] = silu_derivative(x[i] * scale[k] + shift[k]) * scale[k];
    }
}

// One block per (item, channel) plane k of hw values: g = dy·silu'(A_k·x + B_k) (g may be dy), sums[k] = Σ g, dots[k] = Σ g·x.
extern "C" __global__ void affine_silu_gradient(const float* dy, const float* x, const float* scale, const float* shift, float* g, int hw,
    double* sums, double* dots)
{
    __shared__ double shared[THREADS];
    long long k = blockIdx.x, base = k * hw;
    float a = scale[k], b = shift[k];
    double s1 = 0, s2 = 0;
    for (int p = threadIdx.x; p < hw; p += blockDim.x)
    {
        float xv = x[base + p];
        float gv = dy[base + p] * silu_derivative(xv * a + b);
        g[base + p] = gv;
        s1 += gv;
        s2 += (double)gv * xv;
    }
    s1 = block_sum(s1, shared);
    s2 = block_sum(s2, shared);
    if (threadIdx.x == 0)
    {
        sums[k] = s1;
        dots[k] = s2;
    }
}

// Per channel, from the per-(item, channel) sums: P = Σ_n (1 + s_nc)·S1, Q = Σ_n (1 + s_nc)(S2 − μ·S1)/sd; dβ = P, dγ = Q,
// ds_nc = (γ/sd)(S2 − μ·S1) + β·S1, dt_nc = S1 (each gradient skipped when null); the input gradient's coefficients
// perItem_nc = γ(1 + s_nc)/sd, and in training k = γ·Q/(M·sd²), b = k·μ − γ·P/(M·sd) (zero in evaluation).
extern "C" __global__ void conditioned_norm_gradients(const double* sums, const double* dots, const float* film, const float* gamma, const float* beta,
    const double* mean, const double* sd, int n, int channels, double count, int training, float* perItem, float* k, float* b,
    float* gammaGradient, float* betaGradient, float* filmGradient)
{
    int c = blockIdx.x * blockDim.x + threadIdx.x;
    if (c >= channels) return;
    double p = 0, q = 0, mu = mean[c], d = sd[c];
    for (int item = 0; item < n; item++)
    {
        int at = item * channels + c;
        double film1 = 1.0 + (double)film[item * 2 * channels + c];
        double centred = dots[at] - mu * sums[at];
        p += film1 * sums[at];
        q += film1 * centred;
        perItem[at] = (float)(gamma[c] * film1 / d);
        if (filmGradient != 0)
        {
            filmGradient[item * 2 * channels + c] = (float)(gamma[c] / d * centred + beta[c] * sums[at]);
            filmGradient[item * 2 * channels + channels + c] = (float)sums[at];
        }
    }
    q /= d;
    if (gammaGradient != 0) gammaGradient[c] = (float)q;
    if (betaGradient != 0) betaGradient[c] = (float)p;
    double kc = training ? gamma[c] * q / (count * d * d) : 0.0;
    k[c] = (float)kc;
    b[c] = training ? (float)(kc * mu - gamma[c] * p / (count * d)) : 0.0f;
}

// dx = perItem_nc·g − k_c·x + b_c (dx may be g).
extern "C" __global__ void affine_input_gradient(const float* g, const float* x, const float* perItem, const float* k, const float* b, float* dx,
    long long total, int channels, int hw)
{
    FOR_EACH(i, total)
    {
        int c = (int)((i / hw) % channels);
        dx[i] = perItem[i / hw] * g[i] - k[c] * x[i] + b[c];
    }
}
