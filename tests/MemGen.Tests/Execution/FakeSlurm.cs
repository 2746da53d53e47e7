using System.Globalization;
using MemGen.Execution;

namespace MemGen.Tests.Execution;

/// <summary>
/// An in-memory Slurm for the executor's unit tests: sbatch queues one PENDING task per array index, scancel removes
/// tasks, and the test moves tasks along (start, finish with or without the job's marker, fail).
/// </summary>
internal sealed class FakeSlurm : ISlurmScheduler
{
    private int _nextId = 100;

    public List<(IReadOnlyList<string> Options, string Script, string JobId)> Submitted { get; } = [];

    public List<QueuedTask> Tasks { get; } = [];

    public List<string> Cancelled { get; } = [];

    public int QueueCalls { get; private set; }

    public string Submit(IReadOnlyList<string> options, string scriptPath)
    {
        var id = (_nextId++).ToString(CultureInfo.InvariantCulture);
        var array = options.Single(o => o.StartsWith("--array=", StringComparison.Ordinal))["--array=".Length..].Split('%')[0];
        bool waits = options.Any(o => o.StartsWith("--dependency=", StringComparison.Ordinal));
        foreach (var index in ParseRanges(array))
            Tasks.Add(new QueuedTask(id, index, "PENDING", waits ? "Dependency" : "None"));
        Submitted.Add((options, scriptPath, id));
        return id;
    }

    public IReadOnlyList<QueuedTask> Queue()
    {
        QueueCalls++;
        return [.. Tasks];
    }

    public void Cancel(IReadOnlyList<string> taskIds)
    {
        Cancelled.AddRange(taskIds);
        Tasks.RemoveAll(t => taskIds.Contains(t.TaskId));
    }

    public void Start(string jobId, int index) => Replace(jobId, index, t => t with { State = "RUNNING", Reason = "None" });

    public void WaitForever(string jobId, int index) => Replace(jobId, index, t => t with { Reason = "DependencyNeverSatisfied" });

    /// <summary>The task leaves the queue; with <paramref name="marker"/> it wrote its marker (success).</summary>
    public void Finish(string jobId, int index, string? marker)
    {
        Tasks.RemoveAll(t => t.ArrayJobId == jobId && t.Index == index);
        if (marker is null) return;
        Directory.CreateDirectory(Path.GetDirectoryName(marker)!);
        File.WriteAllText(marker, "done");
    }

    private void Replace(string jobId, int index, Func<QueuedTask, QueuedTask> change)
    {
        int at = Tasks.FindIndex(t => t.ArrayJobId == jobId && t.Index == index);
        Assert.True(at >= 0, $"task {jobId}_{index} is not queued");
        Tasks[at] = change(Tasks[at]);
    }

    private static IEnumerable<int> ParseRanges(string spec)
    {
        foreach (var part in spec.Split(','))
        {
            var ends = part.Split('-').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
            for (int i = ends[0]; i <= ends[^1]; i++) yield return i;
        }
    }
}
