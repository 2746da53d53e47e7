using MemGen.Native;
using MemGen.Tensors;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Native;

public class OneDnnConvolutionTests
{
    private const TensorLayout P = TensorLayout.Nchw;
    private const TensorLayout B = TensorLayout.Nchw16c;

    public static TheoryData<int, int, int, int, int, ConvolutionKind, TensorLayout, TensorLayout> Shapes => new()
    {
        { 1, 1, 16, 5, 7, ConvolutionKind.Same3x3, P, B },   // first layer: 1-channel image in, blocked out
        { 3, 16, 1, 5, 7, ConvolutionKind.Same3x3, B, P },   // last layer: blocked in, 1-channel image out
        { 1, 16, 32, 5, 7, ConvolutionKind.Same3x3, B, B },
        { 3, 32, 16, 7, 5, ConvolutionKind.Same3x3, B, B },
        { 3, 16, 32, 5, 7, ConvolutionKind.Same3x3, P, P },  // multiples of 16 in plain layout
        { 1, 1, 1, 4, 4, ConvolutionKind.Same3x3, P, P },
        { 3, 3, 5, 5, 7, ConvolutionKind.Same3x3, P, P },
        { 3, 32, 16, 3, 5, ConvolutionKind.Transposed2x2, B, B },
        { 1, 16, 16, 5, 7, ConvolutionKind.Transposed2x2, P, B },
        { 3, 3, 2, 5, 7, ConvolutionKind.Transposed2x2, P, P },
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void AllThreePassesMatchTheReference(int n, int cin, int cout, int h, int w, ConvolutionKind kind, TensorLayout srcLayout, TensorLayout dstLayout) =>
        CompareWithReference(new ConvolutionShape(n, cin, cout, h, w, kind, srcLayout, dstLayout), winograd: false, 1e-4);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void WinogradPassesMatchTheReference(int n, int cin, int cout, int h, int w, ConvolutionKind kind, TensorLayout srcLayout, TensorLayout dstLayout)
    {
        // Winograd is honoured for 3×3 layers with channel counts divisible by 16 only (elsewhere it is
        // slower); its transforms amplify float32 rounding several-fold over direct (see below), hence 5×
        // the direct tolerance.
        var shape = new ConvolutionShape(n, cin, cout, h, w, kind, srcLayout, dstLayout);
        using var conv = new OneDnnConvolution(shape, winograd: true);
        bool applies = kind == ConvolutionKind.Same3x3 && cin % 16 == 0 && cout % 16 == 0;
        Assert.Equal(applies, OneDnnConvolution.WinogradApplies(shape));
        if (!applies) Assert.Equal("direct", conv.ForwardAlgorithm);
        else if (OneDnn.HasAvx512) Assert.Equal("winograd", conv.ForwardAlgorithm);
        CompareWithReference(shape, winograd: true, 5e-4);
    }

    private static void CompareWithReference(ConvolutionShape shape, bool winograd, double tolerance)
    {
        int n = shape.Batch, cin = shape.InChannels, cout = shape.OutChannels, h = shape.Height, w = shape.Width;
        TensorLayout srcLayout = shape.SourceLayout, dstLayout = shape.DestinationLayout;
        var rng = new DeterministicRng(11, cin * 100 + cout);
        var x = Random(rng, Activation(n, cin, h, w, srcLayout));
        var dy = Random(rng, Activation(n, cout, shape.OutHeight, shape.OutWidth, dstLayout));
        var wt = Random(rng, new Tensor(shape.WeightShape));

        var reference = new ReferenceConvolution(shape);
        using var conv = new OneDnnConvolution(shape, winograd);
        var (y, yRef) = (Garbage(dy.ZerosLike()), dy.ZerosLike());
        var (dx, dxRef) = (Garbage(x.ZerosLike()), x.ZerosLike());
        var (dw, dwRef) = (Garbage(wt.ZerosLike()), wt.ZerosLike());

        conv.Forward(x, wt, y);
        reference.Forward(x, wt, yRef);
        conv.BackwardData(dy, wt, dx);
        reference.BackwardData(dy, wt, dxRef);
        conv.BackwardWeights(x, dy, dw);
        reference.BackwardWeights(x, dy, dwRef);

        // Both sides hold the same layout, so elementwise comparison also checks oneDNN's layout handling.
        // Tolerance: float32 sums of at most a few hundred N(0,1) products are off from the float64
        // reference by ~sqrt(K)·2^-24·|terms| ≈ 1e-5 relative; an indexing or layout bug is off by O(1).
        AssertClose(yRef, y, tolerance, "forward");
        AssertClose(dxRef, dx, tolerance, "backward-data");
        AssertClose(dwRef, dw, tolerance, "backward-weights");
    }

    [Fact]
    public void BlockedSixtyFourChannelLayersNeedNoActivationReorders()
    {
        // The fast path: with nChw16c activations only the (plain) weights are reordered.
        using var conv = new OneDnnConvolution(new ConvolutionShape(2, 64, 64, 8, 8, ConvolutionKind.Same3x3, B, B));
        Assert.Equal(1, conv.ForwardReorders);
        Assert.Equal("direct", conv.ForwardAlgorithm);
    }

    [Fact]
    public void WinogradAgreesWithDirectWithinItsRoundingError()
    {
        var shape = new ConvolutionShape(2, 64, 64, 12, 12, ConvolutionKind.Same3x3, B, B);
        var rng = new DeterministicRng(12);
        var x = Random(rng, BlockedLayout.Allocate(2, 64, 12, 12, TensorLayout.Nchw16c));
        var dy = Random(rng, BlockedLayout.Allocate(2, 64, 12, 12, TensorLayout.Nchw16c));
        var wt = Random(rng, new Tensor(shape.WeightShape));
        using var direct = new OneDnnConvolution(shape);
        using var wino = new OneDnnConvolution(shape, winograd: true);
        if (OneDnn.HasAvx512)
        {
            // oneDNN 2.6 has f32 Winograd kernels for all three passes on AVX-512 CPUs.
            Assert.Equal("winograd", wino.ForwardAlgorithm);
            Assert.Equal("winograd", wino.BackwardDataAlgorithm);
            Assert.Equal("winograd", wino.BackwardWeightsAlgorithm);
        }
        var reference = new ReferenceConvolution(shape);
        var passes = new (string Name, Action<IConvolution, Tensor> Run, Tensor Output)[]
        {
            ("forward", (c, o) => c.Forward(x, wt, o), dy.ZerosLike()),
            ("backward-data", (c, o) => c.BackwardData(dy, wt, o), x.ZerosLike()),
            ("backward-weights", (c, o) => c.BackwardWeights(x, dy, o), wt.ZerosLike()),
        };
        foreach (var (name, run, output) in passes)
        {
            var exact = output.ZerosLike();
            var viaDirect = output.ZerosLike();
            var viaWino = output.ZerosLike();
            run(reference, exact);
            run(direct, viaDirect);
            run(wino, viaWino);
            double directError = RelativeError(exact, viaDirect);
            double winoError = RelativeError(exact, viaWino);
            // Direct float32 sums of 576 terms: ~1e-7 relative (L2). Winograd F(4,3) adds input/output
            // transforms whose coefficients (up to ~10) amplify rounding: ENGINE_NOTES measured ~3× direct.
            // 2e-5 leaves ample margin yet is 10^4 below the error of any wrong tap or channel.
            Assert.True(directError < 2e-6, $"{name}: direct relative error {directError:E2}");
            Assert.True(winoError < 2e-5, $"{name}: winograd relative error {winoError:E2} (direct {directError:E2})");
        }
    }

    [Fact]
    public void MismatchedTensorShapeRaisesClearError()
    {
        var shape = new ConvolutionShape(2, 16, 16, 5, 5, ConvolutionKind.Same3x3, B, B);
        using var conv = new OneDnnConvolution(shape);
        var wt = new Tensor(shape.WeightShape);
        var wrongSize = BlockedLayout.Allocate(2, 16, 5, 6, TensorLayout.Nchw16c);
        var e = Assert.Throws<ArgumentException>(() => conv.Forward(wrongSize, wt, BlockedLayout.Allocate(2, 16, 5, 5, TensorLayout.Nchw16c)));
        Assert.Contains("convolution forward", e.Message);
        Assert.Contains("source must be [2,16,5,5] Nchw16c, got [2,16,5,6] Nchw16c", e.Message);

        var wrongLayout = new Tensor(2, 16, 5, 5);
        e = Assert.Throws<ArgumentException>(() => conv.BackwardData(BlockedLayout.Allocate(2, 16, 5, 5, TensorLayout.Nchw16c), wt, wrongLayout));
        Assert.Contains("backward-data", e.Message);
        Assert.Contains("diffSource must be [2,16,5,5] Nchw16c, got [2,16,5,5] Nchw", e.Message);

        e = Assert.Throws<ArgumentException>(() => conv.BackwardWeights(BlockedLayout.Allocate(2, 16, 5, 5, TensorLayout.Nchw16c), BlockedLayout.Allocate(2, 16, 5, 5, TensorLayout.Nchw16c), new Tensor(16, 16, 2, 2)));
        Assert.Contains("diffWeights must be plain [16,16,3,3]", e.Message);
    }

    [Fact]
    public void BlockedLayoutWithChannelsNotDivisibleBy16IsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new OneDnnConvolution(new ConvolutionShape(1, 3, 16, 4, 4, ConvolutionKind.Same3x3, B, B)));
        Assert.Contains("divisible by 16", e.Message);
    }

    [Fact]
    public void FailedOneDnnCallRaisesExceptionNamingPrimitiveAndStatus()
    {
        // A 13-dimensional descriptor exceeds DNNL_MAX_NDIMS: oneDNN answers invalid_arguments.
        using var block = new NativeBlock(OneDnnApi.MemoryDescBytes);
        var e = Assert.Throws<OneDnnException>(() => OneDnnThread.Instance.Invoke(() =>
            OneDnn.InitMemoryDesc(block, new long[13], OneDnnApi.FormatAny, "test primitive")));
        Assert.Equal(2, e.Status);
        Assert.Equal("invalid_arguments", e.StatusName);
        Assert.Contains("test primitive", e.Message);
        Assert.Contains("dnnl_memory_desc_init_by_tag", e.Message);
    }

    [Fact]
    public void VersionIsOneDnn26AndThreadCountFollowsEnvironment()
    {
        Assert.Equal(2, OneDnn.VersionNumbers.Major);
        Assert.True(OneDnn.VersionNumbers.Minor >= 6, OneDnn.Version);
        Assert.StartsWith("2.", OneDnn.Version);
        var fromEnvironment = Environment.GetEnvironmentVariable("OMP_NUM_THREADS");
        int expected = string.IsNullOrEmpty(fromEnvironment) ? Environment.ProcessorCount : int.Parse(fromEnvironment);
        Assert.Equal(expected, OneDnn.ThreadCount);
    }

    [Fact]
    public void AllCallsRunOnOneThreadWhoeverCallsThem()
    {
        var ids = Enumerable.Range(0, 4)
            .Select(_ => Task.Run(() => OneDnnThread.Instance.Invoke(() => Environment.CurrentManagedThreadId)))
            .Select(t => t.Result).Distinct().ToArray();
        Assert.Single(ids);
        Assert.NotEqual(Environment.CurrentManagedThreadId, ids[0]);
    }

    [Fact]
    public void FactoryCachesPerShapeAndOwnsItsPrimitives()
    {
        var shape = new ConvolutionShape(1, 16, 16, 4, 4, ConvolutionKind.Same3x3, B, B);
        var factory = new OneDnnConvolutionFactory();
        var a = factory.Create(shape);
        var b = factory.Create(shape with { });
        Assert.Same(a, b);
        Assert.NotSame(a, factory.Create(shape with { Batch = 2 }));
        Assert.Equal(2, factory.CachedShapes);
        a.Dispose(); // owned by the factory: still usable
        var y = BlockedLayout.Allocate(1, 16, 4, 4, TensorLayout.Nchw16c);
        b.Forward(BlockedLayout.Allocate(1, 16, 4, 4, TensorLayout.Nchw16c), new Tensor(shape.WeightShape), y);
        factory.Dispose();
        Assert.Throws<ObjectDisposedException>(() => factory.Create(shape));
        Assert.Throws<ObjectDisposedException>(() => b.Forward(BlockedLayout.Allocate(1, 16, 4, 4, TensorLayout.Nchw16c), new Tensor(shape.WeightShape), y));
    }

    private static Tensor Activation(int n, int c, int h, int w, TensorLayout layout) =>
        layout == TensorLayout.Nchw ? new Tensor(n, c, h, w) : BlockedLayout.Allocate(n, c, h, w, TensorLayout.Nchw16c);

    private static Tensor Random(DeterministicRng rng, Tensor t)
    {
        rng.FillNormal(t.Span);
        return t;
    }

    private static Tensor Garbage(Tensor t)
    {
        t.Span.Fill(1e3f); // outputs must be overwritten, not accumulated into
        return t;
    }

    private static void AssertClose(Tensor expected, Tensor actual, double relative, string what)
    {
        Assert.Equal(expected.Layout, actual.Layout);
        double scale = 0;
        foreach (var v in expected.Data) scale = Math.Max(scale, Math.Abs(v));
        double tolerance = relative * Math.Max(scale, 1);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected.Data[i] - actual.Data[i]) <= tolerance))
                Assert.Fail($"{what}: element {i}: expected {expected.Data[i]}, got {actual.Data[i]} (tolerance {tolerance:E2})");
    }

    private static double RelativeError(Tensor expected, Tensor actual)
    {
        double num = 0, den = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = expected.Data[i] - actual.Data[i];
            num += d * d;
            den += (double)expected.Data[i] * expected.Data[i];
        }
        return Math.Sqrt(num / den);
    }
}
