namespace MemGen;

/// <summary>
/// An <see cref="IProgress{T}"/> that calls back on the reporting thread, at once (unlike <see cref="Progress{T}"/>,
/// which posts to a synchronization context and may reorder or delay reports).
/// </summary>
public sealed class SynchronousProgress<T>(Action<T> report) : IProgress<T>
{
    /// <inheritdoc/>
    public void Report(T value) => report(value);
}
