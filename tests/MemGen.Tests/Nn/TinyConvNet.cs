using MemGen.Nn;
using MemGen.Tensors;
using MemGen.Compute;
using MemGen.Compute.Cpu;

namespace MemGen.Tests.Nn;

/// <summary>
/// A small legitimate <see cref="DenoisingNetwork"/> for tests that must not depend on the real networks:
/// conv(C→K) + ReLU + conv(K→C), no biases (bfcnn:layers=2,width=K). It also keeps a running RMS of the hidden
/// activations as a buffer (updated like batch norm's running sd in training, unused in the output) so that
/// checkpoints and resume exercise buffers.
/// </summary>
internal sealed class TinyConvNet : DenoisingNetwork
{
    private readonly ComputeBackend _backend;
    private readonly Parameter _w0, _w1;
    private readonly NamedTensor _runningRms;
    private readonly Dictionary<(int N, int H, int W), (IConvolution First, IConvolution Second)> _primitives = [];
    private Tensor? _input, _hidden, _activation, _output, _gradActivation, _gradHidden;

    public TinyConvNet(int channels, int width, ComputeBackend convolutions, long seed)
    {
        Channels = channels;
        Spec = new NetworkSpec(NetworkArchitecture.BfCnn, 2, width);
        _backend = convolutions;
        var rng = new DeterministicRng(seed, 0);
        _w0 = new Parameter("layers.0.conv.weight", Kaiming(rng, width, channels));
        _w1 = new Parameter("layers.1.conv.weight", Kaiming(rng, channels, width));
        var rms = new Tensor(width);
        rms.Span.Fill(1f);
        _runningRms = new NamedTensor("layers.0.running_rms", rms);
        Parameters = [_w0, _w1];
        Buffers = [_runningRms];
    }

    public override ComputeBackend Backend => _backend;

    public override NetworkSpec Spec { get; }

    public override int Channels { get; }

    public override IReadOnlyList<Parameter> Parameters { get; }

    public override IReadOnlyList<NamedTensor> Buffers { get; }

    public override Tensor Forward(Tensor noisy, bool training)
    {
        var (first, second) = Primitives(noisy.N, noisy.H, noisy.W);
        int k = Spec.Width;
        if (_hidden is null || _hidden.N != noisy.N || _hidden.H != noisy.H || _hidden.W != noisy.W)
        {
            _hidden = new Tensor(noisy.N, k, noisy.H, noisy.W);
            _activation = _hidden.ZerosLike();
            _gradActivation = _hidden.ZerosLike();
            _gradHidden = _hidden.ZerosLike();
            _output = noisy.ZerosLike();
        }
        first.Forward(noisy, _w0.Value, _hidden);
        var h = _hidden.Span;
        var a = _activation!.Span;
        for (int i = 0; i < h.Length; i++) a[i] = Math.Max(h[i], 0f);
        second.Forward(_activation, _w1.Value, _output!);
        if (training)
        {
            _input = noisy;
            int hw = noisy.H * noisy.W;
            var rms = _runningRms.Value.Span;
            for (int c = 0; c < k; c++)
            {
                double sum = 0;
                for (int n = 0; n < noisy.N; n++)
                    foreach (var v in h.Slice((n * k + c) * hw, hw)) sum += (double)v * v;
                rms[c] = 0.9f * rms[c] + 0.1f * (float)Math.Sqrt(sum / (noisy.N * hw));
            }
        }
        return _output!;
    }

    public override void Backward(Tensor gradResidual, Tensor? gradInput = null)
    {
        var input = _input ?? throw new InvalidOperationException("Backward needs a training Forward first.");
        var (first, second) = Primitives(input.N, input.H, input.W);
        second.BackwardWeights(_activation!, gradResidual, _w1.Gradient);
        second.BackwardData(gradResidual, _w1.Value, _gradActivation!);
        var h = _hidden!.Span;
        var ga = _gradActivation!.Span;
        var gh = _gradHidden!.Span;
        for (int i = 0; i < h.Length; i++) gh[i] = h[i] > 0 ? ga[i] : 0f;
        first.BackwardWeights(input, _gradHidden, _w0.Gradient);
        if (gradInput is not null) first.BackwardData(_gradHidden, _w0.Value, gradInput);
    }

    protected override void Dispose(bool disposing)
    {
        foreach (var (a, b) in _primitives.Values)
        {
            a.Dispose();
            b.Dispose();
        }
        _primitives.Clear();
    }

    private (IConvolution First, IConvolution Second) Primitives(int n, int h, int w)
    {
        if (!_primitives.TryGetValue((n, h, w), out var p))
        {
            p = (_backend.Convolution(new ConvolutionShape(n, Channels, Spec.Width, h, w, ConvolutionKind.Same3x3)),
                 _backend.Convolution(new ConvolutionShape(n, Spec.Width, Channels, h, w, ConvolutionKind.Same3x3)));
            _primitives[(n, h, w)] = p;
        }
        return p;
    }

    private static Tensor Kaiming(DeterministicRng rng, int outChannels, int inChannels)
    {
        var t = new Tensor(outChannels, inChannels, 3, 3);
        rng.FillNormal(t.Span, 0f, (float)Math.Sqrt(2.0 / (inChannels * 9)));
        return t;
    }
}
