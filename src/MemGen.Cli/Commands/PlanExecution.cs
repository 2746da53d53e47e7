using System.Globalization;
using MemGen.Execution;

namespace MemGen.Cli.Commands;

/// <summary>
/// What an experiment command does with its job plan once its own settings are checked: hands it to
/// <see cref="PlanExecutor"/> (submit to Slurm, run here through the experiment's runner, or list it for --dry-run) and
/// prints what was done. Errors are the one-line "memgen COMMAND: ..." with exit code 2; an interruption exits with 130.
/// </summary>
internal static class PlanExecution
{
    /// <summary>
    /// Executes <paramref name="plan"/> in <paramref name="runDirectory"/> as <paramref name="settings"/> say; returns the
    /// exit code. <paramref name="command"/> names the command in error lines (e.g. "experiment"), <paramref name="runDirectoryLabel"/>
    /// the flag or argument that gave the run directory.
    /// </summary>
    public static int Execute(string command, JobPlan plan, string runDirectory, ExecutionSettings settings, IJobRunner localRunner,
        CancellationToken cancellation = default, ISlurmScheduler? slurm = null, MemgenProgram? memgen = null, string runDirectoryLabel = "--out")
    {
        memgen ??= MemgenProgram.Current();
        try
        {
            var result = PlanExecutor.Execute(plan, runDirectory, settings, localRunner, slurm ?? new SlurmClient(), memgen, cancellation: cancellation);
            if (result.Submitted is SlurmSubmitResult submitted)
                Console.Write(submitted.DryRun ? DryRunText(submitted, memgen) : SubmittedText(submitted));
            else if (result.Listed is PlanStatus listed)
                Console.Write(PlanListing.Render(listed, memgen));
            else if (result.Ran is LocalRunResult run)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"ran {run.Ran.Count} job(s) in {run.Elapsed.TotalSeconds:F1} s{(run.DoneEarlier.Count > 0 ? $" ({run.DoneEarlier.Count} done earlier)" : "")}"));
            return 0;
        }
        catch (InvalidSettingException e)
        {
            return CommandError.Report(command, e, new Dictionary<string, string> { ["out"] = runDirectoryLabel });
        }
        catch (ExecutionException e)
        {
            return CommandError.Report(command, e.Message);
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"memgen {command}: interrupted; run the same command again to resume.");
            return 130;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return CommandError.Report(command, $"{runDirectoryLabel}: cannot write to {runDirectory} ({e.Message})");
        }
    }

    /// <summary>What a submission did, for the terminal.</summary>
    public static string SubmittedText(SlurmSubmitResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var lines = new List<string>();
        foreach (var s in result.Submissions)
        {
            var after = s.Dependencies.Count > 0 ? $", after {string.Join(", ", s.Dependencies)}" : "";
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"submitted stage {s.Stage.Name}: Slurm job {s.JobId}, task(s) {SbatchScript.Ranges(s.Indices)} ({s.Indices.Count}){after}"));
        }
        var before = result.Before;
        if (result.Submissions.Count == 0)
            lines.Add(before.IsComplete ? "every job is done; nothing to submit" : "every job not done is queued or running; nothing to submit");
        int queued = before.Count(JobState.Running) + before.Count(JobState.Pending) - result.Cancelled.Count;
        if (before.Count(JobState.Done) > 0 || queued > 0)
            lines.Add($"{before.Count(JobState.Done)} job(s) done earlier, {queued} already queued or running (left alone)");
        if (result.Cancelled.Count > 0)
            lines.Add($"cancelled {string.Join(", ", result.Cancelled)} (they waited for a job that failed or was resubmitted) and submitted them again");
        lines.Add($"scripts and logs in {Path.Combine(before.RunDirectory, PlanFiles.SlurmFolder)}; follow with: memgen experiment status {before.RunDirectory}");
        return string.Join("\n", lines) + "\n";
    }

    /// <summary>A dry run, for the terminal: the plan, each stage's script, and the sbatch commands that would run.</summary>
    public static string DryRunText(SlurmSubmitResult result, MemgenProgram memgen)
    {
        ArgumentNullException.ThrowIfNull(result);
        var text = new List<string> { PlanListing.Render(result.Before, memgen).TrimEnd('\n') };
        foreach (var (path, script) in result.Scripts)
        {
            text.Add($"----- {path}");
            text.Add(script.TrimEnd('\n'));
        }
        text.Add("----- dry run: nothing written or submitted; would run:");
        if (result.Cancelled.Count > 0) text.Add("scancel " + string.Join(" ", result.Cancelled));
        foreach (var s in result.Submissions) text.Add(s.CommandLine);
        if (result.Submissions.Count == 0) text.Add("(nothing: every job is done, queued or running)");
        return string.Join("\n", text) + "\n";
    }
}
