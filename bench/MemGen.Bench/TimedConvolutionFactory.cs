using System.Diagnostics;
using MemGen.Compute;
using MemGen.Tensors;

namespace MemGen.Bench;

/// <summary>Wraps a convolution engine and adds up the wall time spent inside its calls (for a step's time split).</summary>
public sealed class TimedConvolutionFactory(IConvolutionFactory inner) : IConvolutionFactory
{
    private long _ticks;

    /// <summary>Total time spent in convolution calls since the last <see cref="Reset"/>.</summary>
    public TimeSpan Elapsed => Stopwatch.GetElapsedTime(0, _ticks);

    /// <summary>Zeroes <see cref="Elapsed"/>.</summary>
    public void Reset() => _ticks = 0;

    /// <inheritdoc />
    public IConvolution Create(ConvolutionShape shape) => new Timed(inner.Create(shape), this);

    private sealed class Timed(IConvolution inner, TimedConvolutionFactory owner) : IConvolution
    {
        public ConvolutionShape Shape => inner.Shape;

        public void Forward(Tensor source, Tensor weights, Tensor destination)
        {
            long t0 = Stopwatch.GetTimestamp();
            inner.Forward(source, weights, destination);
            owner._ticks += Stopwatch.GetTimestamp() - t0;
        }

        public void BackwardData(Tensor diffDestination, Tensor weights, Tensor diffSource)
        {
            long t0 = Stopwatch.GetTimestamp();
            inner.BackwardData(diffDestination, weights, diffSource);
            owner._ticks += Stopwatch.GetTimestamp() - t0;
        }

        public void BackwardWeights(Tensor source, Tensor diffDestination, Tensor diffWeights)
        {
            long t0 = Stopwatch.GetTimestamp();
            inner.BackwardWeights(source, diffDestination, diffWeights);
            owner._ticks += Stopwatch.GetTimestamp() - t0;
        }

        public void Dispose() => inner.Dispose();
    }
}
