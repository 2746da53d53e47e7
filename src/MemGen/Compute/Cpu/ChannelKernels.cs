using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MemGen.Tensors;

namespace MemGen.Compute.Cpu;

/// <summary>
/// Layout-aware elementwise kernels of the layers (batch norm, ReLU, masks), Vector512 and parallel over
/// planes. A tensor is seen as planes: in plain NCHW one plane is one (item, channel) image of H·W values;
/// in blocked nChw16c one plane is one (item, channel block) of H·W pixels × 16 channel lanes, so a
/// per-channel factor is a broadcast scalar (plain) or a 16-lane vector (blocked). All operands of a
/// kernel share one layout and logical shape, except masks, which may hold a single item broadcast over the batch.
/// The loop bodies are compiled fully optimized on first use (AggressiveOptimization): unoptimized tier-0 code
/// of Vector512 loops is many times slower, which short runs (Jacobians, tests) would otherwise pay.
/// </summary>
internal static class ChannelKernels
{
    private const int Lanes = 16;

    /// <summary>Per-channel Σx and Σx² (float within a plane, double across planes).</summary>
    public static void Moments(Tensor x, Span<double> sum, Span<double> sumSquares)
    {
        var p = new Planes(x);
        var partial = ArrayPool<float>.Shared.Rent(p.Count * 2 * Lanes);
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            ref float xs = ref At(x, p.Offset(plane));
            var s = Vector512<float>.Zero;
            var q = Vector512<float>.Zero;
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes)
            {
                var v = Vector512.LoadUnsafe(ref xs, (nuint)i);
                s += v;
                q += v * v;
            }
            float ts = 0, tq = 0;
            for (; i < p.Length; i++)
            {
                float v = Unsafe.Add(ref xs, i);
                ts += v;
                tq += v * v;
            }
            StoreLanes(partial, plane, 0, p, s, ts);
            StoreLanes(partial, plane, 1, p, q, tq);
        });
        Reduce(p, partial, sum, 0);
        Reduce(p, partial, sumSquares, 1);
        ArrayPool<float>.Shared.Return(partial);
    }

    /// <summary>Per-channel Σ g·x where g = dy, masked by [gate &gt; 0] when <paramref name="gate"/> is given.</summary>
    public static void GatedDots(Tensor dy, Tensor? gate, Tensor x, Span<double> dots)
    {
        var p = new Planes(x);
        var partial = ArrayPool<float>.Shared.Rent(p.Count * 2 * Lanes);
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            int o = p.Offset(plane);
            ref float ds = ref At(dy, o);
            ref float xs = ref At(x, o);
            ref float gs = ref gate is null ? ref ds : ref At(gate, o);
            bool gated = gate is not null;
            var s = Vector512<float>.Zero;
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes)
            {
                var d = Vector512.LoadUnsafe(ref ds, (nuint)i);
                if (gated) d = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.LoadUnsafe(ref gs, (nuint)i), Vector512<float>.Zero), d, Vector512<float>.Zero);
                s += d * Vector512.LoadUnsafe(ref xs, (nuint)i);
            }
            float tail = 0;
            for (; i < p.Length; i++)
                if (!gated || Unsafe.Add(ref gs, i) > 0) tail += Unsafe.Add(ref ds, i) * Unsafe.Add(ref xs, i);
            StoreLanes(partial, plane, 0, p, s, tail);
        });
        Reduce(p, partial, dots, 0);
        ArrayPool<float>.Shared.Return(partial);
    }

    /// <summary>y = scale_c·x (then max(0, ·) when <paramref name="relu"/>). y may be x.</summary>
    public static void Scale(Tensor x, float[] scale, Tensor y, bool relu)
    {
        var p = new Planes(x);
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            int o = p.Offset(plane);
            ref float xs = ref At(x, o);
            ref float ys = ref At(y, o);
            var s = p.Factor(scale, plane);
            float s0 = scale[p.Group(plane) * (p.Blocked ? Lanes : 1)];
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes)
            {
                var v = Vector512.LoadUnsafe(ref xs, (nuint)i) * s;
                if (relu) v = Vector512.Max(v, Vector512<float>.Zero);
                v.StoreUnsafe(ref ys, (nuint)i);
            }
            for (; i < p.Length; i++)
            {
                float v = Unsafe.Add(ref xs, i) * s0;
                Unsafe.Add(ref ys, i) = relu ? MathF.Max(v, 0) : v;
            }
        });
    }

    /// <summary>
    /// y = scale_c·x·[gate &gt; 0] (gate = the layer's own output, for ReLU backward) or, with
    /// <paramref name="gateIsMask"/>, y = scale_c·x·gate with a 0/1 mask of one item or of the whole batch.
    /// <paramref name="gate"/> null: y = scale_c·x.
    /// </summary>
    public static void ScaleGated(Tensor x, float[] scale, Tensor? gate, bool gateIsMask, Tensor y)
    {
        if (gate is null)
        {
            Scale(x, scale, y, relu: false);
            return;
        }
        var p = new Planes(x);
        int maskPlanes = new Planes(gate).Count;
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            int o = p.Offset(plane);
            ref float xs = ref At(x, o);
            ref float ys = ref At(y, o);
            ref float gs = ref At(gate, (plane % maskPlanes) * p.Length);
            var s = p.Factor(scale, plane);
            float s0 = scale[p.Group(plane) * (p.Blocked ? Lanes : 1)];
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes)
            {
                var v = Vector512.LoadUnsafe(ref xs, (nuint)i) * s;
                var g = Vector512.LoadUnsafe(ref gs, (nuint)i);
                v = gateIsMask ? v * g : Vector512.ConditionalSelect(Vector512.GreaterThan(g, Vector512<float>.Zero), v, Vector512<float>.Zero);
                v.StoreUnsafe(ref ys, (nuint)i);
            }
            for (; i < p.Length; i++)
            {
                float g = Unsafe.Add(ref gs, i);
                float v = Unsafe.Add(ref xs, i) * s0;
                Unsafe.Add(ref ys, i) = gateIsMask ? v * g : g > 0 ? v : 0;
            }
        });
    }

    /// <summary>
    /// Training-mode batch-norm input gradient: dx = s_c·g − k_c·x + b_c with g = dy·[gate &gt; 0]
    /// (or g = dy without a gate). dx may be dy.
    /// </summary>
    public static void BatchNormInputGradient(Tensor dy, Tensor? gate, Tensor x, float[] s, float[] k, float[] b, Tensor dx)
    {
        var p = new Planes(x);
        ForPlanes(p, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (plane) =>
        {
            int o = p.Offset(plane);
            ref float ds = ref At(dy, o);
            ref float xs = ref At(x, o);
            ref float gs = ref gate is null ? ref ds : ref At(gate, o);
            ref float rs = ref At(dx, o);
            bool gated = gate is not null;
            var sv = p.Factor(s, plane);
            var kv = p.Factor(k, plane);
            var bv = p.Factor(b, plane);
            int c0 = p.Group(plane) * (p.Blocked ? Lanes : 1);
            int i = 0;
            for (; i <= p.Length - Lanes; i += Lanes)
            {
                var d = Vector512.LoadUnsafe(ref ds, (nuint)i);
                if (gated) d = Vector512.ConditionalSelect(Vector512.GreaterThan(Vector512.LoadUnsafe(ref gs, (nuint)i), Vector512<float>.Zero), d, Vector512<float>.Zero);
                var r = sv * d - kv * Vector512.LoadUnsafe(ref xs, (nuint)i) + bv;
                r.StoreUnsafe(ref rs, (nuint)i);
            }
            for (; i < p.Length; i++)
            {
                float d = !gated || Unsafe.Add(ref gs, i) > 0 ? Unsafe.Add(ref ds, i) : 0;
                Unsafe.Add(ref rs, i) = s[c0] * d - k[c0] * Unsafe.Add(ref xs, i) + b[c0];
            }
        });
    }

    /// <summary>y = max(0, x), any layout.</summary>
    public static void Relu(Tensor x, Tensor y) =>
        ForChunks(x.Length, (start, length) => System.Numerics.Tensors.TensorPrimitives.Max(x.Data.AsSpan(start, length), 0f, y.Data.AsSpan(start, length)));

    /// <summary>dx = dy·[gate &gt; 0], any layout (ReLU backward from the ReLU's output).</summary>
    public static void Gate(Tensor dy, Tensor gate, Tensor dx) =>
        ForChunks(dy.Length, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (start, length) =>
        {
            ref float ds = ref At(dy, start);
            ref float gs = ref At(gate, start);
            ref float rs = ref At(dx, start);
            int i = 0;
            for (; i <= length - Lanes; i += Lanes)
            {
                var g = Vector512.LoadUnsafe(ref gs, (nuint)i);
                Vector512.ConditionalSelect(Vector512.GreaterThan(g, Vector512<float>.Zero), Vector512.LoadUnsafe(ref ds, (nuint)i), Vector512<float>.Zero)
                    .StoreUnsafe(ref rs, (nuint)i);
            }
            for (; i < length; i++) Unsafe.Add(ref rs, i) = Unsafe.Add(ref gs, i) > 0 ? Unsafe.Add(ref ds, i) : 0;
        });

    /// <summary>y = x·mask where mask holds one item (broadcast over the batch) or as many items as x.</summary>
    public static void Mask(Tensor x, Tensor mask, Tensor y)
    {
        int item = mask.Length == x.Length ? x.Length : mask.ItemLength;
        for (int start = 0; start < x.Length; start += item)
            System.Numerics.Tensors.TensorPrimitives.Multiply(x.Data.AsSpan(start, item), mask.Data.AsSpan(start % mask.Length, item), y.Data.AsSpan(start, item));
    }

    /// <summary>mask = [x &gt; 0] as 0/1 floats.</summary>
    public static void PositiveMask(Tensor x, Tensor mask)
    {
        var xs = x.Span;
        var ms = mask.Span;
        for (int i = 0; i < xs.Length; i++) ms[i] = xs[i] > 0 ? 1f : 0f;
    }

    private readonly struct Planes
    {
        public Planes(Tensor t)
        {
            Blocked = t.Layout == TensorLayout.Nchw16c;
            Groups = Blocked ? t.C / Lanes : t.C;
            Length = t.H * t.W * (Blocked ? Lanes : 1);
            Count = t.N * Groups;
        }

        public bool Blocked { get; }
        public int Groups { get; }
        public int Length { get; }
        public int Count { get; }

        public int Group(int plane) => plane % Groups;
        public int Offset(int plane) => plane * Length;

        public Vector512<float> Factor(float[] perChannel, int plane) => Blocked
            ? Vector512.LoadUnsafe(ref MemoryMarshal.GetArrayDataReference(perChannel), (nuint)(Group(plane) * Lanes))
            : Vector512.Create(perChannel[Group(plane)]);
    }

    /// <summary>A reference to element <paramref name="offset"/> of a host tensor.</summary>
    internal static ref float At(Tensor t, int offset) => ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(t.Data), offset);

    private static void StoreLanes(float[] partial, int plane, int slot, Planes p, Vector512<float> v, float tail)
    {
        int at = (plane * 2 + slot) * Lanes;
        if (p.Blocked) v.CopyTo(partial.AsSpan(at, Lanes));
        else partial[at] = Vector512.Sum(v) + tail;
    }

    private static void Reduce(Planes p, float[] partial, Span<double> perChannel, int slot)
    {
        perChannel.Clear();
        for (int plane = 0; plane < p.Count; plane++)
        {
            int at = (plane * 2 + slot) * Lanes;
            if (p.Blocked)
            {
                int c0 = p.Group(plane) * Lanes;
                for (int l = 0; l < Lanes; l++) perChannel[c0 + l] += partial[at + l];
            }
            else
            {
                perChannel[p.Group(plane)] += partial[at];
            }
        }
    }

    /// <summary>Below this many elements a kernel runs on the calling thread.</summary>
    private const int ParallelThreshold = 1 << 15;

    private static void ForPlanes(Planes p, Action<int> body) => ForPlanes(p.Count, p.Length, body);

    /// <summary>Runs <paramref name="body"/> for planes 0..count − 1 of <paramref name="length"/> values each, in parallel when the work is large.</summary>
    internal static void ForPlanes(int count, int length, Action<int> body)
    {
        if ((long)count * length < ParallelThreshold || count == 1)
        {
            for (int plane = 0; plane < count; plane++) body(plane);
            return;
        }
        Parallel.For(0, count, body);
    }

    /// <summary>Runs <paramref name="body"/>(start, length) over chunks of 0..length − 1 (whole 16-lane multiples), in parallel when large.</summary>
    internal static void ForChunks(int length, Action<int, int> body)
    {
        int parts = length < ParallelThreshold ? 1 : Environment.ProcessorCount * 4;
        if (parts == 1)
        {
            body(0, length);
            return;
        }
        int chunk = (length + parts - 1) / parts;
        chunk = (chunk + Lanes - 1) / Lanes * Lanes;
        Parallel.For(0, (length + chunk - 1) / chunk, part =>
        {
            int start = part * chunk;
            body(start, Math.Min(chunk, length - start));
        });
    }
}
