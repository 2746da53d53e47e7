using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MemGen.Tensors;

namespace MemGen.Compute.Cpu;

/// <summary>2×2 average pooling, stride 2, on host memory in either layout; blocked activations use 16-lane vectors.</summary>
internal static class CpuPooling
{
    /// <summary>Forward: big → small (average). Backward: small → big (spread ¼).</summary>
    public static void Run(Tensor big, Tensor small, bool forward)
    {
        bool blocked = big.Layout == TensorLayout.Nchw16c;
        int lanes = blocked ? BlockedLayout.BlockSize : 1;
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
