using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using MemGen.Images;

namespace MemGen.Execution;

/// <summary>One <c>sbatch</c> of a stage, as recorded in <see cref="PlanFiles.Submissions"/>.</summary>
/// <param name="Stage">The stage submitted.</param>
/// <param name="JobId">The array's Slurm job id.</param>
/// <param name="Indices">The array indices submitted (positions of the jobs in the stage).</param>
/// <param name="Dependencies">The job or task ids it waits for (<c>afterok</c>).</param>
/// <param name="Submitted">When.</param>
public sealed record SlurmSubmission(string Stage, string JobId, IReadOnlyList<int> Indices, IReadOnlyList<string> Dependencies, DateTimeOffset Submitted)
{
    /// <summary>The <c>format</c> value of submissions.json.</summary>
    public const string Format = "memgen-slurm-submissions-v1";

    /// <summary>Every submission recorded in <paramref name="runDirectory"/>, oldest first (none if nothing was submitted).</summary>
    public static IReadOnlyList<SlurmSubmission> LoadAll(string runDirectory)
    {
        var path = PlanFiles.Submissions(runDirectory);
        if (!File.Exists(path)) return [];
        try
        {
            if (JsonNode.Parse(File.ReadAllText(path)) is not JsonObject o || o["format"]?.GetValue<string>() != Format || o["submissions"] is not JsonArray list)
                throw new InvalidDataException($"not a {Format} document");
            return [.. list.Select(s => new SlurmSubmission(
                s!["stage"]!.GetValue<string>(),
                s["job_id"]!.GetValue<string>(),
                [.. s["indices"]!.AsArray().Select(i => i!.GetValue<int>())],
                [.. s["dependencies"]!.AsArray().Select(d => d!.GetValue<string>())],
                DateTimeOffset.Parse(s["submitted"]!.GetValue<string>(), CultureInfo.InvariantCulture)))];
        }
        catch (Exception e) when (e is JsonException or InvalidDataException or IOException or InvalidOperationException or FormatException or NullReferenceException)
        {
            throw new ExecutionException($"{path} is not a readable submission record ({e.Message.Split('\n')[0].TrimEnd('.')})", e);
        }
    }

    /// <summary>Adds <paramref name="submission"/> to the record of <paramref name="runDirectory"/> (rewritten atomically).</summary>
    public static void Append(string runDirectory, SlurmSubmission submission)
    {
        ArgumentNullException.ThrowIfNull(submission);
        var all = LoadAll(runDirectory).Append(submission);
        var json = new JsonObject
        {
            ["format"] = Format,
            ["submissions"] = new JsonArray([.. all.Select(s => (JsonNode)new JsonObject
            {
                ["stage"] = s.Stage,
                ["job_id"] = s.JobId,
                ["indices"] = new JsonArray([.. s.Indices.Select(i => (JsonNode)JsonValue.Create(i))]),
                ["dependencies"] = new JsonArray([.. s.Dependencies.Select(d => (JsonNode)JsonValue.Create(d))]),
                ["submitted"] = s.Submitted.ToString("o", CultureInfo.InvariantCulture),
            })]),
        };
        AtomicFile.WriteAllText(PlanFiles.Submissions(runDirectory), json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
    }
}
