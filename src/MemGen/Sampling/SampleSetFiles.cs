using System.Globalization;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Sampling;

/// <summary>
/// Where a set of samples is stored: the images as .npy (N,C,H,W), the per-sample trajectory statistics as CSV
/// (index, steps, final_sigma, outcome, diverged) and optionally a PNG grid to look at. Written by <c>memgen sample</c>
/// and by every experiment; read back when a stopped experiment resumes.
/// </summary>
/// <param name="Npy">The images.</param>
/// <param name="Csv">The per-sample statistics.</param>
/// <param name="Png">The grid of the first 256 samples, or null for none.</param>
public sealed record SampleSetFiles(string Npy, string Csv, string? Png = null)
{
    /// <summary>Writes the three files of <paramref name="result"/> (each atomically).</summary>
    public void Write(SamplingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var images = result.ToImageSet();
        NpyWriter.Write(Npy, images);
        result.WriteTrajectoryCsv(Csv);
        if (Png is not null) WriteGrid(Png, images);
    }

    /// <summary>Whether both data files exist.</summary>
    public bool Exist => File.Exists(Npy) && File.Exists(Csv);

    /// <summary>
    /// Reads a set written by <see cref="Write"/>; null when a file is missing or the set does not hold
    /// <paramref name="count"/> images of <paramref name="shape"/> (then the caller samples again).
    /// </summary>
    public SamplingResult? TryRead(int count, ImageShape shape, long seed, string sampler, string denoiser)
    {
        if (!Exist) return null;
        ImageSet images;
        string[] lines;
        try
        {
            images = NpyReader.ReadImages(Npy);
            lines = File.ReadAllLines(Csv);
        }
        catch (Exception e) when (e is DataFormatException or IOException)
        {
            return null;
        }
        if (images.Count != count || new ImageShape(images.Channels, images.Height, images.Width) != shape || lines.Length != count + 1) return null;
        var header = lines[0].Split(',');
        int iSteps = Array.IndexOf(header, "steps"), iSigma = Array.IndexOf(header, "final_sigma"), iOutcome = Array.IndexOf(header, "outcome"), iIndex = Array.IndexOf(header, "index");
        if (iSteps < 0 || iSigma < 0 || iOutcome < 0 || iIndex < 0) return null;
        var steps = new int[count];
        var sigma = new float[count];
        var outcomes = new SampleOutcome[count];
        int first = 0;
        for (int k = 0; k < count; k++)
        {
            var cells = lines[k + 1].Split(',');
            if (cells.Length != header.Length
                || !int.TryParse(cells[iSteps], NumberStyles.Integer, CultureInfo.InvariantCulture, out steps[k])
                || !float.TryParse(cells[iSigma], NumberStyles.Float, CultureInfo.InvariantCulture, out sigma[k])
                || !Enum.TryParse(cells[iOutcome], out outcomes[k])
                || !int.TryParse(cells[iIndex], NumberStyles.Integer, CultureInfo.InvariantCulture, out int index))
                return null;
            if (k == 0) first = index;
        }
        var tensor = new Tensor(count, shape.Channels, shape.Height, shape.Width);
        images.Pixels.AsSpan(0, count * shape.Size).CopyTo(tensor.Span);
        return new SamplingResult(tensor, steps, sigma, outcomes, seed, first, sampler, denoiser);
    }

    /// <summary>A PNG grid of at most 256 images, roughly square, small images zoomed to at least 48 pixels (first channel only when there are not 1, 3 or 4).</summary>
    public static void WriteGrid(string path, ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        int n = Math.Min(images.Count, 256);
        int columns = (int)Math.Ceiling(Math.Sqrt(n));
        int zoom = Math.Clamp(48 / Math.Max(images.Height, 1), 1, 8);
        if (images.Channels is 1 or 3 or 4)
        {
            PngWriter.WriteGrid(path, images, columns, zoom: zoom, maxImages: n);
            return;
        }
        var first = new float[n * images.Height * images.Width];
        int plane = images.Height * images.Width;
        for (int i = 0; i < n; i++) images.Image(i)[..plane].CopyTo(first.AsSpan(i * plane, plane));
        PngWriter.WriteGrid(path, new ImageSet(first, n, 1, images.Height, images.Width, images.Provenance), columns, zoom: zoom);
    }
}
