using MemGen.Tensors;

namespace MemGen.Compute.Cpu;

/// <summary>
/// The CPU backend's blocked activation layout (oneDNN's nChw16c: channel blocks of 16 innermost, one AVX-512
/// register per pixel and block): allocation, index arithmetic and conversions to and from plain NCHW.
/// </summary>
internal static class BlockedLayout
{
    /// <summary>Channel block size of the blocked layout (AVX-512: 16 floats).</summary>
    public const int BlockSize = 16;

    /// <summary>A zero-filled host tensor of logical shape (n,c,h,w) in <paramref name="layout"/> (blocked needs c divisible by 16).</summary>
    public static Tensor Allocate(int n, int c, int h, int w, TensorLayout layout)
    {
        if (layout == TensorLayout.Nchw16c && c % BlockSize != 0)
            throw new ArgumentException($"Blocked layout needs channels divisible by {BlockSize}, got {c}.");
        return new Tensor(null, [n, c, h, w], layout);
    }

    /// <summary>Offset of logical element (n,c,h,w) in a tensor of logical shape (N,C,H,W) with the given layout.</summary>
    public static int Offset(TensorLayout layout, int C, int H, int W, int n, int c, int h, int w) => layout switch
    {
        TensorLayout.Nchw => ((n * C + c) * H + h) * W + w,
        TensorLayout.Nchw16c => (((n * (C / BlockSize) + c / BlockSize) * H + h) * W + w) * BlockSize + c % BlockSize,
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };

    /// <summary>Copies host tensor <paramref name="source"/> into <paramref name="destination"/> (same logical shape) converting the layout.</summary>
    public static void Convert(Tensor source, Tensor destination)
    {
        if (!source.SameShape(destination))
            throw new ArgumentException($"Layout conversion needs equal shapes: [{source.ShapeString}] vs [{destination.ShapeString}].");
        if (source.Layout == destination.Layout)
        {
            source.Span.CopyTo(destination.Span);
            return;
        }
        int N = source.N, C = source.C, H = source.H, W = source.W, hw = H * W;
        var plain = source.Layout == TensorLayout.Nchw ? source.Data : destination.Data;
        var blocked = source.Layout == TensorLayout.Nchw ? destination.Data : source.Data;
        bool toBlocked = source.Layout == TensorLayout.Nchw;
        for (int n = 0; n < N; n++)
            for (int cb = 0; cb < C / BlockSize; cb++)
            {
                int blockBase = (n * (C / BlockSize) + cb) * hw * BlockSize;
                for (int l = 0; l < BlockSize; l++)
                {
                    int plainBase = (n * C + cb * BlockSize + l) * hw;
                    for (int p = 0; p < hw; p++)
                    {
                        if (toBlocked) blocked[blockBase + p * BlockSize + l] = plain[plainBase + p];
                        else plain[plainBase + p] = blocked[blockBase + p * BlockSize + l];
                    }
                }
            }
    }

    /// <summary>A plain-layout copy of host tensor <paramref name="source"/>.</summary>
    public static Tensor ToPlain(Tensor source)
    {
        if (source.Layout == TensorLayout.Nchw) return source.Clone();
        var t = new Tensor(source.N, source.C, source.H, source.W);
        Convert(source, t);
        return t;
    }

    /// <summary>A copy of host tensor <paramref name="source"/> in layout <paramref name="layout"/>.</summary>
    public static Tensor ToLayout(Tensor source, TensorLayout layout)
    {
        var t = Allocate(source.N, source.C, source.H, source.W, layout);
        Convert(source, t);
        return t;
    }
}
