using System.Diagnostics;
using System.Globalization;
using MemGen.Runs;
using MemGen.Training;

using MemGen.Tests.TestSupport;

namespace MemGen.Tests.Hardening;

/// <summary>
/// The run-folder lock: in-process behaviour, and with child processes the reproduction (two trainings started
/// into one --out) and a holder killed with SIGKILL whose lock and temp files are taken over by the next writer.
/// </summary>
public sealed class RunFolderLockTests : IDisposable
{
    private const string Data = "gaussian:size=8,mean=0.5,std=0.1,n=200,seed=3";
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-lock-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Dir(string name) => Path.Combine(_folder, name);

    private static string[] Train(string dir, long budget, int seed) =>
    [
        "train", "--data", Data, "--n", "50", "--test", "20", "--model", "bfcnn:layers=3,width=8", "--batch", "16",
        "--budget", budget.ToString(CultureInfo.InvariantCulture), "--checkpoint-every", "10", "--eval-every", "1000000", "--seed", seed.ToString(CultureInfo.InvariantCulture), "--out", dir,
    ];

    [Fact]
    public void ReleaseRemovesTheLockFileAndTheFolderItCreatedWhenNothingWasWritten()
    {
        var dir = Dir(Path.Combine("a", "b"));
        using (var held = RunFolderLock.Acquire(dir))
        {
            Assert.True(File.Exists(Path.Combine(dir, RunFolderLock.FileName)));
            Assert.True(RunFolderLock.IsEmpty(dir));
            using (RunFolderLock.Acquire(dir)) { } // the same process re-enters
            Assert.True(File.Exists(Path.Combine(dir, RunFolderLock.FileName)), "an inner release must not drop the outer hold");
        }
        Assert.False(Directory.Exists(Dir("a")), "folders the lock created and nothing was written into are removed");

        using (RunFolderLock.Acquire(dir)) File.WriteAllText(Path.Combine(dir, "result.txt"), "kept");
        Assert.Equal(["result.txt"], Directory.EnumerateFileSystemEntries(dir).Select(Path.GetFileName));
        Assert.False(RunFolderLock.IsEmpty(dir));
    }

    [Fact]
    public void AFileOrAMissingFolderIsRefused()
    {
        var file = Dir("file");
        File.WriteAllText(file, "x");
        Assert.Contains("is a file", Assert.Throws<IOException>(() => RunFolderLock.Acquire(file)).Message);
        Assert.Throws<DirectoryNotFoundException>(() => RunFolderLock.Acquire(Dir("missing"), create: false));
        Assert.False(Directory.Exists(Dir("missing")));
    }

    [Fact]
    public void TwoTrainingsStartedIntoOneFolderLeaveOneConsistentRun()
    {
        // The reproduction: a second training into the same --out while the first runs.
        var dir = Dir("c2");
        using var first = Process.Start(MemgenProcess.StartInfo(Train(dir, 10_000_000, 3)))!;
        _ = first.StandardOutput.ReadToEndAsync();
        _ = first.StandardError.ReadToEndAsync();
        try
        {
            var watch = Stopwatch.StartNew();
            while (!File.Exists(Path.Combine(dir, TrainingRun.ConfigFile)) && !first.HasExited && watch.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(10);
            Assert.False(first.HasExited, "the first training ended before the second started");
            var before = Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories).Where(f => !f.EndsWith(".tmp", StringComparison.Ordinal))
                .ToDictionary(f => f, File.GetLastWriteTimeUtc);

            var (code, _, err) = MemgenProcess.Run(Train(dir, 20_000, 4));
            Assert.Equal(2, code);
            var line = Assert.Single(MemgenProcess.Lines(err));
            Assert.StartsWith("memgen train:", line);
            Assert.Contains("in use by another memgen process", line);
            Assert.Contains($"pid {first.Id}", line);
            Assert.False(first.HasExited, "the first training was disturbed");
            Assert.Equal(3, TrainingRun.ReadConfig(dir).Config.Seed);
            Assert.All(new[] { TrainingRun.ConfigFile, MemGen.Training.TrainingJob.SplitFile }, f =>
                Assert.Equal(before[Path.Combine(dir, f)], File.GetLastWriteTimeUtc(Path.Combine(dir, f))));
        }
        finally
        {
            first.Kill(entireProcessTree: true);
            first.WaitForExit();
        }
    }

    [Fact]
    public void AKilledHoldersLockAndTempFilesAreTakenOverWithAMessage()
    {
        var dir = Dir("killed");
        // 500 steps: long enough to be killed after its step-10 checkpoint, short enough for the resume to finish on a busy machine.
        using (var p = Process.Start(MemgenProcess.StartInfo(Train(dir, 8_000, 5)))!)
        {
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            var watch = Stopwatch.StartNew();
            while (!File.Exists(TrainingRun.CheckpointPath(dir, 10)) && !p.HasExited && watch.Elapsed < TimeSpan.FromMinutes(1)) Thread.Sleep(5);
            Assert.False(p.HasExited, "the run finished before it could be killed");
            p.Kill(entireProcessTree: true); // SIGKILL
            p.WaitForExit();
        }
        var lockFile = Path.Combine(dir, RunFolderLock.FileName);
        Assert.True(File.Exists(lockFile), "SIGKILL leaves the lock file behind");
        // A temp file as a writer killed mid-write leaves it, from a pid no process can have (above pid_max).
        int deadPid = int.Parse(File.ReadAllText("/proc/sys/kernel/pid_max").Trim(), CultureInfo.InvariantCulture) + 1;
        var temp = Path.Combine(dir, TrainingRun.CheckpointFolder, $".step-00000020.safetensors.{deadPid}.{Guid.NewGuid():N}.tmp");
        File.WriteAllBytes(temp, new byte[1000]);

        var (code, stdout, err) = MemgenProcess.Run(["train", "--resume", dir]);
        Assert.True(code == 0, err);
        Assert.Contains("resumed at step", stdout);
        Assert.Contains(MemgenProcess.Lines(err), l => l.StartsWith("memgen: warning:", StringComparison.Ordinal) && l.Contains("no longer running") && l.Contains("pid "));
        Assert.Contains(MemgenProcess.Lines(err), l => l.Contains("removed 1000 bytes of temp files"));
        Assert.False(File.Exists(temp));
        Assert.False(File.Exists(lockFile));
    }
}
