using System.Buffers.Binary;
using MemGen.Data;
using MemGen.Images;
using MemGen.Native;
using MemGen.Tensors;

namespace MemGen.Tests.Data;

/// <summary>
/// Randomized corruption: flip, overwrite, insert and truncate bytes of valid files many times. Each read must
/// either succeed or throw <see cref="DataFormatException"/>; any other exception (or a crash) fails the test.
/// </summary>
public class CorruptionFuzzTests
{
    private const int Iterations = 300;

    private static byte[] Mutate(byte[] valid, DeterministicRng rng)
    {
        var bytes = valid.ToList();
        int kind = rng.NextInt(4);
        int edits = 1 + rng.NextInt(6);
        for (int e = 0; e < edits && bytes.Count > 0; e++)
        {
            int at = rng.NextInt(bytes.Count);
            switch (kind)
            {
                case 0: bytes[at] ^= (byte)(1 << rng.NextInt(8)); break;
                case 1: bytes[at] = (byte)rng.NextInt(256); break;
                case 2: bytes.Insert(at, (byte)rng.NextInt(256)); break;
                default: bytes.RemoveRange(at, bytes.Count - at); break;
            }
        }
        return bytes.ToArray();
    }

    /// <summary>Recomputes every chunk CRC that can be reached, so the mutation reaches the decoder proper.</summary>
    private static void FixPngCrcs(byte[] png)
    {
        int pos = 8;
        while (pos + 12 <= png.Length)
        {
            uint length = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(pos));
            if (length > (uint)(png.Length - pos - 12)) return;
            var crc = PngTests.Crc(png.AsSpan(pos + 4, 4 + (int)length).ToArray());
            BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(pos + 8 + (int)length), crc);
            pos += 12 + (int)length;
        }
    }

    private static void Fuzz(byte[] valid, string extension, Action<string> read, bool fixPngCrcs = false)
    {
        using var dir = new TempFolder();
        read(Write(dir, valid, "valid" + extension)); // the unmutated file must read
        var rng = new DeterministicRng(2024, extension.GetHashCode(StringComparison.Ordinal));
        int errors = 0;
        for (int i = 0; i < Iterations; i++)
        {
            var mutated = Mutate(valid, rng);
            if (fixPngCrcs && i % 2 == 0) FixPngCrcs(mutated);
            var path = Write(dir, mutated, $"m{i}{extension}");
            try
            {
                read(path);
            }
            catch (DataFormatException e)
            {
                errors++;
                Assert.DoesNotContain('\n', e.Message);
                Assert.Contains(path, e.Message);
            }
            catch (Exception e)
            {
                Assert.Fail($"iteration {i}: {e.GetType().Name}: {e.Message}");
            }
            File.Delete(path);
        }
        Assert.True(errors > Iterations / 3, $"only {errors} of {Iterations} corrupted files were rejected");
    }

    private static string Write(TempFolder dir, byte[] bytes, string name)
    {
        var path = dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private static byte[] ValidIdx() => IdxReaderTests.IdxBytes(0x08, [6, 7, 5], Enumerable.Range(0, 210).Select(i => (byte)(i * 7)).ToArray());

    [Fact]
    public void CorruptIdx() => Fuzz(ValidIdx(), ".idx", p => DatasetLoader.Load("idx:" + p));

    [Fact]
    public void CorruptGzippedIdx() => Fuzz(IdxReaderTests.Gzip(ValidIdx()), ".idx.gz", p => DatasetLoader.Load("idx:" + p));

    [Fact]
    public void CorruptNpy()
    {
        var values = new float[4 * 3 * 6 * 5];
        new DeterministicRng(1).FillUniform(values);
        using var dir = new TempFolder();
        var path = dir.File("v.npy");
        NpyWriter.Write(path, values, [4, 3, 6, 5]);
        Fuzz(File.ReadAllBytes(path), ".npy", p => DatasetLoader.Load("npy:" + p));
    }

    [Fact]
    public void CorruptPng()
    {
        var samples = PngTests.RandomSamples(9, 7, 3, 255, 5);
        Fuzz(PngTests.BuildPng(9, 7, 2, 8, samples, interlace: true), ".png", p => PngDecoder.Read(p), fixPngCrcs: true);
        var palette = Enumerable.Range(0, 48).Select(i => (byte)(i * 5)).ToArray();
        Fuzz(PngTests.BuildPng(8, 6, 3, 4, PngTests.RandomSamples(8, 6, 1, 15, 6), palette: palette), ".png", p => PngDecoder.Read(p), fixPngCrcs: true);
    }

    [Fact]
    public void CorruptJpeg()
    {
        var jpeg = TurboJpeg.Encode(ImageFolderTests.SmoothSamples(3, 16, 16, 2), 3, 16, 16);
        Fuzz(jpeg, ".jpg", p => ImageFolderReader.Decode(p, ImageFolderFormat.Jpeg));
    }
}
