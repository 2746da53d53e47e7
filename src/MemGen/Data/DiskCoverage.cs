namespace MemGen.Data;

/// <summary>
/// The exact area of a disk inside an axis-aligned rectangle (a pixel), in closed form: the area is ∫ of the chord's
/// overlap with [y0, y1] over x, split where the circle crosses y0 or y1, each piece integrated with the antiderivative
/// of √(r² − t²). Rendering disks with it makes the image a smooth (C¹) function of centre and radius, so the disks
/// form a true 5-D manifold with tangents at every point (a hard edge is piecewise constant in the geometry).
/// </summary>
public static class DiskCoverage
{
    /// <summary>Area of the disk of centre (<paramref name="cx"/>, <paramref name="cy"/>) and radius <paramref name="r"/> inside [x0, x1]×[y0, y1].</summary>
    public static double Area(double cx, double cy, double r, double x0, double x1, double y0, double y1)
    {
        if (!(r > 0)) return 0;
        double a = Math.Max(x0, cx - r), b = Math.Min(x1, cx + r);
        if (!(a < b) || !(y0 < y1) || cy - r >= y1 || cy + r <= y0) return 0;
        Span<double> cuts = stackalloc double[6];
        int count = 0;
        cuts[count++] = a;
        cuts[count++] = b;
        foreach (double edge in (ReadOnlySpan<double>)[y0, y1])
        {
            double dy = edge - cy;
            if (Math.Abs(dy) >= r) continue;
            double half = Math.Sqrt(r * r - dy * dy);
            foreach (double x in (ReadOnlySpan<double>)[cx - half, cx + half])
                if (x > a && x < b) cuts[count++] = x;
        }
        var sorted = cuts[..count];
        sorted.Sort();
        double area = 0;
        for (int i = 0; i + 1 < count; i++)
        {
            double u = sorted[i], v = sorted[i + 1];
            if (!(v > u)) continue;
            // Between cuts, the chord's top is either the circle or y1 throughout, and its bottom the circle or y0.
            double mid = 0.5 * (u + v), h = HalfChord(mid - cx, r);
            double top = Math.Min(y1, cy + h), bottom = Math.Max(y0, cy - h);
            if (top <= bottom) continue;
            double chordIntegral = Antiderivative(v - cx, r) - Antiderivative(u - cx, r); // ∫ h over [u, v]
            double topIntegral = cy + h < y1 ? cy * (v - u) + chordIntegral : y1 * (v - u);
            double bottomIntegral = cy - h > y0 ? cy * (v - u) - chordIntegral : y0 * (v - u);
            area += topIntegral - bottomIntegral;
        }
        return Math.Max(0, area);
    }

    /// <summary>The fraction of the unit pixel with corner (<paramref name="x0"/>, <paramref name="y0"/>) covered by the disk of <paramref name="p"/>.</summary>
    public static double PixelFraction(DiskParameters p, int x0, int y0) =>
        Math.Clamp(Area(p.CenterX, p.CenterY, p.Radius, x0, x0 + 1, y0, y0 + 1), 0, 1);

    /// <summary>
    /// The length of the chord the disk (centre <paramref name="centre"/> across the line, <paramref name="along"/> along it,
    /// radius <paramref name="r"/>) cuts on the line at <paramref name="line"/>, within [<paramref name="lo"/>, <paramref name="hi"/>].
    /// By the divergence theorem, moving the disk by δ across such lines changes the area between two of them by δ times
    /// the difference of their chords: ∂A/∂cx = chord(x0) − chord(x1).
    /// </summary>
    public static double Chord(double line, double centre, double along, double r, double lo, double hi)
    {
        double h = HalfChord(line - centre, r);
        return Math.Max(0, Math.Min(hi, along + h) - Math.Max(lo, along - h));
    }

    /// <summary>
    /// The length of the circle (centre (<paramref name="cx"/>, <paramref name="cy"/>), radius <paramref name="r"/>) inside
    /// [x0, x1]×[y0, y1]: ∂A/∂r, since growing the radius by δ adds a band of width δ along the circle.
    /// </summary>
    public static double ArcLength(double cx, double cy, double r, double x0, double x1, double y0, double y1)
    {
        if (!(r > 0)) return 0;
        // The angles where the circle crosses the rectangle's four lines cut it into arcs wholly inside or outside.
        Span<double> angles = stackalloc double[10];
        int count = 0;
        angles[count++] = -Math.PI;
        angles[count++] = Math.PI;
        foreach (double x in (ReadOnlySpan<double>)[x0, x1])
            if (Math.Abs(x - cx) < r)
            {
                double a = Math.Acos((x - cx) / r);
                angles[count++] = a;
                angles[count++] = -a;
            }
        foreach (double y in (ReadOnlySpan<double>)[y0, y1])
            if (Math.Abs(y - cy) < r)
            {
                double a = Math.Asin((y - cy) / r);
                angles[count++] = a;
                angles[count++] = a >= 0 ? Math.PI - a : -Math.PI - a;
            }
        var sorted = angles[..count];
        sorted.Sort();
        double length = 0;
        for (int i = 0; i + 1 < count; i++)
        {
            double mid = 0.5 * (sorted[i] + sorted[i + 1]);
            double x = cx + r * Math.Cos(mid), y = cy + r * Math.Sin(mid);
            if (x > x0 && x < x1 && y > y0 && y < y1) length += r * (sorted[i + 1] - sorted[i]);
        }
        return length;
    }

    /// <summary>√(r² − t²), as √((r − t)(r + t)) to keep its precision near t = ±r.</summary>
    private static double HalfChord(double t, double r) => Math.Sqrt(Math.Max(0, (r - t) * (r + t)));

    /// <summary>∫₀ᵗ √(r² − s²) ds = ½(t·√(r² − t²) + r²·asin(t/r)), the asin as an atan2 (well conditioned near t = ±r).</summary>
    private static double Antiderivative(double t, double r)
    {
        t = Math.Clamp(t, -r, r);
        double h = HalfChord(t, r);
        return 0.5 * (t * h + r * r * Math.Atan2(t, h));
    }
}
