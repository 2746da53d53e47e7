namespace MemGen.Images;

/// <summary>A composed grid image: C×H×W float pixels in [0,1].</summary>
/// <param name="Pixels">Channel-planar pixels.</param>
/// <param name="Channels">1 (gray) or the images' channel count.</param>
/// <param name="Height">Grid height in pixels.</param>
/// <param name="Width">Grid width in pixels.</param>
public sealed record GridImage(float[] Pixels, int Channels, int Height, int Width);

/// <summary>
/// Lays images out in a grid for reports: white padding between tiles, optional nearest-neighbour zoom, and
/// optional row labels (a caption strip on the left), column labels (a strip on top) and a title line above them, drawn in black with a
/// built-in 3×5 pixel font (digits, letters, <c>. , - + = : / _ ( ) % #</c>; other characters show as '?'), scaled ×2.
/// </summary>
public static class ImageGrid
{
    private const int GlyphWidth = 3, GlyphHeight = 5, TextScale = 2;

    /// <summary>
    /// Composes <paramref name="images"/> (each of <paramref name="shape"/>, values mapped from
    /// [<paramref name="lo"/>, <paramref name="hi"/>] to [0,1] and clamped) row by row into a grid of
    /// <paramref name="columns"/> columns. Row label r is drawn left of row r; column label c above column c.
    /// </summary>
    public static GridImage Compose(IReadOnlyList<ReadOnlyMemory<float>> images, ImageShape shape, int columns,
        IReadOnlyList<string>? rowLabels = null, int padding = 2, int zoom = 1, float lo = 0f, float hi = 1f,
        IReadOnlyList<string>? columnLabels = null, string? title = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (columns < 1) throw new ArgumentOutOfRangeException(nameof(columns), "A grid needs at least one column.");
        if (padding < 0) throw new ArgumentOutOfRangeException(nameof(padding));
        if (zoom < 1) throw new ArgumentOutOfRangeException(nameof(zoom));
        if (!(hi > lo)) throw new ArgumentException($"Value range [{lo}, {hi}] is empty.");
        if (shape.Channels is not (1 or 3 or 4)) throw new ArgumentException($"Grid images need 1, 3 or 4 channels, got {shape.Channels}.");
        int count = images.Count;
        int rows = Math.Max(1, (count + columns - 1) / columns);
        int cols = Math.Min(columns, Math.Max(count, 1));
        int tileH = shape.Height * zoom, tileW = shape.Width * zoom;
        int labelW = rowLabels is { Count: > 0 } ? rowLabels.Max(l => l.Length) * (GlyphWidth + 1) * TextScale + padding : 0;
        int titleH = string.IsNullOrEmpty(title) ? 0 : (GlyphHeight + 1) * TextScale + padding;
        int labelH = titleH + (columnLabels is { Count: > 0 } ? (GlyphHeight + 1) * TextScale + padding : 0);
        int width = Math.Max(labelW + padding + cols * (tileW + padding), string.IsNullOrEmpty(title) ? 0 : 2 * padding + title.Length * (GlyphWidth + 1) * TextScale);
        int height = labelH + padding + rows * (tileH + padding);
        int channels = shape.Channels == 4 ? 3 : shape.Channels;
        var pixels = new float[channels * height * width];
        pixels.AsSpan().Fill(1f);
        int plane = height * width, inPlane = shape.Height * shape.Width;
        float scale = 1f / (hi - lo);
        for (int i = 0; i < count; i++)
        {
            var img = images[i].Span;
            if (img.Length != shape.Size) throw new ArgumentException($"Image {i} has {img.Length} values, expected {shape}.");
            int top = labelH + padding + i / columns * (tileH + padding);
            int left = labelW + padding + i % columns * (tileW + padding);
            for (int c = 0; c < channels; c++)
                for (int y = 0; y < tileH; y++)
                    for (int x = 0; x < tileW; x++)
                    {
                        float v = (img[c * inPlane + y / zoom * shape.Width + x / zoom] - lo) * scale;
                        pixels[c * plane + (top + y) * width + left + x] = float.IsNaN(v) ? 0f : Math.Clamp(v, 0f, 1f);
                    }
        }
        var grid = new GridImage(pixels, channels, height, width);
        if (rowLabels is not null)
            for (int r = 0; r < Math.Min(rows, rowLabels.Count); r++)
                DrawText(grid, rowLabels[r], labelH + padding + r * (tileH + padding) + Math.Max(0, (tileH - GlyphHeight * TextScale) / 2), padding);
        if (columnLabels is not null)
            for (int c = 0; c < Math.Min(cols, columnLabels.Count); c++)
                DrawText(grid, columnLabels[c], titleH + padding, labelW + padding + c * (tileW + padding));
        if (!string.IsNullOrEmpty(title)) DrawText(grid, title, padding, padding);
        return grid;
    }

    /// <summary>Draws <paramref name="text"/> in black with its top-left corner at (<paramref name="top"/>, <paramref name="left"/>), clipped to the grid.</summary>
    public static void DrawText(GridImage grid, string text, int top, int left)
    {
        ArgumentNullException.ThrowIfNull(grid);
        ArgumentNullException.ThrowIfNull(text);
        int plane = grid.Height * grid.Width;
        for (int k = 0; k < text.Length; k++)
        {
            var glyph = Glyph(text[k]);
            for (int gy = 0; gy < GlyphHeight; gy++)
                for (int gx = 0; gx < GlyphWidth; gx++)
                {
                    if (glyph[gy][gx] != '#') continue;
                    for (int sy = 0; sy < TextScale; sy++)
                        for (int sx = 0; sx < TextScale; sx++)
                        {
                            int y = top + gy * TextScale + sy, x = left + (k * (GlyphWidth + 1) + gx) * TextScale + sx;
                            if ((uint)y >= (uint)grid.Height || (uint)x >= (uint)grid.Width) continue;
                            for (int c = 0; c < grid.Channels; c++) grid.Pixels[c * plane + y * grid.Width + x] = 0f;
                        }
                }
        }
    }

    private static string[] Glyph(char ch) => char.ToUpperInvariant(ch) switch
    {
        '0' => ["###", "#.#", "#.#", "#.#", "###"],
        '1' => [".#.", "##.", ".#.", ".#.", "###"],
        '2' => ["###", "..#", "###", "#..", "###"],
        '3' => ["###", "..#", ".##", "..#", "###"],
        '4' => ["#.#", "#.#", "###", "..#", "..#"],
        '5' => ["###", "#..", "###", "..#", "###"],
        '6' => ["###", "#..", "###", "#.#", "###"],
        '7' => ["###", "..#", ".#.", ".#.", ".#."],
        '8' => ["###", "#.#", "###", "#.#", "###"],
        '9' => ["###", "#.#", "###", "..#", "###"],
        'A' => [".#.", "#.#", "###", "#.#", "#.#"],
        'B' => ["##.", "#.#", "##.", "#.#", "##."],
        'C' => [".##", "#..", "#..", "#..", ".##"],
        'D' => ["##.", "#.#", "#.#", "#.#", "##."],
        'E' => ["###", "#..", "##.", "#..", "###"],
        'F' => ["###", "#..", "##.", "#..", "#.."],
        'G' => [".##", "#..", "#.#", "#.#", ".##"],
        'H' => ["#.#", "#.#", "###", "#.#", "#.#"],
        'I' => ["###", ".#.", ".#.", ".#.", "###"],
        'J' => ["..#", "..#", "..#", "#.#", ".#."],
        'K' => ["#.#", "#.#", "##.", "#.#", "#.#"],
        'L' => ["#..", "#..", "#..", "#..", "###"],
        'M' => ["#.#", "###", "###", "#.#", "#.#"],
        'N' => ["##.", "#.#", "#.#", "#.#", "#.#"],
        'O' => [".#.", "#.#", "#.#", "#.#", ".#."],
        'P' => ["##.", "#.#", "##.", "#..", "#.."],
        'Q' => [".#.", "#.#", "#.#", "##.", ".##"],
        'R' => ["##.", "#.#", "##.", "#.#", "#.#"],
        'S' => [".##", "#..", ".#.", "..#", "##."],
        'T' => ["###", ".#.", ".#.", ".#.", ".#."],
        'U' => ["#.#", "#.#", "#.#", "#.#", "###"],
        'V' => ["#.#", "#.#", "#.#", "#.#", ".#."],
        'W' => ["#.#", "#.#", "###", "###", "#.#"],
        'X' => ["#.#", "#.#", ".#.", "#.#", "#.#"],
        'Y' => ["#.#", "#.#", ".#.", ".#.", ".#."],
        'Z' => ["###", "..#", ".#.", "#..", "###"],
        ' ' => ["...", "...", "...", "...", "..."],
        '.' => ["...", "...", "...", "...", ".#."],
        ',' => ["...", "...", "...", ".#.", "#.."],
        '-' => ["...", "...", "###", "...", "..."],
        '+' => ["...", ".#.", "###", ".#.", "..."],
        '=' => ["...", "###", "...", "###", "..."],
        ':' => ["...", ".#.", "...", ".#.", "..."],
        '/' => ["..#", "..#", ".#.", "#..", "#.."],
        '_' => ["...", "...", "...", "...", "###"],
        '(' => [".#.", "#..", "#..", "#..", ".#."],
        ')' => [".#.", "..#", "..#", "..#", ".#."],
        '%' => ["#.#", "..#", ".#.", "#..", "#.#"],
        '#' => ["#.#", "###", "#.#", "###", "#.#"],
        _ => ["##.", "..#", ".#.", "...", ".#."],
    };
}
