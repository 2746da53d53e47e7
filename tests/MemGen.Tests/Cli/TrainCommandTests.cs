using System.Diagnostics;
using MemGen.Nn;
using MemGen.Training;

namespace MemGen.Tests.Cli;

public sealed class TrainCommandTests : IDisposable
{
    private const string Data = "gaussian:size=8,mean=0.5,std=0.1,n=120,seed=3";
    private readonly string _folder = Directory.CreateTempSubdirectory("memgen-cli-train-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private string Dir(string name) => Path.Combine(_folder, name);

    private static ProcessStartInfo Memgen(IEnumerable<string> args)
    {
        var cli = Path.Combine(AppContext.BaseDirectory, "MemGen.Cli.dll");
        var info = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(cli);
        foreach (var a in args) info.ArgumentList.Add(a);
        return info;
    }

    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        using var p = Process.Start(Memgen(args))!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "memgen did not finish in 2 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private string[] TrainArgs(string dir) =>
    [
        "train", "--data", Data, "--n", "40", "--test", "20", "--model", "bfcnn:layers=3,width=16", "--out", dir,
        "--budget", "1280", "--batch", "16", "--images-per-epoch", "320", "--lr-decay-epochs", "2",
        "--checkpoint-every", "5", "--eval-every", "10", "--seed", "5",
    ];

    [Fact]
    public void HelpNamesTheParameterCountsOfTheModels()
    {
        var (code, stdout, _) = Run("train", "--help");
        Assert.Equal(0, code);
        // Counted from the built networks (independent of the closed form ModelHelp prints).
        foreach (var text in new[] { "unet:blocks=2,width=32", "unet-cond:blocks=2,width=32,emb=64,sigma_data=0.5" })
        {
            using var net = MemGen.Nn.NetworkFactory.Create(MemGen.Nn.NetworkSpec.Parse(text), 1, MemGen.Compute.ComputeBackend.Host, seed: 0);
            var flat = string.Join(' ', stdout.Split((char[])['\n', '\r', ' '], StringSplitOptions.RemoveEmptyEntries));
            Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{text}: {net.ParameterCount:N0} parameters"), flat, StringComparison.Ordinal);
        }
    }

    [Theory]
    [InlineData("--n", "0", "--n")]
    [InlineData("--model", "bfcnn:layers=3,depth=4", "--model")]
    [InlineData("--subset", "s3", "--subset")]
    [InlineData("--batch", "0", "--batch")]
    [InlineData("--n", "100", "half of the pool")]
    [InlineData("--sigma-max", "0", "--sigma-max")]
    [InlineData("--sigma-exponent", "-1", "--sigma-exponent")]
    [InlineData("--lr", "0", "memgen train: --lr: must be a positive number")]
    [InlineData("--p-std", "0", "memgen train: --p-std: must be positive")]
    [InlineData("--test", "-1", "memgen train: --test: must not be negative")]
    [InlineData("--loss-weighting", "edm", "memgen train: --loss-weighting: edm needs a noise-conditioned network")]
    [InlineData("--device", "gpu", "--device")]
    [InlineData("--device", "cuda:x", "--device")]
    [InlineData("--precision", "tf32", "precision tf32")]
    [InlineData("--precision", "fp16", "--precision")]
    public void BadInputIsAOneLineErrorAndWritesNothing(string flag, string value, string named)
    {
        var dir = Dir("bad");
        var args = TrainArgs(dir).ToList();
        int at = args.IndexOf(flag);
        if (at >= 0) args[at + 1] = value;
        else args.AddRange([flag, value]);
        var (code, _, err) = Run([.. args]);
        Assert.Equal(2, code);
        var lines = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("loading")).ToList();
        var line = Assert.Single(lines);
        Assert.StartsWith("memgen train:", line);
        Assert.Contains(named, line);
        Assert.False(Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any(), "no output on bad input");
    }

    [Fact]
    public void NoiseScheduleFlagsAreRecordedAndResumeRefusesThem()
    {
        var dir = Dir("sigma");
        var args = TrainArgs(dir).ToList();
        args[args.IndexOf("--budget") + 1] = "64";
        args.AddRange(["--sigma-max", "0.5", "--sigma-exponent", "1"]);
        var (code, _, err) = Run([.. args]);
        Assert.True(code == 0, err);
        var options = TrainingRun.ReadConfig(dir).Config.Options;
        Assert.Equal((0.5, 1.0), (options.SigmaMax, options.SigmaExponent));
        var (again, _, refusal) = Run("train", "--resume", dir, "--sigma-max", "0.7");
        Assert.Equal(2, again);
        Assert.Contains("--sigma-max", refusal);
    }

    [Fact]
    public void CudaDeviceIsOneLineWhereNoneIsUsable()
    {
        // On a machine with a GPU the same command trains; without one it must say what is missing in one line.
        if (MemGen.Tests.Compute.ConformanceFactDiscoverer.CudaUnavailable is not string reason) return;
        var dir = Dir("cuda");
        var (code, _, err) = Run([.. TrainArgs(dir), "--device", "cuda"]);
        Assert.Equal(2, code);
        var line = Assert.Single(err.Split('\n', StringSplitOptions.RemoveEmptyEntries), l => !l.Contains("loading"));
        Assert.StartsWith("memgen train: --device cuda: ", line);
        Assert.Contains(reason.TrimEnd('.'), line);
        Assert.False(Directory.Exists(dir) && Directory.EnumerateFileSystemEntries(dir).Any(), "no output without a device");
    }

    [Fact]
    public async Task KilledTrainingResumesToBitIdenticalWeights()
    {
        // Uninterrupted reference run.
        var (code, stdout, err) = Run(TrainArgs(Dir("full")));
        Assert.True(code == 0, err);
        Assert.Contains("final checkpoint", stdout);

        // The same run, SIGKILLed after its checkpoint at step 15 (of 80; the margin keeps a fast machine from finishing first), then resumed.
        var killed = Dir("killed");
        using (var p = Process.Start(Memgen(TrainArgs(killed)))!)
        {
            _ = p.StandardOutput.ReadToEndAsync();
            _ = p.StandardError.ReadToEndAsync();
            var watch = Stopwatch.StartNew();
            while (!File.Exists(TrainingRun.CheckpointPath(killed, 15)) && !p.HasExited && watch.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(5);
            Assert.False(p.HasExited, "the run finished before it could be killed");
            p.Kill(entireProcessTree: true); // SIGKILL
            p.WaitForExit();
        }
        var stoppedAt = TrainingRun.LatestCheckpointStep(killed);
        Assert.InRange(stoppedAt ?? -1, 15, 79);
        Assert.False(File.Exists(Path.Combine(killed, "checkpoints", "final.safetensors")));

        var again = Run(TrainArgs(killed)); // without --force or --resume: refused
        Assert.Equal(2, again.Code);
        Assert.Contains("--resume", again.Err);

        var resumed = Run("train", "--resume", killed);
        Assert.True(resumed.Code == 0, resumed.Err);
        Assert.Contains("resumed at step", resumed.Out);

        var a = SafeTensors.Read(Path.Combine(Dir("full"), "checkpoints", "final.safetensors"));
        var b = SafeTensors.Read(Path.Combine(killed, "checkpoints", "final.safetensors"));
        Assert.Equal(a.Tensors.Select(t => t.Name), b.Tensors.Select(t => t.Name));
        for (int i = 0; i < a.Tensors.Count; i++)
            Assert.True(a.Tensors[i].Values.Select(BitConverter.SingleToInt32Bits).SequenceEqual(b.Tensors[i].Values.Select(BitConverter.SingleToInt32Bits)),
                $"tensor {a.Tensors[i].Name} differs after kill and resume");
        Assert.Contains(a.Tensors, t => t.Name.Contains("running", StringComparison.OrdinalIgnoreCase) || t.Name.Contains("sd", StringComparison.OrdinalIgnoreCase));

        // SIGTERM (and Ctrl+C, the same path): the run stops after the current step with a checkpoint there, exit code 130.
        // The test sends SIGTERM because a process started in the background by a non-interactive shell (as a CI job
        // may be) inherits SIGINT as ignored.
        var interrupted = Dir("interrupted");
        using (var p = Process.Start(Memgen(TrainArgs(interrupted)))!)
        {
            _ = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            var watch = Stopwatch.StartNew();
            while (!File.Exists(TrainingRun.CheckpointPath(interrupted, 10)) && !p.HasExited && watch.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(5);
            Assert.False(p.HasExited, "the run finished before it could be interrupted");
            using (var kill = Process.Start("kill", ["-TERM", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])) kill.WaitForExit();
            Assert.True(p.WaitForExit(60_000), "SIGTERM did not stop the run");
            Assert.Equal(130, p.ExitCode);
            Assert.Contains("--resume", await stderr);
        }
        Assert.InRange(TrainingRun.LatestCheckpointStep(interrupted) ?? -1, 10, 79);
        Assert.True(Run("train", "--resume", interrupted).Code == 0);
        var c = SafeTensors.Read(Path.Combine(interrupted, "checkpoints", "final.safetensors"));
        Assert.Equal(a.Tensors.Select(t => t.Values), c.Tensors.Select(t => t.Values));

        var metrics = File.ReadAllLines(Path.Combine(killed, "metrics.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0])).ToArray();
        Assert.Equal(File.ReadAllLines(Path.Combine(Dir("full"), "metrics.csv")).Skip(1).Select(l => int.Parse(l.Split(',')[0])), metrics);
    }
}
