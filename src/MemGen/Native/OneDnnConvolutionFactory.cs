using MemGen.Compute;

namespace MemGen.Native;

/// <summary>
/// Creates <see cref="OneDnnConvolution"/> primitives and caches one per <see cref="ConvolutionShape"/>:
/// layers of the same shape share the primitives and their buffers (calls never overlap, all run on the
/// oneDNN thread, and no state is kept between calls). The factory owns what it creates; disposing the
/// factory frees them, disposing a created convolution does nothing.
/// </summary>
internal sealed class OneDnnConvolutionFactory : IConvolutionFactory, IDisposable
{
    private readonly Dictionary<ConvolutionShape, OneDnnConvolution> _cache = [];
    private bool _disposed;

    /// <summary>Creates a factory.</summary>
    /// <param name="winograd">Use oneDNN's Winograd algorithm for 3×3 convolutions where it exists (opt-in: ~3× the rounding error of direct).</param>
    public OneDnnConvolutionFactory(bool winograd = false) => Winograd = winograd;

    /// <summary>Whether 3×3 convolutions ask for the Winograd algorithm.</summary>
    public bool Winograd { get; }

    /// <summary>Number of distinct shapes built so far.</summary>
    public int CachedShapes
    {
        get
        {
            lock (_cache) return _cache.Count;
        }
    }

    /// <inheritdoc />
    public IConvolution Create(ConvolutionShape shape) => CreateOneDnn(shape);

    /// <summary>Like <see cref="Create"/>, typed (exposes the chosen implementations).</summary>
    public OneDnnConvolution CreateOneDnn(ConvolutionShape shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        lock (_cache)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (!_cache.TryGetValue(shape, out var conv))
            {
                conv = new OneDnnConvolution(shape, Winograd, ownedByFactory: true);
                _cache.Add(shape, conv);
            }
            return conv;
        }
    }

    /// <summary>Frees every primitive this factory created.</summary>
    public void Dispose()
    {
        lock (_cache)
        {
            if (_disposed) return;
            _disposed = true;
            foreach (var conv in _cache.Values) conv.Release();
            _cache.Clear();
        }
    }
}
