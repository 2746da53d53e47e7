using System.Globalization;
using MemGen.Images;

namespace MemGen.Data;

/// <summary>A transform of a whole image set, in the order written after <c>|</c> in a dataset spec.</summary>
public abstract record SetTransform
{
    /// <summary>How the transform is written in a spec.</summary>
    public abstract string Description { get; }
}

/// <summary>A per-image transform (crop, resize, gray, shuffle) applied to every image.</summary>
/// <param name="Transform">The per-image transform.</param>
public sealed record PerImageStep(IImageTransform Transform) : SetTransform
{
    /// <inheritdoc/>
    public override string Description => Transform.Description;
}

/// <summary>De-duplication (docs/science.md §2) with the given correlation threshold.</summary>
/// <param name="Threshold">Images whose correlation with an earlier one exceeds this are dropped.</param>
/// <param name="CompareWithKeptOnly">Only earlier images that were kept count (greedy variant; written <c>dedup=T:kept</c>).</param>
public sealed record DedupStep(double Threshold, bool CompareWithKeptOnly = false) : SetTransform
{
    /// <inheritdoc/>
    public override string Description =>
        (Threshold == Deduplication.DefaultThreshold && !CompareWithKeptOnly ? "dedup" : $"dedup={Threshold.ToString(CultureInfo.InvariantCulture)}")
        + (CompareWithKeptOnly ? ":kept" : "");
}

/// <summary>Keep the first <paramref name="Count"/> images.</summary>
/// <param name="Count">How many images to keep.</param>
public sealed record TakeStep(int Count) : SetTransform
{
    /// <inheritdoc/>
    public override string Description => $"take={Count}";
}

/// <summary>
/// A parsed dataset spec: a source and a chain of transforms, written <c>SOURCE|TRANSFORM|TRANSFORM...</c>.
/// The syntax is documented in docs/data-specs.md and <see cref="SyntaxHelp"/>.
/// </summary>
public sealed class DatasetSpec
{
    /// <summary>Short syntax reference, shown by <c>memgen data --help</c>.</summary>
    public const string SyntaxHelp =
        "Dataset spec: SOURCE[|TRANSFORM...] (quote it in the shell).\n" +
        "Sources:\n" +
        "  fashion-mnist:train | fashion-mnist:test   [,dir=DIR] (default /usr/share/datasets/fashion-mnist or $MEMGEN_FASHION_MNIST_DIR)\n" +
        "  idx:PATH        IDX images (N,H,W), raw or .gz          npy:PATH   .npy uint8/float32/float64, (N,H,W) (N,C,H,W) (N,H,W,C)\n" +
        "  png:DIR         all *.png in DIR, sorted by file name   jpeg:DIR   all *.jpg/*.jpeg in DIR, sorted by file name\n" +
        "  calpha:alpha=A,size=S,n=N,seed=K[,beta=B]       C-alpha images (beta defaults to alpha)\n" +
        "  disks:size=S,n=N,seed=K[,aa=F|exact]            disks, hard edge, FxF supersampled or exact pixel areas\n" +
        "  gaussian:d=D|size=S,mean=M,std=S,n=N,seed=K     isotropic Gaussian N(M*1, S^2 I)\n" +
        "  sinusoids:size=S,n=N,seed=K[,fx=3,fy=2,amp=0.5] 0.5 + A cos(2pi(fx*x+fy*y)/S + phi), A~U(0,amp), phi~U(0,2pi)\n" +
        "  rescaled:n=N,seed=K[,index=0,min=0,max=1],from=SOURCE   image INDEX of SOURCE times a~U(min,max) (from= last)\n" +
        "Transforms (applied left to right):\n" +
        "  crop=H[xW]  centre crop     resize=H[xW][:area|:bicubic]  (default: area when shrinking, else bicubic)\n" +
        "  gray  mean of R,G,B         shuffle=SEED  one fixed pixel permutation for all images\n" +
        "  dedup[=0.95][:kept]  docs/science.md §2 de-duplication (drop if correlated with any earlier image; :kept = only kept ones)\n" +
        "  take=N  first N images\n" +
        "Example: 'jpeg:/data/celeba|crop=160|resize=40|gray|dedup|take=100000'";

    /// <summary>The default Fashion-MNIST folder (Debian package <c>dataset-fashion-mnist</c>).</summary>
    public const string DefaultFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

    private static readonly Dictionary<string, (string[] Required, string[] Optional)> GeneratorKeys = new()
    {
        ["calpha"] = (["alpha", "size", "n", "seed"], ["beta"]),
        ["disks"] = (["size", "n", "seed"], ["aa"]),
        ["gaussian"] = (["mean", "std", "n", "seed"], ["d", "size"]),
        ["sinusoids"] = (["size", "n", "seed"], ["fx", "fy", "amp"]),
        ["rescaled"] = (["n", "seed", "from"], ["index", "min", "max"]),
    };

    private static readonly string[] FileKinds = ["idx", "npy", "png", "jpeg"];

    /// <summary>Most pixels (H·W, or d) an image of a spec may have (<see cref="ImageShape.MaxPixels"/>).</summary>
    public const int MaxPixels = ImageShape.MaxPixels;

    private DatasetSpec(string kind, string argument, IReadOnlyDictionary<string, string> options, IReadOnlyList<SetTransform> transforms)
    {
        Kind = kind;
        Argument = argument;
        Options = options;
        Transforms = transforms;
    }

    /// <summary>The source kind: fashion-mnist, idx, npy, png, jpeg, calpha, disks, gaussian, sinusoids, rescaled.</summary>
    public string Kind { get; }

    /// <summary>What follows <c>KIND:</c> in the source (a path, a split name, or key=value pairs).</summary>
    public string Argument { get; }

    /// <summary>The key=value options of a generator or of fashion-mnist (empty for file sources).</summary>
    public IReadOnlyDictionary<string, string> Options { get; }

    /// <summary>The transforms, in order.</summary>
    public IReadOnlyList<SetTransform> Transforms { get; }

    /// <summary>The source part as written: <c>KIND:ARGUMENT</c>.</summary>
    public string Source => $"{Kind}:{Argument}";

    /// <summary>True for synthetic generators (seeded, no files).</summary>
    public bool IsSynthetic => GeneratorKeys.ContainsKey(Kind);

    /// <summary>The seed of a synthetic source, if any.</summary>
    public long? Seed => IsSynthetic ? GetLong("seed") : null;

    /// <summary>The spec in canonical form (source, then transforms, joined by '|').</summary>
    public override string ToString() => string.Join("|", Transforms.Select(t => t.Description).Prepend(Source));

    /// <summary>
    /// True when loading this spec again would read <paramref name="file"/>: it lies in the folder of a png: source
    /// (and is a .png) or of a jpeg: source (and is a .jpg/.jpeg), here or in a rescaled: source's from=.
    /// Writing such a file (e.g. a preview into the folder it shows) would break the next load.
    /// </summary>
    public bool WouldRead(string file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (Kind == "rescaled") return Parse(GetString("from")!).WouldRead(file);
        if (Kind is not ("png" or "jpeg")) return false;
        var extension = System.IO.Path.GetExtension(file).ToLowerInvariant();
        bool read = Kind == "png" ? extension == ".png" : extension is ".jpg" or ".jpeg";
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(file));
        return read && string.Equals(System.IO.Path.TrimEndingDirectorySeparator(System.IO.Path.GetFullPath(Argument)), folder, StringComparison.Ordinal);
    }

    /// <summary>Parses the value of setting <paramref name="setting"/> (e.g. <c>data</c>); a bad spec is an <see cref="InvalidSettingException"/> for it.</summary>
    public static DatasetSpec ParseAs(string setting, string text)
    {
        try
        {
            return Parse(text);
        }
        catch (DataFormatException e)
        {
            throw new InvalidSettingException(setting, e.Message, e);
        }
    }

    /// <summary>Parses and validates a spec (kinds, keys, numbers, transforms); nothing is read yet.</summary>
    /// <exception cref="DataFormatException">The spec is malformed; the message names the offending part.</exception>
    public static DatasetSpec Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) throw new DataFormatException("dataset spec is empty (expected e.g. 'fashion-mnist:train').");
        var parts = text.Split('|');
        var source = parts[0].Trim();
        int colon = source.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0) throw new DataFormatException($"dataset spec '{source}': expected KIND:ARGUMENT, e.g. 'fashion-mnist:train' or 'npy:data.npy'.");
        string kind = source[..colon].Trim().ToLowerInvariant();
        string argument = source[(colon + 1)..].Trim();
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        if (kind == "fashion-mnist")
        {
            var items = argument.Split(',', 2);
            string split = items[0].Trim().ToLowerInvariant();
            if (split is not ("train" or "test"))
                throw new DataFormatException($"dataset spec '{source}': fashion-mnist split must be 'train' or 'test', got '{items[0]}'.");
            if (items.Length > 1) ParseOptions(items[1], source, options, ["dir"], []);
            argument = items.Length > 1 ? $"{split},{items[1].Trim()}" : split;
        }
        else if (FileKinds.Contains(kind))
        {
            if (argument.Length == 0) throw new DataFormatException($"dataset spec '{source}': missing path after '{kind}:'.");
        }
        else if (GeneratorKeys.TryGetValue(kind, out var keys))
        {
            ParseOptions(argument, source, options, keys.Optional, keys.Required);
        }
        else
        {
            throw new DataFormatException($"dataset spec '{source}': unknown source kind '{kind}' (known: fashion-mnist, {string.Join(", ", FileKinds)}, {string.Join(", ", GeneratorKeys.Keys)}).");
        }
        var transforms = new List<SetTransform>();
        for (int i = 1; i < parts.Length; i++) transforms.Add(ParseTransform(parts[i].Trim()));
        var spec = new DatasetSpec(kind, argument, options, transforms);
        spec.Validate();
        return spec;
    }

    /// <summary>An integer option; throws a <see cref="DataFormatException"/> naming the key if missing or malformed.</summary>
    public int GetInt(string key, int? fallback = null, int min = int.MinValue)
    {
        long v = GetLong(key, fallback);
        if (v < min || v > int.MaxValue) throw new DataFormatException($"dataset spec '{Source}': key '{key}' must be an integer ≥ {min}, got {v}.");
        return (int)v;
    }

    /// <summary>A 64-bit integer option; throws a <see cref="DataFormatException"/> naming the key if missing or malformed.</summary>
    public long GetLong(string key, long? fallback = null)
    {
        if (!Options.TryGetValue(key, out var s))
            return fallback ?? throw new DataFormatException($"dataset spec '{Source}': missing key '{key}'.");
        if (!long.TryParse(s, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long v))
            throw new DataFormatException($"dataset spec '{Source}': key '{key}' must be an integer, got '{s}'.");
        return v;
    }

    /// <summary>A number option; throws a <see cref="DataFormatException"/> naming the key if missing, malformed or not finite.</summary>
    public double GetDouble(string key, double? fallback = null)
    {
        if (!Options.TryGetValue(key, out var s))
            return fallback ?? throw new DataFormatException($"dataset spec '{Source}': missing key '{key}'.");
        if (!double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new DataFormatException($"dataset spec '{Source}': key '{key}' must be a number, got '{s}'.");
        return v;
    }

    /// <summary>The disks' <c>aa=</c>: 1 (hard edge, default), F ≥ 2 (F×F supersampled) or <c>exact</c> (<see cref="Disks.ExactArea"/>).</summary>
    public int DiskSupersampling() =>
        string.Equals(GetString("aa"), "exact", StringComparison.OrdinalIgnoreCase) ? Disks.ExactArea : GetInt("aa", 1, min: 1);

    /// <summary>The string value of an option, or <paramref name="fallback"/>.</summary>
    public string? GetString(string key, string? fallback = null) => Options.TryGetValue(key, out var s) ? s : fallback;

    private void Validate()
    {
        switch (Kind)
        {
            case "calpha":
                double alpha = GetDouble("alpha");
                if (alpha <= 0) Fail("alpha", "must be positive");
                if (GetDouble("beta", alpha) <= 0) Fail("beta", "must be positive");
                ValidateSizeCountSeed(4);
                break;
            case "disks":
                ValidateSizeCountSeed(9);
                DiskSupersampling();
                break;
            case "gaussian":
                bool hasD = Options.ContainsKey("d"), hasSize = Options.ContainsKey("size");
                if (hasD == hasSize) Fail(hasD ? "size" : "d", "give exactly one of d= (pixels) or size= (side of a square image)");
                if (hasD && GetInt("d", min: 1) > MaxPixels) Fail("d", $"must be at most {MaxPixels} pixels");
                if (!hasD) ValidateSide(1);
                GetDouble("mean");
                if (GetDouble("std") < 0) Fail("std", "must not be negative");
                GetInt("n", min: 1);
                GetLong("seed");
                break;
            case "sinusoids":
                ValidateSizeCountSeed(2);
                GetDouble("fx", 3);
                GetDouble("fy", 2);
                if (GetDouble("amp", 0.5) < 0) Fail("amp", "must not be negative");
                break;
            case "rescaled":
                GetInt("n", min: 1);
                GetLong("seed");
                GetInt("index", 0, min: 0);
                if (GetDouble("max", 1) < GetDouble("min", 0)) Fail("max", "must be at least min");
                var inner = Parse(GetString("from")!);
                if (inner.Kind == "rescaled") Fail("from", "cannot itself be rescaled");
                break;
        }
    }

    private void ValidateSizeCountSeed(int minSize)
    {
        ValidateSide(minSize);
        GetInt("n", min: 1);
        GetLong("seed");
    }

    private void ValidateSide(int minSize)
    {
        long side = GetInt("size", min: minSize);
        if (side * side > MaxPixels) Fail("size", $"must be at most {(int)Math.Sqrt(MaxPixels)} (images of at most {MaxPixels} pixels)");
    }

    private void Fail(string key, string what) => throw new DataFormatException($"dataset spec '{Source}': key '{key}' {what}.");

    private static void ParseOptions(string argument, string source, Dictionary<string, string> options, string[] optional, string[] required)
    {
        // 'from=' (rescaled) takes the rest of the argument, so the inner source may itself contain commas.
        string rest = argument;
        while (rest.Length > 0)
        {
            int eq = rest.IndexOf('=', StringComparison.Ordinal);
            int comma = rest.IndexOf(',', StringComparison.Ordinal);
            if (eq < 0 || (comma >= 0 && comma < eq))
                throw new DataFormatException($"dataset spec '{source}': expected key=value, got '{(comma >= 0 ? rest[..comma] : rest).Trim()}'.");
            string key = rest[..eq].Trim().ToLowerInvariant();
            string value;
            if (key == "from")
            {
                value = rest[(eq + 1)..].Trim();
                rest = "";
            }
            else
            {
                int end = rest.IndexOf(',', eq);
                value = (end < 0 ? rest[(eq + 1)..] : rest[(eq + 1)..end]).Trim();
                rest = end < 0 ? "" : rest[(end + 1)..];
            }
            if (!optional.Contains(key) && !required.Contains(key))
                throw new DataFormatException($"dataset spec '{source}': unknown key '{key}' (allowed: {string.Join(", ", required.Concat(optional))}).");
            if (!options.TryAdd(key, value))
                throw new DataFormatException($"dataset spec '{source}': key '{key}' given twice.");
        }
        foreach (var key in required)
            if (!options.ContainsKey(key))
                throw new DataFormatException($"dataset spec '{source}': missing key '{key}' (required: {string.Join(", ", required)}).");
    }

    private static SetTransform ParseTransform(string text)
    {
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        string name = (eq < 0 ? text : text[..eq]).Trim().ToLowerInvariant();
        string? value = eq < 0 ? null : text[(eq + 1)..].Trim();
        string Need() => value ?? throw new DataFormatException($"transform '{text}': needs a value ({name}=...).");
        void NoValue()
        {
            if (value is not null) throw new DataFormatException($"transform '{text}': takes no value.");
        }
        switch (name)
        {
            case "crop":
                {
                    var (h, w) = ParseSize(Need(), text);
                    return new PerImageStep(new CenterCropTransform(h, w));
                }
            case "resize":
                {
                    var v = Need();
                    var mode = ResizeMode.Auto;
                    int colon = v.IndexOf(':', StringComparison.Ordinal);
                    if (colon >= 0)
                    {
                        mode = v[(colon + 1)..].Trim().ToLowerInvariant() switch
                        {
                            "area" => ResizeMode.Area,
                            "bicubic" => ResizeMode.Bicubic,
                            var m => throw new DataFormatException($"transform '{text}': unknown resize mode '{m}' (area or bicubic)."),
                        };
                        v = v[..colon];
                    }
                    var (h, w) = ParseSize(v, text);
                    return new PerImageStep(new ResizeTransform(h, w, mode));
                }
            case "gray" or "grey":
                NoValue();
                return new PerImageStep(new GrayscaleTransform());
            case "shuffle":
                if (!long.TryParse(Need(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long seed))
                    throw new DataFormatException($"transform '{text}': seed must be an integer.");
                return new PerImageStep(new PixelShuffleTransform(seed));
            case "dedup":
                {
                    double threshold = Deduplication.DefaultThreshold;
                    bool keptOnly = false;
                    if (value is not null && value.EndsWith(":kept", StringComparison.OrdinalIgnoreCase))
                    {
                        keptOnly = true;
                        value = value[..^5];
                    }
                    if (value is { Length: > 0 } && (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out threshold) || !(threshold > -1 && threshold <= 1)))
                        throw new DataFormatException($"transform '{text}': threshold must be a number in (-1, 1] (optionally followed by :kept).");
                    return new DedupStep(threshold, keptOnly);
                }
            case "take":
                if (!int.TryParse(Need(), NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1)
                    throw new DataFormatException($"transform '{text}': count must be a positive integer.");
                return new TakeStep(n);
            default:
                throw new DataFormatException($"transform '{text}': unknown transform '{name}' (known: crop, resize, gray, shuffle, dedup, take).");
        }
    }

    private static (int H, int W) ParseSize(string v, string text)
    {
        var items = v.ToLowerInvariant().Split('x');
        if (items.Length > 2 || !items.All(s => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out int x) && x > 0))
            throw new DataFormatException($"transform '{text}': size must be N or HxW with positive integers.");
        int h = int.Parse(items[0], CultureInfo.InvariantCulture);
        int w = items.Length == 2 ? int.Parse(items[1], CultureInfo.InvariantCulture) : h;
        if ((long)h * w > MaxPixels) throw new DataFormatException($"transform '{text}': {h}×{w} is larger than {MaxPixels} pixels.");
        return (h, w);
    }
}
