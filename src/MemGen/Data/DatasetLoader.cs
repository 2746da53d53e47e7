using MemGen.Images;
using MemGen.Machine;

namespace MemGen.Data;

/// <summary>
/// Loads the image set a <see cref="DatasetSpec"/> describes: reads or generates the source, then applies the
/// transforms in order. Folder sources apply leading per-image transforms (and <c>take</c>) while decoding, so
/// e.g. 200k CelebA JPEGs cropped and resized never sit in memory at full size. The result's provenance
/// reproduces the spec (<see cref="DisjointSplit.SpecOf"/>).
/// </summary>
public static class DatasetLoader
{
    /// <summary>Environment variable that overrides the default Fashion-MNIST folder.</summary>
    public const string FashionMnistVariable = "MEMGEN_FASHION_MNIST_DIR";

    /// <summary>Loads the dataset of setting <paramref name="setting"/>; an unreadable one is an <see cref="InvalidSettingException"/> for it.</summary>
    public static ImageSet LoadAs(string setting, DatasetSpec spec, IProgress<double>? progress = null)
    {
        try
        {
            return Load(spec, progress);
        }
        catch (Exception e) when (e is DataFormatException or IOException or UnauthorizedAccessException)
        {
            throw new InvalidSettingException(setting, e.Message, e);
        }
    }

    /// <summary>Parses <paramref name="spec"/> and loads it.</summary>
    /// <exception cref="DataFormatException">Bad spec or unreadable data; the message names the key or file.</exception>
    public static ImageSet Load(string spec) => Load(DatasetSpec.Parse(spec));

    /// <summary>Loads <paramref name="spec"/>; <paramref name="progress"/> (0..1) is reported while reading folders and de-duplicating.</summary>
    /// <exception cref="DataFormatException">Unreadable data; the message names the file.</exception>
    public static ImageSet Load(DatasetSpec spec, IProgress<double>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        var provenance = new Provenance(spec.Source, [], spec.Seed);
        int applied = 0;
        ImageSet set;
        switch (spec.Kind)
        {
            case "fashion-mnist":
                set = LoadFashionMnist(spec, provenance);
                break;
            case "idx":
                set = IdxReader.ReadImages(spec.Argument, null, provenance);
                break;
            case "npy":
                set = NpyReader.ReadImages(spec.Argument, provenance);
                break;
            case "png" or "jpeg":
                {
                    var perImage = new List<IImageTransform>();
                    int limit = int.MaxValue;
                    while (applied < spec.Transforms.Count && spec.Transforms[applied] is PerImageStep or TakeStep)
                    {
                        if (spec.Transforms[applied] is PerImageStep p) perImage.Add(p.Transform);
                        else limit = Math.Min(limit, ((TakeStep)spec.Transforms[applied]).Count);
                        applied++;
                    }
                    set = ImageFolderReader.Read(spec.Argument, spec.Kind == "png" ? ImageFolderFormat.Png : ImageFolderFormat.Jpeg,
                        perImage, limit, provenance, progress);
                    foreach (var t in spec.Transforms.Take(applied))
                        set = new ImageSet(set.Pixels, set.Count, set.Channels, set.Height, set.Width, set.Provenance.With(t.Description), set.Labels);
                    break;
                }
            case "calpha":
                {
                    // Each image in flight holds two complex backgrounds and their real parts, the mask and the blend (≈ 48 B/pixel).
                    Require(spec, spec.GetInt("n"), new ImageShape(1, spec.GetInt("size"), spec.GetInt("size")), MemoryBudget.Product(Environment.ProcessorCount, spec.GetInt("size"), spec.GetInt("size"), 48));
                    double alpha = spec.GetDouble("alpha");
                    set = CAlpha.Generate(spec.GetInt("n"), spec.GetInt("size"), alpha, spec.GetDouble("beta", alpha), spec.GetLong("seed"), provenance);
                    break;
                }
            case "disks":
                Require(spec, spec.GetInt("n"), new ImageShape(1, spec.GetInt("size"), spec.GetInt("size")));
                set = Disks.Generate(spec.GetInt("n"), spec.GetInt("size"), spec.GetLong("seed"), spec.DiskSupersampling(), provenance).Images;
                break;
            case "gaussian":
                {
                    var shape = spec.Options.ContainsKey("size")
                        ? new ImageShape(1, spec.GetInt("size"), spec.GetInt("size"))
                        : GaussianImages.ShapeFor(spec.GetInt("d"));
                    Require(spec, spec.GetInt("n"), shape);
                    set = GaussianImages.Generate(spec.GetInt("n"), shape, spec.GetDouble("mean"), spec.GetDouble("std"), spec.GetLong("seed"), provenance);
                    break;
                }
            case "sinusoids":
                Require(spec, spec.GetInt("n"), new ImageShape(1, spec.GetInt("size"), spec.GetInt("size")));
                set = Sinusoids.Generate(spec.GetInt("n"), spec.GetInt("size"), spec.GetLong("seed"),
                    spec.GetDouble("fx", 3), spec.GetDouble("fy", 2), spec.GetDouble("amp", 0.5), provenance);
                break;
            case "rescaled":
                {
                    var from = Load(spec.GetString("from")!);
                    int index = spec.GetInt("index", 0, min: 0);
                    if (index >= from.Count)
                        throw new DataFormatException($"dataset spec '{spec.Source}': key 'index' is {index} but '{DisjointSplit.SpecOf(from)}' has {from.Count} images.");
                    Require(spec, spec.GetInt("n"), new ImageShape(from.Channels, from.Height, from.Width));
                    set = RescaledImages.Generate(from.Image(index), new ImageShape(from.Channels, from.Height, from.Width),
                        spec.GetInt("n"), spec.GetLong("seed"), spec.GetDouble("min", 0), spec.GetDouble("max", 1), provenance);
                    break;
                }
            default:
                throw new DataFormatException($"dataset spec '{spec.Source}': unknown source kind '{spec.Kind}'.");
        }
        if (spec.IsSynthetic) set.RequireFinite($"dataset spec '{spec.Source}'"); // e.g. std or max beyond float range
        for (int i = applied; i < spec.Transforms.Count; i++)
        {
            if (spec.Transforms[i] is PerImageStep step)
            {
                var output = step.Transform.OutputShape(new ImageShape(set.Channels, set.Height, set.Width));
                MemoryBudget.Require(MemoryBudget.Product(set.Count, output.Channels, output.Height, output.Width, sizeof(float)),
                    $"transform '{step.Description}' of '{spec}' ({set.Count} images of {output})");
            }
            set = spec.Transforms[i] switch
            {
                PerImageStep p => ImageTransforms.Apply(set, p.Transform),
                TakeStep t => ImageTransforms.Take(set, t.Count),
                DedupStep d => set.Subset(DeduplicationCache.Run(set, d.Threshold, d.CompareWithKeptOnly, progress), d.Description),
                var other => throw new InvalidOperationException($"Unhandled transform {other}."),
            };
        }
        if (set.Count == 0) throw new DataFormatException($"dataset spec '{spec}': no images.");
        return set;
    }

    /// <summary>Refuses a generator whose images (plus <paramref name="working"/> bytes of scratch) exceed the memory budget.</summary>
    private static void Require(DatasetSpec spec, int count, ImageShape shape, long working = 0)
    {
        if ((long)count * shape.Size > Array.MaxLength)
            throw new DataFormatException($"dataset spec '{spec.Source}': {count} images of {shape} are more values than one array holds ({Array.MaxLength}); use a smaller n.");
        MemoryBudget.Require(MemoryBudget.Sum(MemoryBudget.Product(count, shape.Channels, shape.Height, shape.Width, sizeof(float)), working),
            $"dataset spec '{spec.Source}' ({count} images of {shape})");
    }

    /// <summary>The folder the Fashion-MNIST files are read from for <paramref name="spec"/>.</summary>
    public static string FashionMnistDirectory(DatasetSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        return spec.GetString("dir") ?? Environment.GetEnvironmentVariable(FashionMnistVariable) ?? DatasetSpec.DefaultFashionMnistDirectory;
    }

    private static ImageSet LoadFashionMnist(DatasetSpec spec, Provenance provenance)
    {
        string dir = FashionMnistDirectory(spec);
        string prefix = spec.Argument.StartsWith("train", StringComparison.Ordinal) ? "train" : "t10k";
        string images = Find(dir, $"{prefix}-images-idx3-ubyte");
        string labels = Find(dir, $"{prefix}-labels-idx1-ubyte");
        return IdxReader.ReadImages(images, labels, provenance);
    }

    private static string Find(string dir, string name)
    {
        foreach (var candidate in new[] { name + ".gz", name })
        {
            var path = Path.Combine(dir, candidate);
            if (File.Exists(path)) return path;
        }
        throw new DataFormatException($"fashion-mnist: {Path.Combine(dir, name)}(.gz) not found (install Debian's dataset-fashion-mnist via scripts/install-deps, or set dir= or ${FashionMnistVariable}).");
    }
}
