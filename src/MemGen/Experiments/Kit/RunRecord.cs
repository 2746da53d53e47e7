using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using MemGen.Training;

namespace MemGen.Experiments.Kit;

/// <summary>
/// "What was run": every invocation (session) of an experiment in its run directory — when it started, how long it
/// ran, the command line, the MemGen version, host, cores and engine threads — kept in <c>run.json</c> across resumes,
/// so a report of a resumed run states the total time, not just the last session's.
/// </summary>
public sealed class RunRecord
{
    /// <summary>File name of the record in the run directory.</summary>
    public const string FileName = "run.json";

    private readonly RunDirectory _run;
    private readonly JsonArray _sessions;
    private readonly JsonObject _current;
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    private RunRecord(RunDirectory run, JsonArray sessions, JsonObject current)
    {
        _run = run;
        _sessions = sessions;
        _current = current;
    }

    /// <summary>When this session started.</summary>
    public DateTimeOffset Started { get; } = DateTimeOffset.UtcNow;

    /// <summary>Wall time of this session so far.</summary>
    public TimeSpan Elapsed => _clock.Elapsed;

    /// <summary>Sessions recorded before this one.</summary>
    public int EarlierSessions => _sessions.Count - 1;

    /// <summary>Wall time of all sessions, this one up to now included.</summary>
    public TimeSpan Total => TimeSpan.FromSeconds(_sessions.Take(_sessions.Count - 1).Sum(s => s?["duration_s"]?.GetValue<double>() ?? 0) + Elapsed.TotalSeconds);

    /// <summary>Starts a session: reads the sessions recorded in <paramref name="run"/> and appends this one.</summary>
    public static RunRecord Begin(RunDirectory run)
    {
        ArgumentNullException.ThrowIfNull(run);
        var sessions = new JsonArray();
        var path = Path.Combine(run.Path, FileName);
        if (File.Exists(path))
        {
            try
            {
                if (JsonNode.Parse(File.ReadAllText(path))?["sessions"] is JsonArray old) sessions = (JsonArray)old.DeepClone();
            }
            catch (Exception e) when (e is JsonException or IOException)
            {
                // An unreadable record loses the history of earlier sessions, not the results.
            }
        }
        var current = new JsonObject
        {
            ["started_utc"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
            ["duration_s"] = 0.0,
            ["finished"] = false,
            ["command_line"] = string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            ["memgen_version"] = MemGenInfo.Version,
            ["dotnet"] = Environment.Version.ToString(),
            ["os"] = RuntimeInformation.OSDescription,
            ["host"] = Environment.MachineName,
            ["cores"] = Environment.ProcessorCount,
            ["engine_threads"] = RunConfigFile.CurrentEngineThreads,
        };
        sessions.Add(current);
        var record = new RunRecord(run, sessions, current);
        record.Save();
        return record;
    }

    /// <summary>Marks this session finished and writes run.json.</summary>
    public void Finish()
    {
        _current["finished"] = true;
        Save();
    }

    /// <summary>The environment lines of the report's "what was run" table.</summary>
    public IReadOnlyDictionary<string, string> Describe()
    {
        var lines = new Dictionary<string, string>
        {
            ["memgen"] = MemGenInfo.Version,
            [".NET"] = Environment.Version.ToString(),
            ["os"] = RuntimeInformation.OSDescription,
            ["cores / engine threads"] = string.Create(CultureInfo.InvariantCulture, $"{Environment.ProcessorCount} / {RunConfigFile.CurrentEngineThreads}"),
            ["command line"] = string.Join(' ', Environment.GetCommandLineArgs().Skip(1)),
            ["started (UTC)"] = _sessions[0]?["started_utc"]?.GetValue<string>()?.Replace('T', ' ').TrimEnd('Z') ?? "",
            ["duration"] = EarlierSessions == 0
                ? string.Create(CultureInfo.InvariantCulture, $"{Total.TotalSeconds:F1} s")
                : string.Create(CultureInfo.InvariantCulture, $"{Total.TotalSeconds:F1} s in {EarlierSessions + 1} sessions (this one {Elapsed.TotalSeconds:F1} s; every session in {FileName})"),
        };
        return lines;
    }

    private void Save()
    {
        _current["duration_s"] = Math.Round(Elapsed.TotalSeconds, 3);
        _run.WriteJson(FileName, new JsonObject { ["sessions"] = _sessions.DeepClone() });
    }
}
