namespace MemGen.Reporting;

/// <summary>
/// Options of <see cref="VegaLiteCharts.Histogram"/>: rows hold pre-computed bins (<see cref="Lower"/>, <see cref="Upper"/>,
/// <see cref="Fraction"/>), one group of bars per value of <see cref="Group"/>, overlaid (not stacked), bars from 0.
/// </summary>
public sealed record HistogramChartOptions
{
    /// <summary>Field of a bin's lower end.</summary>
    public string Lower { get; init; } = "lo";

    /// <summary>Field of a bin's upper end.</summary>
    public string Upper { get; init; } = "hi";

    /// <summary>Field of the bin's height (fraction or count).</summary>
    public string Fraction { get; init; } = "fraction";

    /// <summary>Field naming the distribution a bin belongs to (one colour each).</summary>
    public string Group { get; init; } = "group";

    /// <summary>Legend order of the groups and their colours (CSS colours; null: category10).</summary>
    public IReadOnlyList<string>? GroupDomain { get; init; }

    /// <summary>Colours of <see cref="GroupDomain"/>'s entries.</summary>
    public IReadOnlyList<string>? GroupRange { get; init; }

    /// <summary>Field to make one row of bars per value of (e.g. N); null for one chart.</summary>
    public string? FacetRow { get; init; }

    /// <summary>Title of the facet header.</summary>
    public string? FacetTitle { get; init; }

    /// <summary>Titles of the axes.</summary>
    public string XTitle { get; init; } = "value";

    /// <summary>Titles of the axes.</summary>
    public string YTitle { get; init; } = "fraction";

    /// <summary>Fixed x range.</summary>
    public (double Min, double Max)? XDomain { get; init; }

    /// <summary>Panel size in pixels.</summary>
    public int Width { get; init; } = 520;

    /// <summary>Panel size in pixels.</summary>
    public int Height { get; init; } = 110;
}
