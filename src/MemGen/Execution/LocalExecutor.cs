using System.Diagnostics;

namespace MemGen.Execution;

/// <summary>A job the local executor is about to run.</summary>
/// <param name="Job">The job.</param>
/// <param name="Stage">Its stage.</param>
/// <param name="Position">How many jobs of the plan come before it (0-based).</param>
/// <param name="Count">Jobs in the plan.</param>
public sealed record LocalJobProgress(PlannedJob Job, PlanStage Stage, int Position, int Count);

/// <summary>What <see cref="LocalExecutor.Run"/> did.</summary>
/// <param name="Ran">Ids of the jobs run now, in order.</param>
/// <param name="DoneEarlier">Ids of the jobs whose marker existed already (skipped).</param>
/// <param name="Elapsed">Wall time.</param>
public sealed record LocalRunResult(IReadOnlyList<string> Ran, IReadOnlyList<string> DoneEarlier, TimeSpan Elapsed);

/// <summary>
/// Runs a job plan here: stage after stage in the plan's order, the jobs of a stage one after another in index order,
/// each through an <see cref="IJobRunner"/> (e.g. <see cref="ChildProcessJobRunner"/>, the same memgen command line a
/// Slurm task runs). A job whose marker exists is skipped, so running again resumes. A job that fails, or exits without
/// writing its marker, stops the run with an <see cref="ExecutionException"/> naming it (and its log).
/// </summary>
public static class LocalExecutor
{
    /// <summary>Runs what is not done of <paramref name="plan"/> in <paramref name="runDirectory"/> (recording the plan there).</summary>
    public static LocalRunResult Run(JobPlan plan, string runDirectory, IJobRunner runner,
        IProgress<LocalJobProgress>? progress = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(runner);
        var clock = Stopwatch.StartNew();
        plan.Record(runDirectory);
        var ran = new List<string>();
        var earlier = new List<string>();
        int position = 0, count = plan.Jobs.Count();
        foreach (var stage in plan.Stages)
        {
            foreach (var job in stage.Jobs)
            {
                cancellation.ThrowIfCancellationRequested();
                if (job.IsDone(runDirectory))
                {
                    earlier.Add(job.Id);
                    position++;
                    continue;
                }
                progress?.Report(new LocalJobProgress(job, stage, position++, count));
                int code = runner.Run(job, runDirectory, cancellation);
                var log = runner.LogPath(job, runDirectory);
                string where = log is null ? "" : $"; its output is in {log}";
                if (code != 0) throw new ExecutionException($"job {job.Id} failed (exit code {code}){where}");
                if (!job.IsDone(runDirectory)) throw new ExecutionException($"job {job.Id} finished without writing {job.Marker}{where}");
                ran.Add(job.Id);
            }
        }
        return new LocalRunResult(ran, earlier, clock.Elapsed);
    }
}
