using MemGen.Data;
using MemGen.Images;
using MemGen.Tensors;

namespace MemGen.Tests.Data;

public class DeduplicationTests
{
    /// <summary>Naive reference: exact 2×2 pooling of 40×40 images, double precision, all pairs.</summary>
    private static int[] NaiveKept(ImageSet set, double threshold, bool keptOnly)
    {
        int n = set.Count;
        var f = new double[n][];
        for (int i = 0; i < n; i++)
        {
            var img = set.Image(i);
            var v = new double[400];
            for (int y = 0; y < 20; y++)
                for (int x = 0; x < 20; x++)
                    v[y * 20 + x] = (img[2 * y * 40 + 2 * x] + img[2 * y * 40 + 2 * x + 1] + img[(2 * y + 1) * 40 + 2 * x] + img[(2 * y + 1) * 40 + 2 * x + 1]) / 4.0;
            double mean = v.Average();
            for (int k = 0; k < 400; k++) v[k] -= mean;
            double norm = Math.Sqrt(v.Sum(t => t * t));
            f[i] = v.Select(t => t / norm).ToArray();
        }
        var dropped = new bool[n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < i; j++)
            {
                if (keptOnly && dropped[j]) continue;
                double dot = 0;
                for (int k = 0; k < 400; k++) dot += f[i][k] * f[j][k];
                if (dot > threshold) { dropped[i] = true; break; }
            }
        return Enumerable.Range(0, n).Where(i => !dropped[i]).ToArray();
    }

    private static ImageSet WithPlantedDuplicates(int n, long seed, out HashSet<int> duplicates)
    {
        var rng = new DeterministicRng(seed);
        var pixels = new float[n * 1600];
        rng.FillUniform(pixels);
        duplicates = [];
        // Copy image a into b (b > a, often in another block of 512), rescaled, offset and slightly noisy.
        for (int k = 0; k < 40; k++)
        {
            int a = rng.NextInt(n / 2), b = n / 2 + rng.NextInt(n / 2);
            if (duplicates.Contains(a) || duplicates.Contains(b) || a == b) continue;
            for (int p = 0; p < 1600; p++)
                pixels[b * 1600 + p] = 0.5f * pixels[a * 1600 + p] + 0.2f + 0.02f * (float)rng.NextDouble();
            duplicates.Add(b);
        }
        return new ImageSet(pixels, n, 1, 40, 40, new Provenance("planted", []));
    }

    [Fact]
    public void MatchesNaiveAllPairsReferenceAcrossBlocks()
    {
        var set = WithPlantedDuplicates(600, 5, out var planted);
        var kept = Deduplication.Run(set);
        Assert.Equal(NaiveKept(set, 0.95, keptOnly: false), kept);
        Assert.Equal(Enumerable.Range(0, 600).Where(i => !planted.Contains(i)), kept);
        // Small blocks: many row and column blocks, ragged edges.
        Assert.Equal(kept, Deduplication.Run(set, 0.95, false, null, rowBlock: 37, columnBlock: 100));
        Assert.Equal(Deduplication.Run(set, 0.95, true), Deduplication.Run(set, 0.95, true, null, rowBlock: 64, columnBlock: 96));
    }

    [Fact]
    public void KeptOnlyModeDiffersOnChainsAsTheReferenceDoes()
    {
        // Chain: B ≈ A, C ≈ B, but C is far enough from A to pass against A alone.
        var rng = new DeterministicRng(8);
        var a = new float[1600];
        var drift = new float[1600];
        rng.FillUniform(a);
        rng.FillNormal(drift);
        var pixels = new float[4 * 1600];
        rng.FillUniform(pixels.AsSpan(3 * 1600));
        for (int p = 0; p < 1600; p++)
        {
            pixels[p] = a[p];
            pixels[1600 + p] = a[p] + 0.05f * drift[p];
            pixels[3200 + p] = a[p] + 0.1f * drift[p];
        }
        var set = new ImageSet(pixels, 4, 1, 40, 40, new Provenance("chain", []));
        double threshold = 0.97;
        var literal = Deduplication.Run(set, threshold);
        var keptOnly = Deduplication.Run(set, threshold, compareWithKeptOnly: true);
        Assert.Equal(NaiveKept(set, threshold, false), literal);
        Assert.Equal(NaiveKept(set, threshold, true), keptOnly);
        Assert.NotEqual(literal, keptOnly);
    }

    [Fact]
    public void ConstantImagesAreNeverDuplicatesAndSpecTransformRecordsIt()
    {
        var pixels = new float[3 * 1600];
        pixels.AsSpan(1600, 1600).Fill(0.7f);
        new DeterministicRng(1).FillUniform(pixels.AsSpan(3200));
        var set = new ImageSet(pixels, 3, 1, 40, 40, new Provenance("c", []));
        Assert.Equal([0, 1, 2], Deduplication.Run(set));
        var fashion = DatasetLoader.Load("fashion-mnist:test|take=2000|dedup");
        Assert.Equal(["take=2000", "dedup"], fashion.Provenance.Transforms);
        var raw = DatasetLoader.Load("fashion-mnist:test|take=2000");
        var kept = Deduplication.Run(raw);
        Assert.True(kept.Length < 2000);
        Assert.Equal(raw.Subset(kept, "dedup").Pixels, fashion.Pixels);
        Assert.Equal(kept.Select(i => raw.Labels![i]), fashion.Labels!);
    }
}

public class DeduplicationCacheTests
{
    [Fact]
    public void CachedResultEqualsFreshOneAndBadEntriesAreRecomputed()
    {
        using var dir = new TempFolder();
        var set = DatasetLoader.Load("fashion-mnist:test|take=600");
        var fresh = Deduplication.Run(set);
        Assert.Equal(fresh, DeduplicationCache.Run(set, directory: dir.Path));
        var files = Directory.GetFiles(Path.Combine(dir.Path, "dedup"));
        var entry = Assert.Single(files);
        Assert.Equal(fresh, DeduplicationCache.Run(set, directory: dir.Path));
        // Corrupt the entry: indices out of order → ignored and rewritten.
        var bytes = File.ReadAllBytes(entry);
        (bytes[12], bytes[16]) = (bytes[16], bytes[12]);
        bytes[13] = 0xFF;
        File.WriteAllBytes(entry, bytes);
        Assert.Equal(fresh, DeduplicationCache.Run(set, directory: dir.Path));
        Assert.Equal(16 + 4 * fresh.Length + 32, new FileInfo(entry).Length);
        // Another threshold or mode is another entry.
        Assert.Equal(Deduplication.Run(set, 0.9, true), DeduplicationCache.Run(set, 0.9, true, directory: dir.Path));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir.Path, "dedup")).Length);
    }

    [Fact]
    public void AWellFormedButTamperedEntryIsRecomputed()
    {
        using var dir = new TempFolder();
        var set = DatasetLoader.Load("fashion-mnist:test|take=600");
        var fresh = DeduplicationCache.Run(set, directory: dir.Path);
        var entry = Assert.Single(Directory.GetFiles(Path.Combine(dir.Path, "dedup")));
        // Rewrite it as a consistent-looking entry keeping only 10 images (ascending, in range, right length), old checksum.
        var bytes = File.ReadAllBytes(entry);
        var tampered = new byte[16 + 4 * 10 + 32];
        bytes.AsSpan(0, 12).CopyTo(tampered);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32LittleEndian(tampered.AsSpan(12), 10);
        bytes.AsSpan(16, 40).CopyTo(tampered.AsSpan(16));
        bytes.AsSpan(bytes.Length - 32).CopyTo(tampered.AsSpan(56));
        File.WriteAllBytes(entry, tampered);
        Assert.Equal(fresh, DeduplicationCache.Run(set, directory: dir.Path));
        Assert.Equal(bytes, File.ReadAllBytes(entry));

        // An entry copied under another set's name does not pass either: its checksum covers the inputs.
        var other = DatasetLoader.Load("fashion-mnist:train|take=600");
        var otherKept = DeduplicationCache.Run(other, directory: dir.Path);
        Assert.NotEqual(fresh, otherKept);
        var otherEntry = Directory.GetFiles(Path.Combine(dir.Path, "dedup")).Single(f => f != entry);
        File.Copy(entry, otherEntry, overwrite: true);
        Assert.Equal(otherKept, DeduplicationCache.Run(other, directory: dir.Path));
    }
}
