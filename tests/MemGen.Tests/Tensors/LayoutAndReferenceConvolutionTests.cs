using MemGen.Tensors;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Tensors;

public class LayoutAndReferenceConvolutionTests
{
    [Fact]
    public void BlockedRoundTripPreservesEveryElement()
    {
        var x = new Tensor(2, 32, 3, 5);
        new DeterministicRng(1).FillNormal(x.Span);
        var b = BlockedLayout.ToLayout(x, TensorLayout.Nchw16c);
        Assert.Equal(x.Data[BlockedLayout.Offset(TensorLayout.Nchw, 32, 3, 5, 1, 17, 2, 4)],
                     b.Data[BlockedLayout.Offset(TensorLayout.Nchw16c, 32, 3, 5, 1, 17, 2, 4)]);
        Assert.Equal(x.Data, BlockedLayout.ToPlain(b).Data);
    }

    [Theory]
    [InlineData(ConvolutionKind.Same3x3)]
    [InlineData(ConvolutionKind.Transposed2x2)]
    public void BackwardPassesAreAdjointsOfForward(ConvolutionKind kind)
    {
        // <dy, conv(x, w)> must equal <conv^T(dy, w), x> and <dW(x, dy), w>: both identities
        // hold exactly for a linear map and its adjoints.
        var s = new ConvolutionShape(2, 3, 4, 5, 6, kind);
        var conv = new ReferenceConvolution(s);
        var rng = new DeterministicRng(2);
        var x = new Tensor(s.Batch, s.InChannels, s.Height, s.Width);
        var w = new Tensor(s.WeightShape);
        var dy = new Tensor(s.Batch, s.OutChannels, s.OutHeight, s.OutWidth);
        rng.FillNormal(x.Span); rng.FillNormal(w.Span); rng.FillNormal(dy.Span);
        var y = dy.ZerosLike();
        var dx = x.ZerosLike();
        var dw = w.ZerosLike();
        conv.Forward(x, w, y);
        conv.BackwardData(dy, w, dx);
        conv.BackwardWeights(x, dy, dw);
        double lhs = Dot(dy, y);
        Assert.Equal(lhs, Dot(dx, x), 3);
        Assert.Equal(lhs, Dot(dw, w), 3);
    }

    [Fact]
    public void Same3x3MatchesHandComputedCorner()
    {
        var s = new ConvolutionShape(1, 1, 1, 3, 3, ConvolutionKind.Same3x3);
        var x = Tensor.FromArray([1, 2, 3, 4, 5, 6, 7, 8, 9], 1, 1, 3, 3);
        var w = Tensor.FromArray([0, 0, 0, 0, 1, 1, 0, 1, 1], 1, 1, 3, 3);
        var y = new Tensor(1, 1, 3, 3);
        new ReferenceConvolution(s).Forward(x, w, y);
        Assert.Equal(1 + 2 + 4 + 5, y.Data[0]); // top-left: kernel's lower-right 2×2 over x's top-left 2×2
        Assert.Equal(9, y.Data[8]);             // bottom-right: only the centre tap is inside
    }

    private static double Dot(Tensor a, Tensor b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a.Data[i] * b.Data[i];
        return s;
    }
}
