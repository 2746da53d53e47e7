using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MemGen.Tensors;

namespace MemGen.Nn;

/// <summary>2×2 average pooling, stride 2 (H and W even), either layout; blocked activations use 16-lane vectors.</summary>
public sealed class AvgPool2d(string name)
{
    private readonly TensorCache _outputs = new();
    private readonly TensorCache _inputGradients = new();

    /// <summary>Layer name.</summary>
    public string Name { get; } = name;

    /// <summary>y[h,w] = ¼·Σ x[2h+i, 2w+j] into a layer-owned buffer.</summary>
    public Tensor Forward(Tensor x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank != 4 || x.H % 2 != 0 || x.W % 2 != 0)
            throw new ArgumentException($"{Name}: input must be [N,C,H,W] with even H and W, got [{x.ShapeString}].");
        var y = _outputs.Get(x.N, x.C, x.H / 2, x.W / 2, x.Layout);
        Run(x, y, forward: true);
        return y;
    }

    /// <summary>dx[2h+i, 2w+j] = ¼·dy[h,w] into a layer-owned buffer.</summary>
    public Tensor Backward(Tensor dy)
    {
        ArgumentNullException.ThrowIfNull(dy);
        var dx = _inputGradients.Get(dy.N, dy.C, dy.H * 2, dy.W * 2, dy.Layout);
        Run(dx, dy, forward: false);
        return dx;
    }

    /// <summary>Drops the cached buffers.</summary>
    public void ReleaseBuffers()
    {
        _outputs.Clear();
        _inputGradients.Clear();
    }

    /// <summary>Forward: big → small (average). Backward: small → big (spread ¼).</summary>
    private static void Run(Tensor big, Tensor small, bool forward)
    {
        bool blocked = big.Layout == TensorLayout.Nchw16c;
        int lanes = blocked ? TensorLayouts.BlockSize : 1;
        int planes = big.N * big.C / lanes;
        int bw = big.W, sh = small.H, sw = small.W;
        int bigPlane = big.H * bw * lanes, smallPlane = sh * sw * lanes;
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        void Plane(int p)
        {
            ref float b = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(big.Data), p * bigPlane);
            ref float s = ref Unsafe.Add(ref MemoryMarshal.GetArrayDataReference(small.Data), p * smallPlane);
            for (int h = 0; h < sh; h++)
                for (int w = 0; w < sw; w++)
                {
                    nuint so = (nuint)((h * sw + w) * lanes);
                    nuint b00 = (nuint)(((2 * h) * bw + 2 * w) * lanes), b01 = b00 + (nuint)lanes;
                    nuint b10 = b00 + (nuint)(bw * lanes), b11 = b10 + (nuint)lanes;
                    if (blocked)
                    {
                        if (forward)
                        {
                            var v = Vector512.LoadUnsafe(ref b, b00) + Vector512.LoadUnsafe(ref b, b01) + Vector512.LoadUnsafe(ref b, b10) + Vector512.LoadUnsafe(ref b, b11);
                            (v * 0.25f).StoreUnsafe(ref s, so);
                        }
                        else
                        {
                            var v = Vector512.LoadUnsafe(ref s, so) * 0.25f;
                            v.StoreUnsafe(ref b, b00);
                            v.StoreUnsafe(ref b, b01);
                            v.StoreUnsafe(ref b, b10);
                            v.StoreUnsafe(ref b, b11);
                        }
                    }
                    else if (forward)
                    {
                        Unsafe.Add(ref s, so) = 0.25f * (Unsafe.Add(ref b, b00) + Unsafe.Add(ref b, b01) + Unsafe.Add(ref b, b10) + Unsafe.Add(ref b, b11));
                    }
                    else
                    {
                        float v = 0.25f * Unsafe.Add(ref s, so);
                        Unsafe.Add(ref b, b00) = v;
                        Unsafe.Add(ref b, b01) = v;
                        Unsafe.Add(ref b, b10) = v;
                        Unsafe.Add(ref b, b11) = v;
                    }
                }
        }
        if ((long)big.Length < 1 << 15) for (int p = 0; p < planes; p++) Plane(p);
        else Parallel.For(0, planes, Plane);
    }
}
