namespace MemGen.Execution;

/// <summary>One job of a plan and where it stands.</summary>
/// <param name="Stage">Its stage.</param>
/// <param name="Index">Its array index (position in the stage).</param>
/// <param name="Job">The job.</param>
/// <param name="State">Where it stands.</param>
/// <param name="Task">Its task in the Slurm queue, when queued.</param>
/// <param name="Submission">The submission it is queued in, or else its latest submission; null if never submitted.</param>
/// <param name="LogPath">The log of that task, when submitted.</param>
public sealed record JobStatus(PlanStage Stage, int Index, PlannedJob Job, JobState State, QueuedTask? Task, SlurmSubmission? Submission, string? LogPath);

/// <summary>
/// Where every job of a run directory's plan stands: done from the markers in the run directory; running, pending or
/// failed from the recorded Slurm submissions and the Slurm queue (Slurm's accounting database is not needed).
/// </summary>
/// <param name="RunDirectory">The run directory.</param>
/// <param name="Plan">Its plan.</param>
/// <param name="Jobs">Every job, stage by stage.</param>
/// <param name="Submissions">The recorded submissions (none for a local run).</param>
public sealed record PlanStatus(string RunDirectory, JobPlan Plan, IReadOnlyList<JobStatus> Jobs, IReadOnlyList<SlurmSubmission> Submissions)
{
    /// <summary>
    /// Reads the status of the plan recorded in <paramref name="runDirectory"/>; asks <paramref name="slurm"/> for the
    /// queue only if something was submitted there (so a local run needs no Slurm commands).
    /// </summary>
    public static PlanStatus Read(string runDirectory, ISlurmScheduler slurm)
    {
        ArgumentNullException.ThrowIfNull(slurm);
        var plan = JobPlan.Load(runDirectory);
        return Of(plan, runDirectory, slurm);
    }

    /// <summary>The status of <paramref name="plan"/> in <paramref name="runDirectory"/> (queue asked only if something was submitted).</summary>
    public static PlanStatus Of(JobPlan plan, string runDirectory, ISlurmScheduler slurm)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(slurm);
        var submissions = SlurmSubmission.LoadAll(runDirectory);
        var queue = submissions.Count > 0 ? slurm.Queue() : [];
        return Of(plan, runDirectory, submissions, queue);
    }

    /// <summary>The status from the markers, the <paramref name="submissions"/> and the <paramref name="queue"/>.</summary>
    public static PlanStatus Of(JobPlan plan, string runDirectory, IReadOnlyList<SlurmSubmission> submissions, IReadOnlyList<QueuedTask> queue)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(submissions);
        ArgumentNullException.ThrowIfNull(queue);
        var queued = queue.Where(t => t.Index >= 0).GroupBy(t => (t.ArrayJobId, t.Index)).ToDictionary(g => g.Key, g => g.First());
        var jobs = new List<JobStatus>();
        foreach (var stage in plan.Stages)
        {
            for (int i = 0; i < stage.Jobs.Count; i++)
            {
                var job = stage.Jobs[i];
                // Newest first: a job resubmitted is judged by its latest attempt, unless an older one is still queued.
                var mine = submissions.Where(s => s.Stage == stage.Name && s.Indices.Contains(i)).Reverse().ToList();
                var inQueue = mine.Select(s => (Submission: s, Task: queued.GetValueOrDefault((s.JobId, i)))).FirstOrDefault(x => x.Task is not null);
                var submission = inQueue.Task is not null ? inQueue.Submission : mine.FirstOrDefault();
                string? log = submission is null ? null : PlanFiles.SlurmLog(runDirectory, stage.Name, i, submission.JobId);
                JobState state = job.IsDone(runDirectory) ? JobState.Done
                    : inQueue.Task is QueuedTask t ? (t.IsPending ? JobState.Pending : JobState.Running)
                    : submission is not null ? JobState.Failed
                    : JobState.NotStarted;
                jobs.Add(new JobStatus(stage, i, job, state, inQueue.Task, submission, log));
            }
        }
        return new PlanStatus(runDirectory, plan, jobs, submissions);
    }

    /// <summary>How many jobs are in <paramref name="state"/>.</summary>
    public int Count(JobState state) => Jobs.Count(j => j.State == state);

    /// <summary>Whether every job is done.</summary>
    public bool IsComplete => Jobs.All(j => j.State == JobState.Done);

    /// <summary>The last non-empty line of a log file (what a failed task said last), or null if there is none.</summary>
    public static string? LastLogLine(string? logPath)
    {
        if (logPath is null || !File.Exists(logPath)) return null;
        try
        {
            return File.ReadLines(logPath).Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
