using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text.Json.Serialization;
using System.Text.Json;
using MemGen.Images;

namespace MemGen.Data;

/// <summary>
/// Records how a disjoint split was made so a run can be reproduced and audited: the pool spec, the indices of
/// each subset in the pool, and the SHA-256 of each subset's pixels. Saved next to every result as JSON.
/// </summary>
public sealed record SplitManifest
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Dataset spec that reproduces the pool (e.g. <c>fashion-mnist:train|dedup</c>).</summary>
    public required string PoolSpec { get; init; }

    /// <summary>Images in the pool.</summary>
    public required int PoolCount { get; init; }

    /// <summary>Training images per subset.</summary>
    public required int N { get; init; }

    /// <summary>Dataset spec the test images come from: the pool spec (held-out middle part) or a separate spec.</summary>
    public required string TestSpec { get; init; }

    /// <summary>Indices of S1 in the pool (the first N).</summary>
    public required int[] S1Indices { get; init; }

    /// <summary>Indices of S2 in the pool (the last N).</summary>
    public required int[] S2Indices { get; init; }

    /// <summary>Indices of the test images in the test source.</summary>
    public required int[] TestIndices { get; init; }

    /// <summary>SHA-256 (hex) of S1: its shape (N,C,H,W as little-endian int32) then its float32 pixels.</summary>
    public required string S1Sha256 { get; init; }

    /// <summary>SHA-256 (hex) of S2, as for S1.</summary>
    public required string S2Sha256 { get; init; }

    /// <summary>SHA-256 (hex) of the test images, as for S1.</summary>
    public required string TestSha256 { get; init; }

    /// <summary>Writes the manifest as JSON (atomically).</summary>
    public void Save(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");

    /// <summary>Reads a manifest written by <see cref="Save"/>.</summary>
    /// <exception cref="DataFormatException">The file is missing, not JSON, or lacks a field.</exception>
    public static SplitManifest Load(string path)
    {
        string text;
        try
        {
            text = File.ReadAllText(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
        {
            throw new DataFormatException($"{path}: cannot read split manifest ({DataFile.OneLine(e.Message)}).", e);
        }
        try
        {
            return JsonSerializer.Deserialize<SplitManifest>(text, Json) ?? throw new DataFormatException($"{path}: split manifest is empty (null).");
        }
        catch (JsonException e)
        {
            throw new DataFormatException($"{path}: invalid split manifest ({DataFile.OneLine(e.Message)}).", e);
        }
    }

    /// <summary>SHA-256 (lower-case hex) of an image set: shape as four little-endian int32, then the float32 pixels.</summary>
    public static string Hash(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<int> shape = [images.Count, images.Channels, images.Height, images.Width];
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Hashes assume a little-endian machine.");
        sha.AppendData(MemoryMarshal.AsBytes(shape));
        sha.AppendData(MemoryMarshal.AsBytes(images.Pixels.AsSpan()));
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }
}

/// <summary>
/// Two disjoint training subsets of a pool (docs/science.md §2): S1 = the first N images, S2 = the last N images,
/// and test images from the held-out part between them (or from a separate test set).
/// </summary>
/// <param name="S1">The first N images of the pool.</param>
/// <param name="S2">The last N images of the pool.</param>
/// <param name="Test">The held-out test images.</param>
/// <param name="Manifest">Indices and hashes of the three subsets.</param>
public sealed record DisjointSplit(ImageSet S1, ImageSet S2, ImageSet Test, SplitManifest Manifest)
{
    /// <summary>
    /// Splits <paramref name="pool"/>: S1 = [0, N), S2 = [P−N, P), Test = the first <paramref name="testCount"/>
    /// images of the held-out middle [N, P−N).
    /// </summary>
    /// <exception cref="DataFormatException">N &lt; 1, N more than half the pool, or too few held-out images for the test set.</exception>
    public static DisjointSplit Create(ImageSet pool, int n, int testCount)
    {
        ArgumentNullException.ThrowIfNull(pool);
        CheckN(pool, n);
        int heldOut = pool.Count - 2 * n;
        if (testCount < 0 || testCount > heldOut)
            throw new DataFormatException($"split: test count {testCount} does not fit the {heldOut} held-out images between S1 and S2 (pool {pool.Count}, N {n}); lower --n or --test, or give a separate test spec.");
        var test = Enumerable.Range(n, testCount).ToArray();
        return Build(pool, n, pool, test, SpecOf(pool));
    }

    /// <summary>Splits <paramref name="pool"/> into S1 and S2 and takes the first <paramref name="testCount"/> images of <paramref name="testSet"/> as the test set.</summary>
    public static DisjointSplit Create(ImageSet pool, int n, ImageSet testSet, int testCount)
    {
        ArgumentNullException.ThrowIfNull(pool);
        ArgumentNullException.ThrowIfNull(testSet);
        CheckN(pool, n);
        if (testCount < 0 || testCount > testSet.Count)
            throw new DataFormatException($"split: test count {testCount} is outside 0..{testSet.Count} (size of the test set '{SpecOf(testSet)}').");
        if (testSet.ImageSize != pool.ImageSize || testSet.Height != pool.Height || testSet.Channels != pool.Channels)
            throw new DataFormatException($"split: test images are {testSet.Channels}×{testSet.Height}×{testSet.Width} but the pool's are {pool.Channels}×{pool.Height}×{pool.Width}.");
        return Build(pool, n, testSet, Enumerable.Range(0, testCount).ToArray(), SpecOf(testSet));
    }

    /// <summary>Re-creates the split a manifest describes by loading its specs, and checks every hash.</summary>
    /// <exception cref="DataFormatException">The data no longer match the manifest.</exception>
    public static DisjointSplit FromManifest(SplitManifest manifest)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        var pool = DatasetLoader.Load(manifest.PoolSpec);
        if (pool.Count != manifest.PoolCount)
            throw new DataFormatException($"split manifest: pool '{manifest.PoolSpec}' now has {pool.Count} images, the manifest says {manifest.PoolCount}.");
        var testSource = manifest.TestSpec == manifest.PoolSpec ? pool : DatasetLoader.Load(manifest.TestSpec);
        var split = new DisjointSplit(
            pool.Subset(manifest.S1Indices, "split:s1"),
            pool.Subset(manifest.S2Indices, "split:s2"),
            testSource.Subset(manifest.TestIndices, "split:test"),
            manifest);
        Check(split.S1, manifest.S1Sha256, "S1");
        Check(split.S2, manifest.S2Sha256, "S2");
        Check(split.Test, manifest.TestSha256, "test");
        return split;

        void Check(ImageSet set, string expected, string name)
        {
            if (SplitManifest.Hash(set) != expected)
                throw new DataFormatException($"split manifest: {name} images of '{manifest.PoolSpec}' do not match the recorded SHA-256 (data changed).");
        }
    }

    /// <summary>The spec text recorded in a provenance: source, then transforms, joined by '|'.</summary>
    public static string SpecOf(ImageSet images)
    {
        ArgumentNullException.ThrowIfNull(images);
        return string.Join("|", images.Provenance.Transforms.Prepend(images.Provenance.Source));
    }

    private static void CheckN(ImageSet pool, int n)
    {
        if (n < 1) throw new DataFormatException($"split: N must be at least 1, got {n}.");
        if (n > pool.Count / 2)
            throw new DataFormatException($"split: N = {n} is more than half of the pool ({pool.Count} images), so S1 (first N) and S2 (last N) would overlap; use N ≤ {pool.Count / 2}.");
    }

    private static DisjointSplit Build(ImageSet pool, int n, ImageSet testSource, int[] testIndices, string testSpec)
    {
        var s1Indices = Enumerable.Range(0, n).ToArray();
        var s2Indices = Enumerable.Range(pool.Count - n, n).ToArray();
        var s1 = pool.Subset(s1Indices, "split:s1");
        var s2 = pool.Subset(s2Indices, "split:s2");
        var test = testSource.Subset(testIndices, "split:test");
        var manifest = new SplitManifest
        {
            PoolSpec = SpecOf(pool),
            PoolCount = pool.Count,
            N = n,
            TestSpec = testSpec,
            S1Indices = s1Indices,
            S2Indices = s2Indices,
            TestIndices = testIndices,
            S1Sha256 = SplitManifest.Hash(s1),
            S2Sha256 = SplitManifest.Hash(s2),
            TestSha256 = SplitManifest.Hash(test),
        };
        return new DisjointSplit(s1, s2, test, manifest);
    }
}
