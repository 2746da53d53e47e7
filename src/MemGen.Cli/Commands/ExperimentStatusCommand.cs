using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MemGen.Execution;
using MemGen.Experiments.Transition;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen experiment status RUN_DIR</c>: where every job of the plan recorded in RUN_DIR/plan.json stands — done
/// (its marker exists), running or pending (Slurm queue), failed (submitted, not done, no longer queued; with its log)
/// or not started. A transition run made locally without a plan gets its jobs from its experiment.json.
/// </summary>
internal static class ExperimentStatusCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var runDir = new Argument<string>("RUN_DIR") { Description = "The run directory of an experiment (holds plan.json)." };
        var json = new Option<bool>("--json") { Description = "Print one JSON object (plan, counts, and per job: stage, index, id, state, Slurm task, log)." };
        var command = new Command("status",
            "Which jobs of an experiment are done, running, pending, failed or not started (from RUN_DIR and, after --executor slurm, squeue), " +
            "with the log of each failed task. Running the experiment command again runs or resubmits only what is not done.");
        command.Arguments.Add(runDir);
        command.Options.Add(json);
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(runDir)!;
            if (!Directory.Exists(dir)) return ExperimentCommand.Fail($"status: {dir}: no such directory");
            PlanStatus status;
            try
            {
                var full = Path.GetFullPath(dir);
                status = File.Exists(PlanFiles.Plan(full)) ? PlanStatus.Read(full, new SlurmClient()) : LocalTransitionStatus(full);
            }
            catch (ExecutionException e)
            {
                return ExperimentCommand.Fail($"status: {e.Message}");
            }
            Console.Write(parse.GetValue(json) ? ToJson(status).ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n" : Table(status));
            return 0;
        });
        return command;
    }

    /// <summary>
    /// A transition run started without a plan (a plain local run writes none): its jobs rebuilt from experiment.json,
    /// their states read from the files (a job in progress shows as not started).
    /// </summary>
    private static PlanStatus LocalTransitionStatus(string dir)
    {
        TransitionSettings settings;
        JsonObject json;
        try
        {
            (settings, json) = TransitionExperiment.ReadRecord(dir);
        }
        catch (FormatException e)
        {
            throw new ExecutionException($"{dir} holds no {PlanFiles.PlanFile}: it is not the run directory of a planned experiment, nor a transition run ({e.Message})");
        }
        var plan = TransitionPlan.Of(settings, json["preset"]?.GetValue<string>() ?? "quick", dir, exportSvg: true);
        return PlanStatus.Of(plan, dir, [], []);
    }

    private static string Counts(PlanStatus status) =>
        string.Join(", ", Enum.GetValues<JobState>().Where(s => status.Count(s) > 0).Select(s => $"{status.Count(s)} {PlanListing.StateName(s)}"));

    private static string Table(PlanStatus status)
    {
        var lines = new List<string> { $"plan {status.Plan.Name} in {status.RunDirectory}: {status.Jobs.Count} job(s): {Counts(status)}" };
        if (!File.Exists(PlanFiles.Plan(status.RunDirectory)))
            lines.Add($"(a local run without {PlanFiles.PlanFile}: the jobs are rebuilt from its settings and read from its files; one in progress shows as not started)");
        int stageWidth = Math.Max(5, status.Jobs.Max(j => j.Stage.Name.Length));
        int idWidth = Math.Max(3, status.Jobs.Max(j => j.Job.Id.Length));
        lines.Add($"{"STAGE".PadRight(stageWidth)}  {"JOB".PadRight(idWidth)}  {"STATE",-11}  SLURM TASK");
        foreach (var j in status.Jobs)
        {
            string task = j.Task?.TaskId ?? (j.Submission is null ? "" : string.Create(CultureInfo.InvariantCulture, $"{j.Submission.JobId}_{j.Index}"));
            string note = j.State == JobState.Pending && j.Task is { Reason: not "None" } t ? $" ({t.Reason})" : "";
            lines.Add($"{j.Stage.Name.PadRight(stageWidth)}  {j.Job.Id.PadRight(idWidth)}  {PlanListing.StateName(j.State),-11}  {task}{note}".TrimEnd());
        }
        var failed = status.Jobs.Where(j => j.State == JobState.Failed).ToList();
        if (failed.Count > 0)
        {
            lines.Add("failed (run the experiment command again to resubmit them):");
            foreach (var j in failed)
            {
                var last = PlanStatus.LastLogLine(j.LogPath);
                lines.Add($"  {j.Job.Id}: log {j.LogPath}{(last is null ? (File.Exists(j.LogPath) ? "" : " (not written: the task never started)") : $": {Shorten(last)}")}");
            }
        }
        if (status.Jobs.Any(j => j.Task?.WaitsForever == true))
            lines.Add("DependencyNeverSatisfied: these tasks wait for a job that failed; running the experiment command again cancels and resubmits them.");
        return string.Join("\n", lines) + "\n";
    }

    private static string Shorten(string line) => line.Length <= 160 ? line : line[..157] + "...";

    private static JsonObject ToJson(PlanStatus status) => new()
    {
        ["plan"] = status.Plan.Name,
        ["run_directory"] = status.RunDirectory,
        ["counts"] = new JsonObject([.. Enum.GetValues<JobState>().Select(s =>
            KeyValuePair.Create(PlanListing.StateName(s).Replace(' ', '_'), (JsonNode?)JsonValue.Create(status.Count(s))))]),
        ["jobs"] = new JsonArray([.. status.Jobs.Select(j => (JsonNode)new JsonObject
        {
            ["stage"] = j.Stage.Name,
            ["index"] = j.Index,
            ["id"] = j.Job.Id,
            ["state"] = PlanListing.StateName(j.State).Replace(' ', '_'),
            ["slurm_task"] = j.Task?.TaskId ?? (j.Submission is null ? null : string.Create(CultureInfo.InvariantCulture, $"{j.Submission.JobId}_{j.Index}")),
            ["reason"] = j.Task?.Reason,
            ["log"] = j.LogPath,
        })]),
    };
}
