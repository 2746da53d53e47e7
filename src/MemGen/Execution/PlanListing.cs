using System.Globalization;
using System.Text;

namespace MemGen.Execution;

/// <summary>A job plan as text for a person (what <c>--dry-run</c> prints): stages, jobs, their state and exact command lines.</summary>
public static class PlanListing
{
    /// <summary>Lists <paramref name="status"/>'s plan: per stage its dependencies, per job index, id, state and command line.</summary>
    public static string Render(PlanStatus status, MemgenProgram memgen)
    {
        ArgumentNullException.ThrowIfNull(status);
        ArgumentNullException.ThrowIfNull(memgen);
        var plan = status.Plan;
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture,
            $"plan {plan.Name} in {status.RunDirectory}: {plan.Stages.Count} stage(s), {status.Jobs.Count} job(s), {status.Count(JobState.Done)} done\n");
        int idWidth = status.Jobs.Max(j => j.Job.Id.Length);
        foreach (var stage in plan.Stages)
        {
            var after = stage.After.Count > 0 ? $", after {string.Join(", ", stage.After)}" : "";
            text.Append(CultureInfo.InvariantCulture, $"stage {stage.Name} ({stage.Jobs.Count} job(s){after}):\n");
            foreach (var job in status.Jobs.Where(j => j.Stage == stage))
                text.Append(CultureInfo.InvariantCulture,
                    $"  {job.Index,3} {job.Job.Id.PadRight(idWidth)}  {StateName(job.State),-11} {ShellQuoting.Join(memgen.CommandLine(job.Job))}\n");
        }
        return text.ToString();
    }

    /// <summary>The state as a word: done, running, pending, failed, not started.</summary>
    public static string StateName(JobState state) => state switch
    {
        JobState.Done => "done",
        JobState.Running => "running",
        JobState.Pending => "pending",
        JobState.Failed => "failed",
        _ => "not started",
    };
}
