using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MemGen.Tensors;

namespace MemGen.Compute.Cpu;

/// <summary>
/// SIMD kernels of the noise-conditioned layers on host memory: per-channel bias and its gradient, SiLU, and the fused
/// conditioned batch norm y = silu(A_nc·x + B_nc) with per-(item, channel) coefficients, its backward passes and its
/// derivative. Tensors are seen as planes as in <see cref="ChannelKernels"/>: in plain [N, C, H, W] (or [N, C]) one plane
/// is one (item, channel) of H·W values; in blocked nChw16c one plane is one (item, channel block) of H·W pixels × 16
/// lanes. Per-(item, channel) coefficient arrays are laid out [N, C], so plane p's coefficient starts at p (plain) or
/// 16·p (blocked). Reductions add float partials per plane in float64 across planes in a fixed order (deterministic).
/// </summary>
internal static class ConditioningKernels
{
    private const int Lanes = 16;

    /// <summary>y = x + bias_c.</summary>
    public static void AddChannelBias(Tensor x, Tensor bias, Tensor y)
    {
        var p = new Planes(x);
        var b = bias.Data;
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            int o = p.Offset(plane);
            ref float xs = ref At(x, o);
            ref float ys = ref At(y, o);
            var bv = p.ChannelFactor(b, plane);
            float b0 = b[p.Channel(plane)];
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes) (Vector512.LoadUnsafe(ref xs, (nuint)i) + bv).StoreUnsafe(ref ys, (nuint)i);
            for (; i < p.Length; i++) Unsafe.Add(ref ys, i) = Unsafe.Add(ref xs, i) + b0;
        });
    }

    /// <summary>sums_c = Σ x over items and pixels.</summary>
    public static void ChannelSums(Tensor x, Span<double> sums)
    {
        var p = new Planes(x);
        var partial = ArrayPool<float>.Shared.Rent(p.Count * Lanes);
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            ref float xs = ref At(x, p.Offset(plane));
            var s = Vector512<float>.Zero;
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes) s += Vector512.LoadUnsafe(ref xs, (nuint)i);
            float tail = 0;
            for (; i < p.Length; i++) tail += Unsafe.Add(ref xs, i);
            Store(partial, plane, p, s, tail);
        });
        sums.Clear();
        for (int plane = 0; plane < p.Count; plane++)
        {
            if (p.Blocked)
                for (int l = 0; l < Lanes; l++) sums[p.Channel(plane) + l] += partial[plane * Lanes + l];
            else sums[p.Channel(plane)] += partial[plane * Lanes];
        }
        ArrayPool<float>.Shared.Return(partial);
    }

    /// <summary>y = silu(x), any layout.</summary>
    public static void Silu(Tensor x, Tensor y) =>
        ForChunks(x.Length, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, length) =>
        {
            ref float xs = ref At(x, start);
            ref float ys = ref At(y, start);
            int i = 0;
            for (; i <= length - Lanes; i += Lanes)
            {
                var u = Vector512.LoadUnsafe(ref xs, (nuint)i);
                (u * Sigmoid(u)).StoreUnsafe(ref ys, (nuint)i);
            }
            for (; i < length; i++)
            {
                float u = Unsafe.Add(ref xs, i);
                Unsafe.Add(ref ys, i) = u * Sigmoid(u);
            }
        });

    /// <summary>dx = dy·silu'(x), or derivative = silu'(x) when <paramref name="dy"/> is null; any layout.</summary>
    public static void SiluGradient(Tensor? dy, Tensor x, Tensor result) =>
        ForChunks(x.Length, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, length) =>
        {
            ref float xs = ref At(x, start);
            ref float rs = ref At(result, start);
            ref float ds = ref dy is null ? ref rs : ref At(dy, start);
            bool scaled = dy is not null;
            int i = 0;
            for (; i <= length - Lanes; i += Lanes)
            {
                var d = SiluDerivative(Vector512.LoadUnsafe(ref xs, (nuint)i));
                if (scaled) d *= Vector512.LoadUnsafe(ref ds, (nuint)i);
                d.StoreUnsafe(ref rs, (nuint)i);
            }
            for (; i < length; i++)
            {
                float d = SiluDerivative(Unsafe.Add(ref xs, i));
                Unsafe.Add(ref rs, i) = scaled ? d * Unsafe.Add(ref ds, i) : d;
            }
        });

    /// <summary>y[n] = alpha[n]·a[n] (+ beta[n]·b[n]) for plain [N, ...] tensors.</summary>
    public static void CombineItems(Tensor a, ReadOnlySpan<float> alpha, Tensor? b, ReadOnlySpan<float> beta, Tensor y)
    {
        int d = a.ItemLength;
        for (int n = 0; n < a.Shape[0]; n++)
        {
            var ys = y.Data.AsSpan(n * d, d);
            var source = a.Data.AsSpan(n * d, d);
            if (b is null)
            {
                System.Numerics.Tensors.TensorPrimitives.Multiply(source, alpha[n], ys);
                continue;
            }
            // alpha·a + beta·b without a scratch buffer, and with y allowed to alias a or b.
            var other = b.Data.AsSpan(n * d, d);
            float an = alpha[n], bn = beta[n];
            for (int i = 0; i < d; i++) ys[i] = an * source[i] + bn * other[i];
        }
    }

    /// <summary>y = silu(A_nc·x + B_nc) (the conditioned batch norm's forward pass).</summary>
    public static void AffineSilu(Tensor x, float[] scale, float[] shift, Tensor y)
    {
        var p = new Planes(x);
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            int o = p.Offset(plane);
            ref float xs = ref At(x, o);
            ref float ys = ref At(y, o);
            var a = p.ItemFactor(scale, plane);
            var b = p.ItemFactor(shift, plane);
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes)
            {
                var u = Vector512.LoadUnsafe(ref xs, (nuint)i) * a + b;
                (u * Sigmoid(u)).StoreUnsafe(ref ys, (nuint)i);
            }
            int c0 = p.ItemIndex(plane);
            for (; i < p.Length; i++)
            {
                float u = Unsafe.Add(ref xs, i) * scale[c0] + shift[c0];
                Unsafe.Add(ref ys, i) = u * Sigmoid(u);
            }
        });
    }

    /// <summary>
    /// g = dy·silu'(A_nc·x + B_nc) (g may be dy), with the per-(item, channel) sums S1 = Σ g and S2 = Σ g·x
    /// (float within a plane; [N, C] doubles).
    /// </summary>
    public static void AffineSiluGradient(Tensor dy, Tensor x, float[] scale, float[] shift, Tensor g, Span<double> sums, Span<double> dots)
    {
        var p = new Planes(x);
        var partial = ArrayPool<float>.Shared.Rent(p.Count * 2 * Lanes);
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            int o = p.Offset(plane);
            ref float xs = ref At(x, o);
            ref float ds = ref At(dy, o);
            ref float gs = ref At(g, o);
            var a = p.ItemFactor(scale, plane);
            var b = p.ItemFactor(shift, plane);
            var s1 = Vector512<float>.Zero;
            var s2 = Vector512<float>.Zero;
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes)
            {
                var xv = Vector512.LoadUnsafe(ref xs, (nuint)i);
                var gv = Vector512.LoadUnsafe(ref ds, (nuint)i) * SiluDerivative(xv * a + b);
                gv.StoreUnsafe(ref gs, (nuint)i);
                s1 += gv;
                s2 += gv * xv;
            }
            int c0 = p.ItemIndex(plane);
            float t1 = 0, t2 = 0;
            for (; i < p.Length; i++)
            {
                float xv = Unsafe.Add(ref xs, i);
                float gv = Unsafe.Add(ref ds, i) * SiluDerivative(xv * scale[c0] + shift[c0]);
                Unsafe.Add(ref gs, i) = gv;
                t1 += gv;
                t2 += gv * xv;
            }
            Store(partial, 2 * plane, p, s1, t1);
            Store(partial, 2 * plane + 1, p, s2, t2);
        });
        int lanes = p.Blocked ? Lanes : 1;
        for (int plane = 0; plane < p.Count; plane++)
        {
            int at = p.ItemIndex(plane);
            for (int l = 0; l < lanes; l++)
            {
                sums[at + l] = partial[2 * plane * Lanes + l];
                dots[at + l] = partial[(2 * plane + 1) * Lanes + l];
            }
        }
        ArrayPool<float>.Shared.Return(partial);
    }

    /// <summary>dx = P_nc·g − k_c·x + b_c (the conditioned batch norm's input gradient; g is the output of <see cref="AffineSiluGradient"/>). dx may be g.</summary>
    public static void AffineInputGradient(Tensor g, Tensor x, float[] perItem, float[] k, float[] b, Tensor dx)
    {
        var p = new Planes(x);
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            int o = p.Offset(plane);
            ref float gs = ref At(g, o);
            ref float xs = ref At(x, o);
            ref float rs = ref At(dx, o);
            var pv = p.ItemFactor(perItem, plane);
            var kv = p.ChannelFactor(k, plane);
            var bv = p.ChannelFactor(b, plane);
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes)
                (pv * Vector512.LoadUnsafe(ref gs, (nuint)i) - kv * Vector512.LoadUnsafe(ref xs, (nuint)i) + bv).StoreUnsafe(ref rs, (nuint)i);
            int c0 = p.ItemIndex(plane), c = p.Channel(plane);
            for (; i < p.Length; i++) Unsafe.Add(ref rs, i) = perItem[c0] * Unsafe.Add(ref gs, i) - k[c] * Unsafe.Add(ref xs, i) + b[c];
        });
    }

    /// <summary>derivative = silu'(A_nc·x + B_nc)·A_nc.</summary>
    public static void AffineSiluDerivative(Tensor x, float[] scale, float[] shift, Tensor derivative)
    {
        var p = new Planes(x);
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            int o = p.Offset(plane);
            ref float xs = ref At(x, o);
            ref float rs = ref At(derivative, o);
            var a = p.ItemFactor(scale, plane);
            var b = p.ItemFactor(shift, plane);
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes)
                (SiluDerivative(Vector512.LoadUnsafe(ref xs, (nuint)i) * a + b) * a).StoreUnsafe(ref rs, (nuint)i);
            int c0 = p.ItemIndex(plane);
            for (; i < p.Length; i++)
                Unsafe.Add(ref rs, i) = SiluDerivative(Unsafe.Add(ref xs, i) * scale[c0] + shift[c0]) * scale[c0];
        });
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sigmoid(Vector512<float> u) => Vector512<float>.One / (Vector512<float>.One + Vector512.Exp(-u));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Sigmoid(float u) => 1f / (1f + MathF.Exp(-u));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> SiluDerivative(Vector512<float> u)
    {
        var s = Sigmoid(u);
        return s * (Vector512<float>.One + u * (Vector512<float>.One - s));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float SiluDerivative(float u)
    {
        float s = Sigmoid(u);
        return s * (1f + u * (1f - s));
    }

    /// <summary>Plane geometry of a [N, C] or [N, C, H, W] tensor.</summary>
    private readonly struct Planes
    {
        public Planes(Tensor t)
        {
            if (t.Rank is not (2 or 4)) throw new ArgumentException($"Expected a [N, C] or [N, C, H, W] tensor, got [{t.ShapeString}].");
            Blocked = t.Layout == TensorLayout.Nchw16c;
            Channels = t.Shape[1];
            Groups = Blocked ? Channels / Lanes : Channels;
            Length = (t.Rank == 4 ? t.H * t.W : 1) * (Blocked ? Lanes : 1);
            Count = t.Shape[0] * Groups;
        }

        public bool Blocked { get; }
        public int Channels { get; }
        public int Groups { get; }
        public int Length { get; }
        public int Count { get; }

        public int Offset(int plane) => plane * Length;

        /// <summary>The (first) channel of a plane.</summary>
        public int Channel(int plane) => plane % Groups * (Blocked ? Lanes : 1);

        /// <summary>The index of the plane's (first) entry in an [N, C] per-(item, channel) array.</summary>
        public int ItemIndex(int plane) => plane * (Blocked ? Lanes : 1);

        public Vector512<float> ChannelFactor(float[] perChannel, int plane) => Blocked
            ? Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(perChannel), (nuint)Channel(plane))
            : Vector512.Create(perChannel[Channel(plane)]);

        public Vector512<float> ItemFactor(float[] perItem, int plane) => Blocked
            ? Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(perItem), (nuint)ItemIndex(plane))
            : Vector512.Create(perItem[ItemIndex(plane)]);
    }

    /// <summary>Stores a plane's partial sum: 16 lanes (blocked) or their total plus the tail (plain) at slot·16.</summary>
    private static void Store(float[] partial, int slot, Planes p, Vector512<float> v, float tail)
    {
        int at = slot * Lanes;
        if (p.Blocked) v.CopyTo(partial.AsSpan(at, Lanes));
        else partial[at] = Vector512.Sum(v) + tail;
    }

    private static void ForPlanes(Planes p, Action<int> body) => ChannelKernels.ForPlanes(p.Count, p.Length, body);

    private static void ForChunks(int length, Action<int, int> body) => ChannelKernels.ForChunks(length, body);

    private static ref float At(Tensor t, int offset) => ref ChannelKernels.At(t, offset);
}
