using System.Text.Json;
using System.Text.Json.Nodes;
using MemGen.Images;
using MemGen.Runs;

namespace MemGen.Experiments.Kit;

/// <summary>
/// The folder an experiment writes into. Its <c>experiment.json</c> records which experiment with which settings it
/// holds; running the same experiment with the same settings again resumes (finished work is kept), anything else is
/// refused with a message naming the first differing setting. Every file is written atomically (temp file + rename),
/// so a killed run leaves only complete files; temp files a killed run left behind are removed when it is reopened.
/// While open it holds the <see cref="RunFolderLock"/> of the folder it writes (the whole run, or one job's unit), so a
/// second process writing the same folder is refused; dispose it when the run ends.
/// </summary>
public sealed class RunDirectory : IDisposable
{
    /// <summary>File name of the settings record.</summary>
    public const string ExperimentFile = "experiment.json";

    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };

    private readonly RunFolderLock _lock;

    private RunDirectory(string path, JsonObject identity, RunFolderLock folderLock)
    {
        Path = path;
        Identity = identity;
        _lock = folderLock;
    }

    /// <summary>The absolute path of the folder.</summary>
    public string Path { get; }

    /// <summary>The settings record (experiment.json): <c>experiment</c>, <c>preset</c> and every setting.</summary>
    public JsonObject Identity { get; }

    /// <summary>The experiment's name (the <c>experiment</c> key of <see cref="Identity"/>).</summary>
    public string Experiment => Identity["experiment"]!.GetValue<string>();

    /// <summary>
    /// Checks, without touching anything, that <paramref name="path"/> can hold the experiment <paramref name="identity"/>
    /// describes: it is missing, empty, or holds the same experiment with the same settings (the preset name is a label
    /// and may differ). Throws <see cref="InvalidSettingException"/> for setting <c>out</c> otherwise.
    /// </summary>
    public static void CheckCompatible(string path, JsonObject identity)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(identity);
        string name = identity["experiment"]?.GetValue<string>() ?? throw new ArgumentException("The identity has no 'experiment' key.", nameof(identity));
        var dir = System.IO.Path.GetFullPath(path);
        if (System.IO.File.Exists(dir)) throw new InvalidSettingException("out", $"{dir} is a file, not a directory");
        if (!Directory.Exists(dir)) return;
        var file = System.IO.Path.Combine(dir, ExperimentFile);
        if (!System.IO.File.Exists(file))
        {
            if (!RunFolderLock.IsEmpty(dir))
                throw new InvalidSettingException("out", $"{dir} is not empty and holds no {ExperimentFile}; choose a new or empty directory");
            return;
        }
        JsonObject existing;
        string thereName;
        try
        {
            (existing, thereName) = ReadIdentity(dir) ?? throw new FormatException($"{file} vanished");
        }
        catch (FormatException e)
        {
            throw new InvalidSettingException("out", e.Message, e);
        }
        if (thereName != name)
            throw new InvalidSettingException("out", $"{dir} holds a different experiment ({thereName}, not {name}); choose another directory");
        var a = (JsonObject)existing.DeepClone();
        var b = (JsonObject)identity.DeepClone();
        a.Remove("preset");
        b.Remove("preset");
        if (FirstDifference(a, b, "") is string difference)
            throw new InvalidSettingException("out", $"{dir} holds a different {name} experiment ({difference}); use the same settings to resume, or another directory");
    }

    /// <summary>
    /// The identity recorded in <paramref name="path"/>'s experiment.json and the experiment it names; null when the folder
    /// holds no such file. Throws <see cref="FormatException"/> saying what is wrong when the file cannot be read or is not
    /// an experiment file.
    /// </summary>
    public static (JsonObject Identity, string Experiment)? ReadIdentity(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var file = System.IO.Path.Combine(System.IO.Path.GetFullPath(path), ExperimentFile);
        if (!System.IO.File.Exists(file)) return null;
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(System.IO.File.ReadAllText(file));
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new FormatException($"{file} is not a readable experiment file ({e.Message.Split('\n')[0]})", e);
        }
        if (node is not JsonObject identity || identity["experiment"] is not JsonValue v || !v.TryGetValue(out string? name))
            throw new FormatException($"{file} is not an experiment file; choose another directory");
        return (identity, name);
    }

    /// <summary>
    /// Creates or reopens the run directory after <see cref="CheckCompatible"/>: creates the folder, removes temp files
    /// left by a killed run and writes experiment.json if it is not there yet. <paramref name="unit"/> is for one job of a
    /// run whose other jobs may be running at the same time (on a cluster): only temp files below that folder (relative,
    /// e.g. <c>n-10/s1</c>; "" for the top level alone) are removed then.
    /// </summary>
    public static RunDirectory Open(string path, JsonObject identity, string? unit = null)
    {
        CheckCompatible(path, identity);
        var dir = System.IO.Path.GetFullPath(path);
        var folderLock = RunFolderLock.Acquire(string.IsNullOrEmpty(unit) ? dir : System.IO.Path.Combine(dir, unit));
        try
        {
            Directory.CreateDirectory(dir);
            if (unit is null) RemoveTempFiles(dir, recursive: true);
            else if (unit.Length == 0) RemoveTempFiles(dir, recursive: false);
            else if (Directory.Exists(System.IO.Path.Combine(dir, unit))) RemoveTempFiles(System.IO.Path.Combine(dir, unit), recursive: true);
            var run = new RunDirectory(dir, (JsonObject)identity.DeepClone(), folderLock);
            if (!System.IO.File.Exists(run.File(ExperimentFile))) run.WriteJson(ExperimentFile, identity);
            return run;
        }
        catch
        {
            folderLock.Dispose();
            throw;
        }
    }

    /// <summary>Releases the folder's lock (the run ended).</summary>
    public void Dispose() => _lock.Dispose();

    /// <summary>The path of <paramref name="relative"/> (parts joined) inside the run directory; its folder is created.</summary>
    public string File(params string[] relative)
    {
        var path = System.IO.Path.Combine([Path, .. relative]);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return path;
    }

    /// <summary>The path of a sub-folder (created).</summary>
    public string Folder(params string[] relative)
    {
        var path = System.IO.Path.Combine([Path, .. relative]);
        Directory.CreateDirectory(path);
        return path;
    }

    /// <summary>Whether every file in <paramref name="relative"/> exists.</summary>
    public bool Has(params string[] relative) => relative.All(r => System.IO.File.Exists(System.IO.Path.Combine(Path, r)));

    /// <summary>Writes text atomically to <paramref name="relative"/>.</summary>
    public void WriteText(string relative, string text) => AtomicFile.WriteAllText(File(relative), text);

    /// <summary>Writes indented JSON (with a final newline) atomically to <paramref name="relative"/>.</summary>
    public void WriteJson(string relative, JsonNode json)
    {
        ArgumentNullException.ThrowIfNull(json);
        WriteText(relative, json.ToJsonString(s_indented) + "\n");
    }

    /// <summary>
    /// Removes <c>.*.tmp</c> files (<see cref="AtomicFile"/>'s temp files) a killed process left in <paramref name="dir"/>
    /// (and below it when <paramref name="recursive"/>); files of a process still alive on this machine are kept.
    /// </summary>
    public static void RemoveTempFiles(string dir, bool recursive = true) => AtomicFile.RemoveStaleTemporaries(dir, recursive);

    private static string? FirstDifference(JsonNode? a, JsonNode? b, string path)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (var key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)))
                if (FirstDifference(oa[key], ob[key], path.Length == 0 ? key : $"{path}.{key}") is string d) return d;
            return null;
        }
        string sa = a?.ToJsonString() ?? "missing", sb = b?.ToJsonString() ?? "missing";
        return sa == sb ? null : $"{path}: {sa} there, {sb} requested";
    }
}
