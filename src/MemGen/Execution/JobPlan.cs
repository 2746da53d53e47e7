using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using MemGen.Images;

namespace MemGen.Execution;

/// <summary>
/// What an experiment has to run, independent of where it runs: named stages of jobs, each job an exact <c>memgen</c>
/// command line with a done marker, stages ordered by their dependencies. The local executor runs the jobs stage by
/// stage in this order; the Slurm executor submits one job array per stage, with <c>afterok</c> dependencies.
/// Recorded as <see cref="PlanFiles.Plan"/> in the run directory, where <c>memgen experiment status</c> reads it.
/// </summary>
/// <param name="Name">The experiment (e.g. <c>transition</c>); names the Slurm jobs.</param>
/// <param name="Stages">In an order where every stage comes after the stages in its <see cref="PlanStage.After"/>.</param>
public sealed partial record JobPlan(string Name, IReadOnlyList<PlanStage> Stages)
{
    /// <summary>The <c>format</c> value of plan.json.</summary>
    public const string Format = "memgen-job-plan-v1";

    /// <summary>All jobs, stage by stage.</summary>
    public IEnumerable<PlannedJob> Jobs => Stages.SelectMany(s => s.Jobs);

    /// <summary>The stage named <paramref name="name"/>.</summary>
    public PlanStage Stage(string name) =>
        Stages.FirstOrDefault(s => s.Name == name) ?? throw new ArgumentException($"The plan has no stage '{name}'.", nameof(name));

    /// <summary>
    /// The plan of jobs listed in run order with their stage names: consecutive jobs of one stage form a stage, and each
    /// stage runs after the one before it (e.g. train → measure → report).
    /// </summary>
    public static JobPlan Chain(string name, IEnumerable<(string Stage, PlannedJob Job)> jobs)
    {
        ArgumentNullException.ThrowIfNull(jobs);
        var stages = new List<PlanStage>();
        foreach (var (stage, job) in jobs)
        {
            if (stages.Count > 0 && stages[^1].Name == stage)
                stages[^1] = stages[^1] with { Jobs = [.. stages[^1].Jobs, job] };
            else
                stages.Add(new PlanStage { Name = stage, Jobs = [job], After = stages.Count > 0 ? [stages[^1].Name] : [] });
        }
        var plan = new JobPlan(name, stages);
        plan.Validate();
        return plan;
    }

    /// <summary>
    /// Checks that the plan is well formed: names and ids in the allowed alphabet, unique stage names, job ids and
    /// markers, every stage non-empty, dependencies only on earlier stages (so the order is a valid run order),
    /// relative markers inside the run directory, arguments without line breaks or NUL. A bad plan is a bug of the
    /// experiment that built it: this throws an <see cref="ArgumentException"/> naming the first problem.
    /// </summary>
    public void Validate()
    {
        if (!NamePattern().IsMatch(Name)) throw new ArgumentException($"Plan name '{Name}' is not of the form {NamePattern()}.");
        if (Stages.Count == 0) throw new ArgumentException($"Plan '{Name}' has no stages.");
        var stages = new HashSet<string>();
        var ids = new HashSet<string>();
        var markers = new HashSet<string>();
        foreach (var stage in Stages)
        {
            if (!NamePattern().IsMatch(stage.Name)) throw new ArgumentException($"Stage name '{stage.Name}' is not of the form {NamePattern()}.");
            foreach (var after in stage.After)
                if (!stages.Contains(after))
                    throw new ArgumentException($"Stage '{stage.Name}' runs after '{after}', which is not an earlier stage of the plan.");
            if (!stages.Add(stage.Name)) throw new ArgumentException($"Two stages are named '{stage.Name}'.");
            if (stage.Jobs.Count == 0) throw new ArgumentException($"Stage '{stage.Name}' has no jobs.");
            foreach (var job in stage.Jobs)
            {
                if (!NamePattern().IsMatch(job.Id)) throw new ArgumentException($"Job id '{job.Id}' is not of the form {NamePattern()}.");
                if (!ids.Add(job.Id)) throw new ArgumentException($"Two jobs have the id '{job.Id}'.");
                if (job.Arguments.Count == 0) throw new ArgumentException($"Job '{job.Id}' has no arguments.");
                if (job.Arguments.FirstOrDefault(a => a.Contains('\n') || a.Contains('\r') || a.Contains('\0')) is string bad)
                    throw new ArgumentException($"Job '{job.Id}' has an argument with a line break or NUL: '{bad.ReplaceLineEndings(" ")}'.");
                if (job.Marker.Length == 0 || job.Marker.StartsWith('/') || Path.IsPathRooted(job.Marker) || job.Marker.Contains('\\')
                    || job.Marker.Split('/').Any(part => part is "" or "." or "..") || job.Marker.Any(char.IsControl))
                    throw new ArgumentException($"Job '{job.Id}': marker '{job.Marker}' is not a relative path inside the run directory (with '/').");
                if (!markers.Add(job.Marker)) throw new ArgumentException($"Two jobs have the marker '{job.Marker}'.");
            }
        }
    }

    /// <summary>The plan as plan.json holds it.</summary>
    public JsonObject ToJson() => new()
    {
        ["format"] = Format,
        ["name"] = Name,
        ["stages"] = new JsonArray([.. Stages.Select(s => (JsonNode)new JsonObject
        {
            ["name"] = s.Name,
            ["after"] = new JsonArray([.. s.After.Select(a => (JsonNode)JsonValue.Create(a))]),
            ["jobs"] = new JsonArray([.. s.Jobs.Select(j => (JsonNode)new JsonObject
            {
                ["id"] = j.Id,
                ["marker"] = j.Marker,
                ["arguments"] = new JsonArray([.. j.Arguments.Select(a => (JsonNode)JsonValue.Create(a))]),
            })]),
        })]),
    };

    /// <summary>Reads a plan from its JSON (as written by <see cref="ToJson"/>); <see cref="InvalidDataException"/> if malformed.</summary>
    public static JobPlan FromJson(JsonNode? node)
    {
        try
        {
            if (node is not JsonObject o || o["format"]?.GetValue<string>() != Format)
                throw new InvalidDataException($"not a {Format} document");
            var plan = new JobPlan(
                Required(o, "name"),
                [.. Array(o, "stages").Select(s => new PlanStage
                {
                    Name = Required(s, "name"),
                    After = [.. Array(s, "after").Select(a => a!.GetValue<string>())],
                    Jobs = [.. Array(s, "jobs").Select(j => new PlannedJob(
                        Required(j, "id"),
                        [.. Array(j, "arguments").Select(a => a!.GetValue<string>())],
                        Required(j, "marker")))],
                })]);
            plan.Validate();
            return plan;
        }
        catch (Exception e) when (e is InvalidOperationException or FormatException or ArgumentException or NullReferenceException)
        {
            throw new InvalidDataException(e.Message, e);
        }
    }

    /// <summary>Reads <see cref="PlanFiles.Plan"/> of <paramref name="runDirectory"/>; an <see cref="ExecutionException"/> naming the file if missing or malformed.</summary>
    public static JobPlan Load(string runDirectory)
    {
        var path = PlanFiles.Plan(runDirectory);
        if (!File.Exists(path))
            throw new ExecutionException($"{runDirectory} holds no {PlanFiles.PlanFile}: it is not the run directory of a planned experiment (or nothing was planned there yet)");
        try
        {
            return FromJson(JsonNode.Parse(File.ReadAllText(path)));
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException)
        {
            throw new ExecutionException($"{path} is not a readable job plan ({e.Message.Split('\n')[0].TrimEnd('.')})", e);
        }
    }

    /// <summary>
    /// Writes the plan to <see cref="PlanFiles.Plan"/> of <paramref name="runDirectory"/> unless the very same plan is
    /// recorded there; a recorded plan with other stages, job ids or markers is refused (<see cref="CheckRecord"/>), one
    /// that differs only in the jobs' command lines (e.g. a report option) is replaced: the next submissions run the new
    /// commands.
    /// </summary>
    public void Record(string runDirectory)
    {
        if (CheckRecord(runDirectory) && Load(runDirectory).ToJson().ToJsonString() == ToJson().ToJsonString()) return;
        AtomicFile.WriteAllText(PlanFiles.Plan(runDirectory), ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }

    /// <summary>
    /// Whether <paramref name="runDirectory"/> records a plan with the same stages, job ids and markers (false: it records
    /// none). A run directory holding a different plan is refused with an <see cref="ExecutionException"/> naming the first
    /// difference, since the jobs of that plan may still be queued or running.
    /// </summary>
    public bool CheckRecord(string runDirectory)
    {
        Validate();
        if (File.Exists(runDirectory)) throw new ExecutionException($"{runDirectory} is a file, not a run directory");
        if (!File.Exists(PlanFiles.Plan(runDirectory))) return false;
        var recorded = Load(runDirectory);
        if (FirstDifference(recorded, this) is string difference)
            throw new ExecutionException($"{runDirectory} holds a different job plan ({difference}); use the same settings to resume, or another directory");
        return true;
    }

    /// <summary>The first difference between two plans in stages, job ids or markers, in words; null if they have the same structure.</summary>
    internal static string? FirstDifference(JobPlan there, JobPlan here)
    {
        if (there.Name != here.Name) return $"it is a plan of '{there.Name}', not '{here.Name}'";
        var thereJobs = there.Stages.SelectMany(s => s.Jobs.Select(j => (Stage: s, Job: j))).ToDictionary(x => x.Job.Id);
        foreach (var stage in here.Stages)
            foreach (var job in stage.Jobs)
            {
                if (!thereJobs.TryGetValue(job.Id, out var old)) return $"job {job.Id} is not in the recorded plan";
                if (old.Stage.Name != stage.Name) return $"job {job.Id} is in stage {old.Stage.Name} there, {stage.Name} here";
                if (old.Job.Marker != job.Marker) return $"job {job.Id} marks its end with {old.Job.Marker} there, {job.Marker} here";
            }
        if (thereJobs.Keys.FirstOrDefault(id => !here.Jobs.Any(j => j.Id == id)) is string gone) return $"job {gone} of the recorded plan is not planned now";
        static string Shape(JobPlan p) => string.Join(";", p.Stages.Select(s => $"{s.Name}<{string.Join(",", s.After)}>:{string.Join(",", s.Jobs.Select(j => j.Id))}"));
        return Shape(there) == Shape(here) ? null : "the stages, their order or their dependencies differ";
    }

    private static string Required(JsonNode? o, string key) =>
        o?[key]?.GetValue<string>() ?? throw new InvalidDataException($"'{key}' is missing");

    private static JsonArray Array(JsonNode? o, string key) =>
        o?[key] as JsonArray ?? throw new InvalidDataException($"'{key}' is missing or not an array");

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex NamePattern();
}
