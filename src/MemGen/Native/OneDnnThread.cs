using System.Runtime.ExceptionServices;

namespace MemGen.Native;

/// <summary>
/// The one thread every oneDNN call runs on. libgomp gives each OS thread that enters a parallel
/// region its own team of worker threads, so calls from several .NET threads (xunit, thread-pool
/// continuations) would create several teams fighting over the cores. Work submitted from any other
/// thread is handed over and the caller blocks until it is done; calls already on this thread run inline.
/// </summary>
internal sealed class OneDnnThread
{
    private readonly Thread _thread;
    private readonly Queue<WorkItem> _queue = new();
    private readonly SemaphoreSlim _available = new(0);

    [ThreadStatic] private static ManualResetEventSlim? t_done;

    private OneDnnThread()
    {
        _thread = new Thread(Loop) { IsBackground = true, Name = "oneDNN" };
        _thread.Start();
    }

    /// <summary>The process-wide instance (started on first use).</summary>
    public static OneDnnThread Instance { get; } = new();

    /// <summary>True when the caller is already the oneDNN thread.</summary>
    public bool IsCurrent => Thread.CurrentThread == _thread;

    /// <summary>Runs <paramref name="work"/> on the oneDNN thread and returns its result (exceptions are rethrown here).</summary>
    public T Invoke<T>(Func<T> work)
    {
        if (IsCurrent) return work();
        T result = default!;
        Invoke(() => { result = work(); });
        return result;
    }

    /// <summary>Runs <paramref name="work"/> on the oneDNN thread and waits for it (exceptions are rethrown here).</summary>
    public void Invoke(Action work)
    {
        if (IsCurrent)
        {
            work();
            return;
        }
        var done = t_done ??= new ManualResetEventSlim(false, spinCount: 20);
        done.Reset();
        var item = new WorkItem(work, done);
        lock (_queue) _queue.Enqueue(item);
        _available.Release();
        done.Wait();
        item.Error?.Throw();
    }

    private void Loop()
    {
        while (true)
        {
            _available.Wait();
            WorkItem item;
            lock (_queue) item = _queue.Dequeue();
            try
            {
                item.Work();
            }
            catch (Exception e)
            {
                item.Error = ExceptionDispatchInfo.Capture(e);
            }
            item.Done.Set();
        }
    }

    private sealed class WorkItem(Action work, ManualResetEventSlim done)
    {
        public Action Work { get; } = work;
        public ManualResetEventSlim Done { get; } = done;
        public ExceptionDispatchInfo? Error { get; set; }
    }
}
