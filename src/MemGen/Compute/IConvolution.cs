using MemGen.Tensors;

namespace MemGen.Compute;

/// <summary>The two convolution shapes the bias-free networks use.</summary>
public enum ConvolutionKind
{
    /// <summary>3×3 kernel, stride 1, zero padding 1: output H×W equals input H×W. Weights OIHW [out,in,3,3].</summary>
    Same3x3,

    /// <summary>
    /// 2×2 transposed convolution, stride 2: output is 2H×2W. Weights in PyTorch's ConvTranspose2d order
    /// IOHW [in,out,2,2]; out[n,o,2h+i,2w+j] = Σ_c in[n,c,h,w]·W[c,o,i,j].
    /// </summary>
    Transposed2x2,
}

/// <summary>The fixed problem a convolution primitive is built for. Height/Width are the input's.</summary>
/// <param name="Batch">Images per call.</param>
/// <param name="InChannels">Input channels.</param>
/// <param name="OutChannels">Output channels.</param>
/// <param name="Height">Input height.</param>
/// <param name="Width">Input width.</param>
/// <param name="Kind">Which convolution.</param>
/// <param name="SourceLayout">Layout of the input activations.</param>
/// <param name="DestinationLayout">Layout of the output activations.</param>
public sealed record ConvolutionShape(
    int Batch, int InChannels, int OutChannels, int Height, int Width, ConvolutionKind Kind,
    TensorLayout SourceLayout = TensorLayout.Nchw, TensorLayout DestinationLayout = TensorLayout.Nchw)
{
    /// <summary>Output height.</summary>
    public int OutHeight => Kind == ConvolutionKind.Same3x3 ? Height : 2 * Height;

    /// <summary>Output width.</summary>
    public int OutWidth => Kind == ConvolutionKind.Same3x3 ? Width : 2 * Width;

    /// <summary>Logical shape of the weight tensor (OIHW for Same3x3, IOHW for Transposed2x2).</summary>
    public int[] WeightShape => Kind == ConvolutionKind.Same3x3
        ? [OutChannels, InChannels, 3, 3]
        : [InChannels, OutChannels, 2, 2];

    /// <summary>Multiply-adds ×2 of one forward pass (direct algorithm), for GFLOP/s figures.</summary>
    public double ForwardFlops => Kind == ConvolutionKind.Same3x3
        ? 2.0 * Batch * OutChannels * InChannels * 9 * Height * Width
        : 2.0 * Batch * OutChannels * InChannels * 4 * Height * Width;
}

/// <summary>
/// A convolution primitive of one fixed <see cref="ConvolutionShape"/>: forward, backward-data and
/// backward-weights. Weights are always passed in plain order (see <see cref="ConvolutionKind"/>);
/// activations in the layouts named by the shape. Implementations: naive reference loops, oneDNN (CPU backend) and cuDNN (CUDA backend).
/// </summary>
public interface IConvolution : IDisposable
{
    /// <summary>The problem this primitive was built for.</summary>
    ConvolutionShape Shape { get; }

    /// <summary>dst = conv(src, weights). Overwrites dst.</summary>
    void Forward(Tensor source, Tensor weights, Tensor destination);

    /// <summary>diffSrc = conv^T(diffDst, weights): gradient with respect to the input. Overwrites diffSrc.</summary>
    void BackwardData(Tensor diffDestination, Tensor weights, Tensor diffSource);

    /// <summary>diffWeights = gradient of Σ diffDst·dst with respect to the weights. Overwrites diffWeights.</summary>
    void BackwardWeights(Tensor source, Tensor diffDestination, Tensor diffWeights);
}

/// <summary>Creates convolution primitives; the CPU backend builds on one (oneDNN, or the reference loops in tests).</summary>
public interface IConvolutionFactory
{
    /// <summary>Creates (or returns a cached) primitive for <paramref name="shape"/>.</summary>
    IConvolution Create(ConvolutionShape shape);
}
