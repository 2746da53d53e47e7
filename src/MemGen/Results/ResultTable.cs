using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using MemGen.Images;

namespace MemGen.Results;

/// <summary>
/// One table of results, written the same way as CSV and as JSON (<c>NAME.csv</c> and <c>NAME.json</c>, one row
/// object per CSV line, same column names). Cells are numbers, strings, booleans or null. Non-finite numbers are
/// written <c>nan</c>, <c>inf</c>, <c>-inf</c> in CSV (what NumPy and pandas read back) and null in JSON (which has no
/// such values).
/// </summary>
public sealed class ResultTable
{
    private static readonly JsonSerializerOptions s_indented = new() { WriteIndented = true };
    private readonly List<object?[]> _rows = [];

    /// <summary>Creates an empty table with these columns.</summary>
    public ResultTable(IEnumerable<string> columns)
    {
        ArgumentNullException.ThrowIfNull(columns);
        Columns = [.. columns];
        if (Columns.Count == 0) throw new ArgumentException("A table needs at least one column.", nameof(columns));
        if (Columns.Distinct(StringComparer.Ordinal).Count() != Columns.Count) throw new ArgumentException("Column names must be unique.", nameof(columns));
    }

    /// <summary>The column names.</summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>Rows added so far.</summary>
    public int Count => _rows.Count;

    /// <summary>Appends a row: one cell per column, in order.</summary>
    public ResultTable Add(params object?[] cells)
    {
        ArgumentNullException.ThrowIfNull(cells);
        if (cells.Length != Columns.Count) throw new ArgumentException($"A row has {cells.Length} cells, the table {Columns.Count} columns.", nameof(cells));
        foreach (var c in cells)
        {
            if (c is not (null or string or bool or double or float or int or long or decimal))
                throw new ArgumentException($"Cell of type {c.GetType().Name} is not a number, string, boolean or null.", nameof(cells));
        }
        _rows.Add(cells);
        return this;
    }

    /// <summary>The table as CSV text (header line, then one line per row).</summary>
    public string ToCsv()
    {
        var sb = new StringBuilder(string.Join(',', Columns.Select(Quote))).Append('\n');
        foreach (var row in _rows) sb.Append(string.Join(',', row.Select(CsvCell))).Append('\n');
        return sb.ToString();
    }

    /// <summary>The rows as a JSON array of objects keyed by column name.</summary>
    public JsonArray ToJsonRows()
    {
        var rows = new JsonArray();
        foreach (var row in _rows)
        {
            var o = new JsonObject();
            for (int i = 0; i < Columns.Count; i++) o[Columns[i]] = JsonCell(row[i]);
            rows.Add(o);
        }
        return rows;
    }

    /// <summary>
    /// Writes <c>PATH.csv</c> and <c>PATH.json</c> (each atomically; <paramref name="pathWithoutExtension"/> names both); the
    /// JSON object holds <paramref name="header"/>'s keys (e.g. the settings) and the rows under <c>rows</c>.
    /// </summary>
    public void Write(string pathWithoutExtension, JsonObject? header = null)
    {
        ArgumentNullException.ThrowIfNull(pathWithoutExtension);
        AtomicFile.WriteAllText(pathWithoutExtension + ".csv", ToCsv());
        AtomicFile.WriteAllText(pathWithoutExtension + ".json", ToJson(header).ToJsonString(s_indented) + "\n");
    }

    /// <summary>Writes only the CSV file (atomically), for per-sample tables that have no use as JSON.</summary>
    public void WriteCsv(string path) => AtomicFile.WriteAllText(path, ToCsv());

    /// <summary>The JSON object <see cref="Write"/> writes: <paramref name="header"/>'s keys, then <c>columns</c> and <c>rows</c>.</summary>
    public JsonObject ToJson(JsonObject? header = null)
    {
        var json = header is null ? new JsonObject() : (JsonObject)header.DeepClone();
        json["columns"] = new JsonArray([.. Columns.Select(c => (JsonNode?)c)]);
        json["rows"] = ToJsonRows();
        return json;
    }

    /// <summary>A number as a CSV cell: shortest round-trip form, or nan / inf / -inf.</summary>
    public static string Number(double value) =>
        double.IsNaN(value) ? "nan" : double.IsPositiveInfinity(value) ? "inf" : double.IsNegativeInfinity(value) ? "-inf" : value.ToString("R", CultureInfo.InvariantCulture);

    private static string CsvCell(object? cell) => cell switch
    {
        null => "",
        string s => Quote(s),
        bool b => b ? "true" : "false",
        double d => Number(d),
        float f => float.IsFinite(f) ? f.ToString("R", CultureInfo.InvariantCulture) : Number(f),
        IFormattable n => n.ToString(null, CultureInfo.InvariantCulture),
        _ => Quote(cell.ToString() ?? ""),
    };

    private static JsonNode? JsonCell(object? cell) => cell switch
    {
        null => null,
        string s => s,
        bool b => b,
        double d => ResultJson.Finite(d),
        float f => float.IsFinite(f) ? JsonValue.Create(f) : null,
        int i => i,
        long l => l,
        decimal m => m,
        _ => cell.ToString(),
    };

    private static string Quote(string s) =>
        s.IndexOfAny([',', '"', '\n', '\r']) < 0 ? s : "\"" + s.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
