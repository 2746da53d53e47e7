using MemGen.Images;

namespace MemGen.Execution;

/// <summary>One stage's <c>sbatch</c>, made or (in a dry run) to be made.</summary>
/// <param name="Stage">The stage.</param>
/// <param name="Indices">The array indices submitted: the stage's jobs that are neither done nor queued.</param>
/// <param name="Dependencies">The job or task ids it waits for (afterok); in a dry run, a stage submitted in the same
/// run appears as <c>&lt;STAGE&gt;</c>.</param>
/// <param name="Options">The sbatch options before the script (<c>--array=...</c>, <c>--dependency=...</c>).</param>
/// <param name="ScriptPath">The stage's script.</param>
/// <param name="JobId">The array's Slurm job id; null in a dry run.</param>
public sealed record StageSubmission(PlanStage Stage, IReadOnlyList<int> Indices, IReadOnlyList<string> Dependencies,
    IReadOnlyList<string> Options, string ScriptPath, string? JobId)
{
    /// <summary>The command line, as a user would type it.</summary>
    public string CommandLine => ShellQuoting.Join(["sbatch", "--parsable", .. Options, ScriptPath]);
}

/// <summary>What <see cref="SlurmExecutor.Submit"/> did (or, in a dry run, would do).</summary>
/// <param name="Before">The status of the plan before submitting.</param>
/// <param name="Submissions">The stages submitted, in order (empty when every job is done or queued).</param>
/// <param name="Cancelled">Pending tasks cancelled to be submitted again (they waited on a job that failed or is resubmitted).</param>
/// <param name="Scripts">Every stage's script (path → text), written to RUN_DIR/slurm/ unless a dry run.</param>
/// <param name="DryRun">Nothing was written or submitted.</param>
public sealed record SlurmSubmitResult(PlanStatus Before, IReadOnlyList<StageSubmission> Submissions, IReadOnlyList<string> Cancelled,
    IReadOnlyDictionary<string, string> Scripts, bool DryRun);

/// <summary>
/// Submits a job plan to Slurm: one job array per stage (array index = position of the job in its stage), later stages
/// with <c>--dependency=afterok:</c> on the arrays (or the single tasks) they wait for, the scripts in RUN_DIR/slurm/
/// (<see cref="SbatchScript"/>), every submission recorded (<see cref="SlurmSubmission"/>), and returns without waiting.
/// Run again, it submits only what is neither done (marker present) nor queued: failed, cancelled or preempted jobs and
/// never-submitted ones. A pending task that waits forever (a job it depends on failed) or whose prerequisite stage is
/// being resubmitted is cancelled and submitted again with the new dependencies; running tasks are left alone.
/// </summary>
public static class SlurmExecutor
{
    /// <summary>
    /// Submits (or, with <see cref="ExecutionSettings.DryRun"/>, only plans the submission of) what is not done of
    /// <paramref name="plan"/> in the absolute <paramref name="runDirectory"/>. Throws an <see cref="InvalidSettingException"/>
    /// for bad settings, an <see cref="ExecutionException"/> (one line) for a run directory holding another plan or a
    /// failing Slurm command; stages submitted
    /// before a failure stay recorded, so running again continues from there.
    /// </summary>
    public static SlurmSubmitResult Submit(JobPlan plan, string runDirectory, ExecutionSettings settings, MemgenProgram memgen, ISlurmScheduler slurm)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(memgen);
        ArgumentNullException.ThrowIfNull(slurm);
        if (settings.Executor != ExecutorKind.Slurm) throw new ArgumentException("The settings do not select the Slurm executor.", nameof(settings));
        settings.Validate(runDirectory);
        plan.Validate();
        if (settings.DryRun) plan.CheckRecord(runDirectory);
        else plan.Record(runDirectory);

        var before = PlanStatus.Of(plan, runDirectory, slurm);
        var (planned, cancel) = Decide(before);
        var scripts = plan.Stages.ToDictionary(s => PlanFiles.Script(runDirectory, s.Name), s => SbatchScript.Render(plan, s, runDirectory, settings, memgen));
        if (settings.DryRun)
        {
            var dry = planned.Select(p => Describe(p, runDirectory, settings, p.NewStages.Select(s => $"<{s}>"), jobId: null)).ToList();
            return new SlurmSubmitResult(before, dry, [.. cancel.Select(t => t.TaskId)], scripts, DryRun: true);
        }

        Directory.CreateDirectory(PlanFiles.SlurmLogs(runDirectory));
        foreach (var (path, text) in scripts) AtomicFile.WriteAllText(path, text);
        if (cancel.Count > 0) slurm.Cancel([.. cancel.Select(t => t.TaskId)]);
        var ids = new Dictionary<string, string>();
        var done = new List<StageSubmission>();
        foreach (var p in planned)
        {
            var submission = Describe(p, runDirectory, settings, p.NewStages.Select(s => ids[s]), jobId: null);
            var id = slurm.Submit(submission.Options, submission.ScriptPath);
            ids[p.Stage.Name] = id;
            SlurmSubmission.Append(runDirectory, new SlurmSubmission(p.Stage.Name, id, p.Indices, submission.Dependencies, DateTimeOffset.UtcNow));
            done.Add(submission with { JobId = id });
        }
        return new SlurmSubmitResult(before, done, [.. cancel.Select(t => t.TaskId)], scripts, DryRun: false);
    }

    /// <summary>A stage to submit: its indices, the stages submitted in the same run it waits for, and the queued tasks it waits for.</summary>
    private sealed record PlannedSubmission(PlanStage Stage, IReadOnlyList<int> Indices, IReadOnlyList<string> NewStages, IReadOnlyList<string> QueuedTasks);

    private static (List<PlannedSubmission> Planned, List<QueuedTask> Cancel) Decide(PlanStatus status)
    {
        var planned = new List<PlannedSubmission>();
        var cancel = new List<QueuedTask>();
        var submitted = new HashSet<string>();
        var keptTasks = new Dictionary<string, List<string>>();
        foreach (var stage in status.Plan.Stages)
        {
            bool upstreamResubmitted = stage.After.Any(submitted.Contains);
            var indices = new List<int>();
            var kept = new List<string>();
            foreach (var job in status.Jobs.Where(j => j.Stage == stage))
            {
                switch (job.State)
                {
                    case JobState.Done:
                        break;
                    case JobState.Running:
                        kept.Add(job.Task!.TaskId);
                        break;
                    case JobState.Pending when job.Task!.WaitsForever || upstreamResubmitted:
                        // Its afterok can never be met (or waits on an array that will not include the new attempt).
                        cancel.Add(job.Task);
                        indices.Add(job.Index);
                        break;
                    case JobState.Pending:
                        kept.Add(job.Task.TaskId);
                        break;
                    default:
                        indices.Add(job.Index);
                        break;
                }
            }
            keptTasks[stage.Name] = kept;
            if (indices.Count == 0) continue;
            submitted.Add(stage.Name);
            planned.Add(new PlannedSubmission(stage, indices,
                [.. stage.After.Where(submitted.Contains)],
                [.. stage.After.SelectMany(a => keptTasks[a])]));
        }
        return (planned, cancel);
    }

    private static StageSubmission Describe(PlannedSubmission p, string runDirectory, ExecutionSettings settings, IEnumerable<string> newStageIds, string? jobId)
    {
        var dependencies = newStageIds.Concat(p.QueuedTasks).ToList();
        var options = new List<string> { "--array=" + SbatchScript.ArraySpec(p.Indices, settings.MaxConcurrent) };
        if (dependencies.Count > 0) options.Add("--dependency=afterok:" + string.Join(":", dependencies));
        return new StageSubmission(p.Stage, p.Indices, dependencies, options, PlanFiles.Script(runDirectory, p.Stage.Name), jobId);
    }
}
