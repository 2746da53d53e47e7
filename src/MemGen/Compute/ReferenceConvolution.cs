using MemGen.Compute.Cpu;
using MemGen.Tensors;

namespace MemGen.Compute;

/// <summary>
/// Naive-loop convolutions in float64 accumulation: slow, obviously correct, the reference every fast
/// kernel is tested against. Accepts either activation layout (converts through plain NCHW).
/// </summary>
public sealed class ReferenceConvolution(ConvolutionShape shape) : IConvolution
{
    /// <inheritdoc />
    public ConvolutionShape Shape { get; } = shape;

    /// <inheritdoc />
    public void Forward(Tensor source, Tensor weights, Tensor destination)
    {
        var s = Shape;
        var x = BlockedLayout.ToPlain(source).Data;
        var w = weights.Data;
        var y = new float[destination.Length];
        int H = s.Height, W = s.Width, OH = s.OutHeight, OW = s.OutWidth, I = s.InChannels, O = s.OutChannels;
        for (int n = 0; n < s.Batch; n++)
            for (int o = 0; o < O; o++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        double acc = 0;
                        for (int i = 0; i < I; i++)
                        {
                            if (s.Kind == ConvolutionKind.Same3x3)
                            {
                                for (int kh = 0; kh < 3; kh++)
                                    for (int kw = 0; kw < 3; kw++)
                                    {
                                        int ih = oh + kh - 1, iw = ow + kw - 1;
                                        if ((uint)ih >= (uint)H || (uint)iw >= (uint)W) continue;
                                        acc += (double)x[((n * I + i) * H + ih) * W + iw] * w[((o * I + i) * 3 + kh) * 3 + kw];
                                    }
                            }
                            else
                            {
                                int ih = oh / 2, iw = ow / 2, kh = oh % 2, kw = ow % 2;
                                acc += (double)x[((n * I + i) * H + ih) * W + iw] * w[((i * O + o) * 2 + kh) * 2 + kw];
                            }
                        }
                        y[((n * O + o) * OH + oh) * OW + ow] = (float)acc;
                    }
        StorePlain(y, destination);
    }

    /// <inheritdoc />
    public void BackwardData(Tensor diffDestination, Tensor weights, Tensor diffSource)
    {
        var s = Shape;
        var dy = BlockedLayout.ToPlain(diffDestination).Data;
        var w = weights.Data;
        var dx = new double[diffSource.Length];
        int H = s.Height, W = s.Width, OH = s.OutHeight, OW = s.OutWidth, I = s.InChannels, O = s.OutChannels;
        for (int n = 0; n < s.Batch; n++)
            for (int o = 0; o < O; o++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        double g = dy[((n * O + o) * OH + oh) * OW + ow];
                        for (int i = 0; i < I; i++)
                        {
                            if (s.Kind == ConvolutionKind.Same3x3)
                            {
                                for (int kh = 0; kh < 3; kh++)
                                    for (int kw = 0; kw < 3; kw++)
                                    {
                                        int ih = oh + kh - 1, iw = ow + kw - 1;
                                        if ((uint)ih >= (uint)H || (uint)iw >= (uint)W) continue;
                                        dx[((n * I + i) * H + ih) * W + iw] += g * w[((o * I + i) * 3 + kh) * 3 + kw];
                                    }
                            }
                            else
                            {
                                int ih = oh / 2, iw = ow / 2, kh = oh % 2, kw = ow % 2;
                                dx[((n * I + i) * H + ih) * W + iw] += g * w[((i * O + o) * 2 + kh) * 2 + kw];
                            }
                        }
                    }
        StorePlain(Array.ConvertAll(dx, v => (float)v), diffSource);
    }

    /// <inheritdoc />
    public void BackwardWeights(Tensor source, Tensor diffDestination, Tensor diffWeights)
    {
        var s = Shape;
        var x = BlockedLayout.ToPlain(source).Data;
        var dy = BlockedLayout.ToPlain(diffDestination).Data;
        var dw = new double[diffWeights.Length];
        int H = s.Height, W = s.Width, OH = s.OutHeight, OW = s.OutWidth, I = s.InChannels, O = s.OutChannels;
        for (int n = 0; n < s.Batch; n++)
            for (int o = 0; o < O; o++)
                for (int oh = 0; oh < OH; oh++)
                    for (int ow = 0; ow < OW; ow++)
                    {
                        double g = dy[((n * O + o) * OH + oh) * OW + ow];
                        for (int i = 0; i < I; i++)
                        {
                            if (s.Kind == ConvolutionKind.Same3x3)
                            {
                                for (int kh = 0; kh < 3; kh++)
                                    for (int kw = 0; kw < 3; kw++)
                                    {
                                        int ih = oh + kh - 1, iw = ow + kw - 1;
                                        if ((uint)ih >= (uint)H || (uint)iw >= (uint)W) continue;
                                        dw[((o * I + i) * 3 + kh) * 3 + kw] += g * x[((n * I + i) * H + ih) * W + iw];
                                    }
                            }
                            else
                            {
                                int ih = oh / 2, iw = ow / 2, kh = oh % 2, kw = ow % 2;
                                dw[((i * O + o) * 2 + kh) * 2 + kw] += g * x[((n * I + i) * H + ih) * W + iw];
                            }
                        }
                    }
        for (int k = 0; k < dw.Length; k++) diffWeights.Data[k] = (float)dw[k];
    }

    /// <inheritdoc />
    public void Dispose() { }

    private static void StorePlain(float[] plain, Tensor destination)
    {
        if (destination.Layout == TensorLayout.Nchw)
        {
            plain.CopyTo(destination.Data, 0);
            return;
        }
        var t = Tensor.FromArray(plain, destination.N, destination.C, destination.H, destination.W);
        BlockedLayout.Convert(t, destination);
    }
}

/// <summary>Factory for <see cref="ReferenceConvolution"/>.</summary>
public sealed class ReferenceConvolutionFactory : IConvolutionFactory
{
    /// <inheritdoc />
    public IConvolution Create(ConvolutionShape shape) => new ReferenceConvolution(shape);
}
