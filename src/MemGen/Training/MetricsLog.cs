using System.Globalization;
using System.Text;
using MemGen.Data;
using MemGen.Images;

namespace MemGen.Training;

/// <summary>
/// metrics.csv of a run: a header and one row per logged step (the first column is the step). Rows are appended
/// and flushed as training goes; on resume the file is first rewritten atomically with only the rows up to the
/// checkpoint being resumed from (a row cut short by a kill is dropped), so it never holds steps twice.
/// </summary>
public sealed class MetricsLog : IDisposable
{
    private readonly StreamWriter _writer;

    private MetricsLog(string path, int columns)
    {
        Path = path;
        Columns = columns;
        _writer = new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read), new UTF8Encoding(false));
    }

    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Number of columns of each row.</summary>
    public int Columns { get; }

    /// <summary>
    /// Opens <paramref name="path"/> for appending, first keeping only the rows whose step is at most
    /// <paramref name="keepThroughStep"/> (all of them are dropped when the header differs or the file is missing).
    /// </summary>
    public static MetricsLog Open(string path, IReadOnlyList<string> header, long keepThroughStep)
    {
        var headerLine = string.Join(",", header);
        var kept = new StringBuilder().Append(headerLine).Append('\n');
        if (File.Exists(path))
        {
            var text = File.ReadAllText(path);
            var lines = text.Split('\n');
            // The last element is the text after the final newline: a row cut short by a kill, or empty.
            if (lines.Length > 1 && lines[0] == headerLine)
            {
                for (int i = 1; i < lines.Length - 1; i++)
                {
                    var cells = lines[i].Split(',');
                    if (cells.Length != header.Count) continue;
                    if (!long.TryParse(cells[0], NumberStyles.Integer, CultureInfo.InvariantCulture, out var step) || step > keepThroughStep) continue;
                    kept.Append(lines[i]).Append('\n');
                }
            }
        }
        AtomicFile.WriteAllText(path, kept.ToString());
        return new MetricsLog(path, header.Count);
    }

    /// <summary>Appends one row (numbers in invariant culture; null cells are left empty) and flushes it.</summary>
    public void Append(IReadOnlyList<object?> cells)
    {
        if (cells.Count != Columns) throw new ArgumentException($"metrics row has {cells.Count} cells, the header {Columns}.");
        var line = string.Join(",", cells.Select(c => c switch
        {
            null => "",
            double v => v.ToString("G9", CultureInfo.InvariantCulture),
            float v => v.ToString("G7", CultureInfo.InvariantCulture),
            IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
            _ => c.ToString(),
        }));
        _writer.Write(line);
        _writer.Write('\n');
        _writer.Flush();
    }

    /// <summary>Closes the file.</summary>
    public void Dispose() => _writer.Dispose();
}
