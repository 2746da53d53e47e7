using System.Text.Json.Nodes;
using MemGen.Results;
using MemGen.Tests.Data;

namespace MemGen.Tests.Results;

public class ResultTableTests
{
    [Fact]
    public void CsvAndJsonHoldTheSameRowsWithOneNumberFormat()
    {
        var table = new ResultTable(["n", "name", "value", "flag", "missing"]);
        table.Add(1, "plain", 0.1, true, null);
        table.Add(2L, "with, comma and \"quote\"", double.NaN, false, null);
        table.Add(3, "inf", double.PositiveInfinity, false, double.NegativeInfinity);
        var lines = table.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("n,name,value,flag,missing", lines[0]);
        Assert.Equal("1,plain,0.1,true,", lines[1]);
        Assert.Equal("2,\"with, comma and \"\"quote\"\"\",nan,false,", lines[2]);
        Assert.Equal("3,inf,inf,false,-inf", lines[3]);

        var rows = table.ToJsonRows();
        Assert.Equal(3, rows.Count);
        Assert.Equal(0.1, (double)rows[0]!["value"]!);
        Assert.Null(rows[1]!["value"]); // JSON has no NaN
        Assert.Null(rows[2]!["missing"]);
        Assert.Equal("with, comma and \"quote\"", (string)rows[1]!["name"]!);
        Assert.True((bool)rows[0]!["flag"]!);
    }

    [Fact]
    public void ShortestRoundTripNumbersReadBackExactly()
    {
        var values = new[] { Math.PI, 1e-300, -2.5e17, 1.0 / 3 };
        var table = new ResultTable(["x"]);
        foreach (var v in values) table.Add(v);
        var back = table.ToCsv().Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1)
            .Select(s => double.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        Assert.Equal(values, back);
    }

    [Fact]
    public void WritesBothFilesWithTheHeaderKeys()
    {
        using var dir = new TempFolder();
        var table = new ResultTable(["a"]).Add(1);
        table.Write(Path.Combine(dir.Path, "t"), new JsonObject { ["config"] = new JsonObject { ["seed"] = 3 } });
        Assert.Equal("a\n1\n", File.ReadAllText(Path.Combine(dir.Path, "t.csv")));
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "t.json")))!;
        Assert.Equal(3, (int)json["config"]!["seed"]!);
        Assert.Equal("a", (string)json["columns"]![0]!);
        Assert.Equal(1, (int)json["rows"]![0]!["a"]!);
    }

    [Fact]
    public void RejectsRowsOfTheWrongLengthAndCellsThatAreNotValues()
    {
        var table = new ResultTable(["a", "b"]);
        Assert.Throws<ArgumentException>(() => table.Add(1));
        Assert.Throws<ArgumentException>(() => table.Add(1, new object()));
        Assert.Throws<ArgumentException>(() => new ResultTable(["a", "a"]));
        Assert.Equal(0, table.Count);
    }
}
