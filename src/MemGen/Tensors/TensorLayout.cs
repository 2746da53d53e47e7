namespace MemGen.Tensors;

/// <summary>Physical element order of a rank-4 activation tensor.</summary>
public enum TensorLayout
{
    /// <summary>Plain row-major N,C,H,W.</summary>
    Nchw,

    /// <summary>oneDNN's blocked nChw16c: N, C/16, H, W, 16 (channel blocks of 16 innermost).</summary>
    Nchw16c,
}

/// <summary>Conversions between plain and blocked layouts and the index arithmetic of each.</summary>
public static class TensorLayouts
{
    /// <summary>Channel block size of the blocked layout (AVX-512: 16 floats).</summary>
    public const int BlockSize = 16;

    /// <summary>Offset of logical element (n,c,h,w) in a tensor of logical shape (N,C,H,W) with the given layout.</summary>
    public static int Offset(TensorLayout layout, int C, int H, int W, int n, int c, int h, int w) => layout switch
    {
        TensorLayout.Nchw => ((n * C + c) * H + h) * W + w,
        TensorLayout.Nchw16c => (((n * (C / BlockSize) + c / BlockSize) * H + h) * W + w) * BlockSize + c % BlockSize,
        _ => throw new ArgumentOutOfRangeException(nameof(layout)),
    };

    /// <summary>Copies <paramref name="source"/> into <paramref name="destination"/> (same logical shape) converting the layout.</summary>
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

    /// <summary>A plain-layout copy of <paramref name="source"/>.</summary>
    public static Tensor ToPlain(Tensor source)
    {
        if (source.Layout == TensorLayout.Nchw) return source.Clone();
        var t = new Tensor(source.N, source.C, source.H, source.W);
        Convert(source, t);
        return t;
    }

    /// <summary>A copy of <paramref name="source"/> in layout <paramref name="layout"/>.</summary>
    public static Tensor ToLayout(Tensor source, TensorLayout layout)
    {
        var t = layout == TensorLayout.Nchw ? new Tensor(source.N, source.C, source.H, source.W) : Tensor.Blocked(source.N, source.C, source.H, source.W);
        Convert(source, t);
        return t;
    }
}
