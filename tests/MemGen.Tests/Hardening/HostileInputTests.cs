using System.Text;
using System.Text.RegularExpressions;

using MemGen.Tests.TestSupport;

namespace MemGen.Tests.Hardening;

/// <summary>
/// Every command driven with hostile input, as a user or a careless script would type it. One table: to cover a new
/// case, add a row (command line, environment, expected exit code, a fragment the one error line must contain).
/// Each row runs <c>memgen</c> as a child process in the folder of <see cref="HostileInputFiles"/> (whose files the
/// rows name) and must: exit with the expected non-zero code, print exactly one line on stderr besides progress
/// lines, containing the fragment, print no stack frame anywhere, and leave no new or changed file behind.
/// Rows must fail early (estimate, then refuse), so the whole table runs in seconds.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed partial class HostileInputTests(HostileInputFiles files) : IClassFixture<HostileInputFiles>
{
    /// <summary>Environment entry that runs the row with a file-size limit (KiB) and SIGXFSZ ignored: writes fail as on a full disk.</summary>
    private const string FullDisk = "FILE_SIZE_LIMIT_KB=256";

    private const string Gaussian8 = "'gaussian:size=8,mean=0.5,std=0.1,n=40,seed=1'";
    private const string TrainArgs = "train --data " + Gaussian8 + " --n 10 --test 5 --model bfcnn:layers=3,width=4";

    /// <summary>The table: command line (single quotes group words), environment (NAME=VALUE, space-separated), exit code, fragment.</summary>
    public static TheoryData<string, string, int, string> Rows => new()
    {
        // Parse errors: one line, not the help.
        { "experiment linear-gaussian --preset foo --out o", "", 2, "--preset" },
        { "sample --denoiser identity --shape 1x8x8 --count 1 --count 2 --out o", "", 2, "--count" },
        { "train --bogus", "", 2, "--bogus" },
        { "", "", 2, "Required command" },
        { "--max-memory 12Q version", "", 2, "--max-memory" },
        // Numbers beyond int32 / int64 in flags.
        { "sample --denoiser identity --shape 1x8x8 --count 99999999999 --out o", "", 2, "--count" },
        { "train --data " + Gaussian8 + " --n 99999999999 --out o", "", 2, "--n" },
        { TrainArgs + " --out o --batch 8 --budget 99999999999999999999", "", 2, "--budget" },
        // Dataset specs: sizes, counts, numbers beyond int32, non-finite values, transforms.
        { "data info 'gaussian:d=100000000,mean=0,std=1,n=1000,seed=1'", "", 2, "gaussian:d=100000000" },
        { "data info 'calpha:alpha=3,size=1000,n=100000,seed=1'", "", 2, "calpha:alpha=3,size=1000" },
        { "data info 'calpha:alpha=3,size=4000,n=130,seed=1' --max-memory 1G", "", 2, "needs about" },
        { "data info 'gaussian:d=10,mean=0,std=1,n=99999999999,seed=1'", "", 2, "key 'n'" },
        { "data info 'gaussian:d=10,mean=0,std=1,n=0,seed=1'", "", 2, "key 'n'" },
        { "data info 'gaussian:d=10,mean=0,std=1,n=5,seed=1|take=0'", "", 2, "take=0" },
        { "data info 'gaussian:size=99999,mean=0,std=1,n=5,seed=1'", "", 2, "key 'size'" },
        { "data info 'gaussian:d=10,mean=0,std=1e300,n=5,seed=1'", "", 2, "finite" },
        { "data info 'gaussian:d=10,mean=0,std=1,n=5,seed=1|resize=100000'", "", 2, "resize=100000" },
        { "data info 'npy:nan.npy'", "", 2, "nan.npy: pixel 5 (image 0, channel 0, row 1, column 1) is NaN" },
        { "data info 'idx:huge.idx.gz'", "", 2, "huge.idx.gz: IDX array too large" },
        { "data info 'idx:big.idx.gz' --max-memory 64M", "", 2, "big.idx.gz (1000×256×256 IDX values) needs about" },
        { "data info 'npy:huge.npy'", "", 2, "huge.npy: .npy array too large" },
        { "data preview 'png:pngs' --out pngs/grid.png", "", 2, "source folder" },
        { "data export " + Gaussian8 + " --out file.txt/x.npy", "", 2, "file.txt" },
        { "data export 'gaussian:size=64,mean=0.5,std=0.1,n=100,seed=1' --out big.npy", FullDisk, 2, "big.npy" },
        // sample: shapes, counts, memory, checkpoints whose metadata lies or whose weights are not finite, outputs.
        { "sample --denoiser identity --shape 1x100000x100000 --out o", "", 2, "--shape" },
        { "sample --denoiser identity --shape 1x16 --out o", "", 2, "--shape" },
        { "sample --denoiser identity --shape 1x16x16 --count 30000000 --out o", "", 2, "30000000 samples" },
        { "sample --denoiser identity --shape 1x16x16 --count 8000000 --out o --max-memory 1G", "", 2, "8000000 samples of 1×16×16 needs about" },
        { "sample --denoiser checkpoint:wide.safetensors --out o", "", 2, "does not describe these tensors" },
        { "sample --denoiser checkpoint:tall.safetensors --out o", "", 2, "metadata 'height' must be an integer from 1 to 8192, got 20000" },
        { "sample --denoiser checkpoint:nan.safetensors --out o", "", 2, "tensor 'layer1.conv.weight': value 3 is NaN" },
        { "sample --denoiser checkpoint:overflow.safetensors --count 2 --out o", "", 1, "NaN or infinite pixels" },
        { "sample --denoiser 'empirical:gaussian:size=64,mean=0.5,std=0.1,n=1000,seed=1' --out o --max-memory 17M", "", 2, "the empirical optimal denoiser of 1000 images" },
        { "sample --denoiser identity --shape 1x8x8 --out o --device bogus", "", 2, "--device" },
        { "sample --denoiser identity --shape 1x64x64 --out o --start-covariance 'gaussian:size=64,mean=0.5,std=0.1,n=3,seed=1' --max-memory 17M", "", 2, "the start covariance of" },
        { "sample --denoiser identity --shape 1x8x8 --out file.txt", "", 2, "is a file" },
        { "sample --denoiser identity --shape 1x8x8 --out ro/s", "", 2, "ro/s" },
        { "sample --denoiser identity --shape 1x64x64 --count 64 --sampler flow-euler --steps 1 --out full", FullDisk, 2, "--out" },
        // eval.
        { "eval --denoiser checkpoint:nan.safetensors --train " + Gaussian8 + " --out o", "", 2, "is NaN" },
        { "eval --denoiser checkpoint:overflow.safetensors --train " + Gaussian8 + " --images 4 --out o", "", 1, "PSNR" },
        { "eval --denoiser identity --train " + Gaussian8 + " --out file.txt", "", 2, "is a file" },
        // train.
        { TrainArgs + " --out file.txt", "", 2, "is a file" },
        { TrainArgs + " --out ro/run", "", 2, "ro/run" },
        { TrainArgs + " --out o", "OMP_NUM_THREADS=1000000", 2, "OMP_NUM_THREADS=1000000" },
        { TrainArgs + " --out o --batch 8 --budget 8 --lr 1e30", "", 1, "learning rate" },
        { "train --data 'gaussian:size=1024,mean=0.5,std=0.1,n=4,seed=1' --n 1 --test 0 --model bfcnn:layers=3,width=4 --batch 64 --budget 64 --out o --max-memory 1G", "", 2, "training bfcnn:layers=3,width=4 on 1024×1024 images in batches of 64 needs about" },
        { "train --resume noadam", "", 2, "none can be resumed" },
        { "train --resume missing", "", 2, "missing" },
        // analyze jacobian.
        { "analyze jacobian --denoiser checkpoint:small.safetensors --data 'gaussian:size=300,mean=0.5,std=0.1,n=1,seed=1' --sigma 0.1 --out o", "", 2, "d² = 8100000000" },
        { "analyze jacobian --denoiser checkpoint:small.safetensors --data 'gaussian:size=64,mean=0.5,std=0.1,n=1,seed=1' --sigma 0.1 --out o --max-memory 100M", "", 2, "Jacobian of a 1×64×64 image needs about" },
        { "analyze jacobian --denoiser checkpoint:nan.safetensors --data " + Gaussian8 + " --sigma 0.1 --out o", "", 2, "is NaN" },
        // experiments (each refuses before writing its config).
        { "experiment linear-gaussian --dimensions 4096 --ratios 1 --runs 1 --original-count 1000000000 --out o", "", 2, "needs about" },
        { "experiment gaussian-network --size 2000 --out o", "", 2, "needs about" },
        { "experiment gaussian-network --size 100000 --out o", "", 2, "size" },
        { "experiment transition --data " + Gaussian8 + " --sizes 100 --out o", "", 2, "half" },
        { "experiment transition --out file.txt", "", 2, "is a file" },
        { "experiment transition --job bogus --out o", "", 2, "--job" },
        { "experiment transition --start cold --out o", "", 2, "--start" },
        { "experiment transition --data 'gaussian:size=64,mean=0.5,std=0.1,n=40,seed=1' --sizes 4 --eval-images 12 --model bfcnn:layers=3,width=4 --start gaussian --out o --max-memory 17M", "", 2, "the start covariance of 4096-pixel images" },
        { "experiment transition --train-sigma-max 0 --out o", "", 2, "--train-sigma-max" },
        { "experiment linear-gaussian --out ro/lg", "", 2, "ro/lg" },
        // report: a report.json carrying script is refused, not rendered.
        { "report injected", "", 2, "png_base64 is not base64-encoded PNG data" },
        { "report missing", "", 2, "missing" },
        { "version", "OMP_NUM_THREADS=abc", 2, "OMP_NUM_THREADS=abc" },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void RefusedWithOneLineAndNothingLeftBehind(string commandLine, string environment, int exit, string fragment)
    {
        var before = files.Snapshot();
        var env = environment.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(e => e.Split('=', 2)).ToDictionary(e => e[0], e => e[1]);
        var args = Words(commandLine);
        var (code, stdout, stderr) = env.Remove("FILE_SIZE_LIMIT_KB", out var limit)
            ? RunWithFileSizeLimit(limit, args, env)
            : MemgenProcess.Run(args, files.Folder, env);

        string context = $"memgen {commandLine}\nexit {code}\nstdout:\n{stdout}\nstderr:\n{stderr}";
        Assert.True(code == exit, context);
        Assert.DoesNotContain("   at ", stderr + stdout);
        var lines = MemgenProcess.Lines(stderr).Where(l => !IsProgress(l)).ToList();
        Assert.True(lines.Count == 1, $"expected exactly one line on stderr\n{context}");
        Assert.StartsWith("memgen", lines[0]);
        Assert.Contains(fragment, lines[0]);
        var after = files.Snapshot();
        Assert.True(before.SequenceEqual(after),
            $"left behind: {string.Join(", ", after.Where(kv => !before.TryGetValue(kv.Key, out var b) || b != kv.Value).Select(kv => kv.Key))}\n{context}");
    }

    /// <summary>Progress and status lines a long command prints on a redirected stderr (they are not errors).</summary>
    private static bool IsProgress(string line) => ProgressLine().IsMatch(line);

    [GeneratedRegex(@"^(.+: \d+%|.+ \d\d:\d\d \[ *\d+ %\].*|memgen train: (loading|reloading) .+|memgen train: step \d+/\d+ .+)$")]
    private static partial Regex ProgressLine();

    /// <summary>Splits a command line on spaces, keeping single-quoted words together (quotes removed).</summary>
    private static List<string> Words(string line)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        bool quoted = false, any = false;
        foreach (char c in line)
        {
            if (c == '\'') { quoted = !quoted; any = true; continue; }
            if (c == ' ' && !quoted)
            {
                if (any) words.Add(word.ToString());
                word.Clear();
                any = false;
                continue;
            }
            word.Append(c);
            any = true;
        }
        if (any) words.Add(word.ToString());
        return words;
    }

    /// <summary>
    /// A full disk, simulated without privileges: memgen under a file-size limit (KiB) with SIGXFSZ ignored, so every
    /// write past the limit fails (EFBIG) as a write to a full disk fails (ENOSPC).
    /// </summary>
    private (int Code, string Out, string Err) RunWithFileSizeLimit(string limitKiB, List<string> args, Dictionary<string, string> env)
    {
        env["DOTNET_EnableWriteXorExecute"] = "0"; // the runtime's double-mapped code file would hit the limit too
        var info = MemgenProcess.StartInfo(args, files.Folder, env);
        var dotnet = info.FileName;
        info.FileName = "bash";
        info.ArgumentList.Insert(0, dotnet);
        info.ArgumentList.Insert(0, $"trap '' XFSZ; ulimit -f {limitKiB}; exec \"$@\"");
        info.ArgumentList.Insert(0, "-c");
        info.ArgumentList.Insert(2, "bash"); // $0 of the script; "$@" is dotnet MemGen.Cli.dll ARGS
        using var p = System.Diagnostics.Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(120_000), "did not finish in 2 minutes");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }
}
