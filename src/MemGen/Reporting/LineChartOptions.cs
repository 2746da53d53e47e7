namespace MemGen.Reporting;

/// <summary>Options of <see cref="VegaLiteCharts.Line"/>.</summary>
public sealed record LineChartOptions
{
    /// <summary>Field whose values get one line (and colour) each; null for a single line.</summary>
    public string? Color { get; init; }

    /// <summary>Treat the colour field as ordinal (ordered numbers such as d) rather than nominal.</summary>
    public bool ColorOrdinal { get; init; }

    /// <summary>Fixed colour domain (order of the legend) and, if given, the colours of its entries.</summary>
    public IReadOnlyList<string>? ColorDomain { get; init; }

    /// <summary>Colours of <see cref="ColorDomain"/>'s entries (CSS colours); null uses the category10 scheme.</summary>
    public IReadOnlyList<string>? ColorRange { get; init; }

    /// <summary>Field whose values get one dash pattern each (a second grouping besides colour).</summary>
    public string? StrokeDash { get; init; }

    /// <summary>Legend title of <see cref="StrokeDash"/> (default: the field name).</summary>
    public string? StrokeDashTitle { get; init; }

    /// <summary>Axis titles (default: the field names).</summary>
    public string? XTitle { get; init; }

    /// <summary>Axis titles (default: the field names).</summary>
    public string? YTitle { get; init; }

    /// <summary>Legend title (default: the colour field).</summary>
    public string? ColorTitle { get; init; }

    /// <summary>Logarithmic axes.</summary>
    public bool LogX { get; init; }

    /// <summary>Logarithmic axes.</summary>
    public bool LogY { get; init; }

    /// <summary>Base of a logarithmic x axis (10 unless given; 2 puts ticks at powers of two).</summary>
    public double LogXBase { get; init; } = 10;

    /// <summary>Symmetric-log y axis (linear near 0, logarithmic beyond; for values of both signs spanning decades).</summary>
    public bool SymLogY { get; init; }

    /// <summary>Fixed x range; null lets Vega-Lite choose.</summary>
    public (double Min, double Max)? XDomain { get; init; }

    /// <summary>Explicit x tick values (e.g. powers of two on a log₂ axis).</summary>
    public IReadOnlyList<double>? XTicks { get; init; }

    /// <summary>Fixed y range, e.g. (0, 1); null lets Vega-Lite choose.</summary>
    public (double Min, double Max)? YDomain { get; init; }

    /// <summary>Fields holding the lower and upper end of an error bar / band per point (e.g. mean ± std).</summary>
    public (string Lower, string Upper)? ErrorBand { get; init; }

    /// <summary>Draw <see cref="ErrorBand"/> as a shaded area (true) or as vertical error bars (false, default).</summary>
    public bool BandAsArea { get; init; }

    /// <summary>Dashed vertical marker lines at these x values (e.g. n = d).</summary>
    public IReadOnlyList<double> VerticalRules { get; init; } = [];

    /// <summary>Draw the identity line y = x (dotted grey) over the range of x.</summary>
    public bool Diagonal { get; init; }

    /// <summary>Draw points on the lines (default true).</summary>
    public bool Points { get; init; } = true;

    /// <summary>Draw only points, no connecting lines (scatter of every run); <see cref="MeanLine"/> can add the mean per x.</summary>
    public bool PointsOnly { get; init; }

    /// <summary>With <see cref="PointsOnly"/>: also draw the mean of y per x as a line.</summary>
    public bool MeanLine { get; init; }

    /// <summary>Field to make one small chart (panel) per value of; null for one chart.</summary>
    public string? Facet { get; init; }

    /// <summary>Title of the facet header (default: the facet field).</summary>
    public string? FacetTitle { get; init; }

    /// <summary>Order of the panels (facet values); null sorts them.</summary>
    public IReadOnlyList<string>? FacetOrder { get; init; }

    /// <summary>Panels per row of a facet chart.</summary>
    public int FacetColumns { get; init; } = 4;

    /// <summary>Give each panel its own x and y scales (default shared).</summary>
    public bool IndependentScales { get; init; }

    /// <summary>Extra tooltip fields (besides colour, x and y) with an optional d3 number format.</summary>
    public IReadOnlyList<(string Field, string? Format)> Tooltip { get; init; } = [];

    /// <summary>Chart (or panel) size in pixels.</summary>
    public int Width { get; init; } = 520;

    /// <summary>Chart (or panel) size in pixels.</summary>
    public int Height { get; init; } = 300;
}
