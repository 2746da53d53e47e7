using System.Diagnostics;
using System.Text;
using MemGen.Execution;

namespace MemGen.Tests.Execution;

public sealed class SbatchScriptTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memgen-sbatch-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly ExecutionSettings s_settings = new()
    {
        Executor = ExecutorKind.Slurm,
        Partition = "gpu",
        Account = "lab",
        Time = "4:00:00",
        CpusPerTask = 8,
        GpusPerTask = 1,
        MaxConcurrent = 2,
        SbatchArguments = ["--constraint=a100", "--qos=long"],
    };

    [Fact]
    public void ScriptHoldsTheResourcesTheArrayAndTheExactCommandOfEveryTask()
    {
        var plan = FakeExperiment.Plan(_dir);
        var stage = plan.Stage("train");
        var script = SbatchScript.Render(plan, stage, _dir, s_settings, FakeExperiment.Memgen);
        var lines = script.Split('\n');
        Assert.Equal("#!/bin/bash", lines[0]);
        string[] expected =
        [
            "#SBATCH --job-name=memgen-fake-train",
            "#SBATCH --array=0-1%2",
            $"#SBATCH --output={_dir}/slurm/logs/train-%a.%A.log",
            $"#SBATCH --chdir={_dir}",
            "#SBATCH --partition=gpu",
            "#SBATCH --account=lab",
            "#SBATCH --time=4:00:00",
            "#SBATCH --cpus-per-task=8",
            "#SBATCH --gpus-per-task=1",
            "#SBATCH --constraint=a100",
            "#SBATCH --qos=long",
        ];
        Assert.Equal(expected, lines.Where(l => l.StartsWith("#SBATCH", StringComparison.Ordinal)));
        // sbatch reads #SBATCH lines only before the first command.
        int firstCommand = Array.FindIndex(lines, l => l.Length > 0 && !l.StartsWith('#'));
        Assert.True(Array.FindLastIndex(lines, l => l.StartsWith("#SBATCH", StringComparison.Ordinal)) < firstCommand);
        // Task i runs job i, with memgen's full command line.
        for (int i = 0; i < stage.Jobs.Count; i++)
        {
            var job = stage.Jobs[i];
            Assert.Contains($"  {i}) job={job.Id} marker={job.Marker}", lines);
            Assert.Contains($"     command=({string.Join(" ", FakeExperiment.Memgen.CommandLine(job))}) ;;", lines);
        }
        // The train stage checks that every export job is done before starting.
        Assert.Contains("for needed in data/set-0.npy data/set-1.npy data/set-2.npy; do", lines);
        Assert.Contains("export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-$(nproc)}\"", lines);

        var first = SbatchScript.Render(plan, plan.Stage("export"), _dir, new ExecutionSettings { Executor = ExecutorKind.Slurm }, FakeExperiment.Memgen);
        Assert.DoesNotContain("for needed", first);
        Assert.Contains("#SBATCH --array=0-2\n", first);
        Assert.DoesNotContain("--partition", first);
    }

    [Fact]
    public void ArraySpecCollapsesRanges()
    {
        Assert.Equal("0-3", SbatchScript.ArraySpec([0, 1, 2, 3], null));
        Assert.Equal("0,2-4,7%3", SbatchScript.ArraySpec([7, 4, 3, 2, 0], 3));
        Assert.Equal("5", SbatchScript.Ranges([5, 5]));
        Assert.Throws<ArgumentException>(() => SbatchScript.Ranges([]));
    }

    // The script run by bash, as a Slurm task would run it, with a stand-in for memgen that records what it received.
    private const string FakeMemgen = """
        #!/bin/bash
        printf '%s\0' "$@" > "args-$SLURM_ARRAY_TASK_ID.bin"
        echo "$OMP_NUM_THREADS" > "threads-$SLURM_ARRAY_TASK_ID.txt"
        marker="${!#}"
        if [ "$marker" != "no-marker" ]; then mkdir -p "$(dirname "$marker")"; touch "$marker"; fi
        """;

    private static readonly string[] s_awkward = ["plain", "two words", "it's", "$HOME", "*", "a|b;c&d", "", "--x=\"q\"", "back\\slash", "ünï", "`id`", "~"];

    private (JobPlan Plan, string Script) Stage2Script(string lastArgument = "out/b-1.done")
    {
        var fake = Path.Combine(_dir, "fake-memgen");
        File.WriteAllText(fake, FakeMemgen.Replace("\r", ""));
        var a = new PlanStage { Name = "a", Jobs = [new PlannedJob("a-0", ["x", "out/a-0.done"], "out/a-0.done")] };
        var b = new PlanStage
        {
            Name = "b",
            After = ["a"],
            Jobs = [new PlannedJob("b-0", ["x", "out/b-0.done"], "out/b-0.done"), new PlannedJob("b-1", [.. s_awkward, lastArgument], "out/b-1.done")],
        };
        var plan = new JobPlan("t", [a, b]);
        var script = Path.Combine(_dir, "b.sbatch");
        File.WriteAllText(script, SbatchScript.Render(plan, b, _dir, new ExecutionSettings { Executor = ExecutorKind.Slurm }, new MemgenProgram(["bash", fake])));
        return (plan, script);
    }

    private (int Code, string Out, string Err) RunTask(string script, int index, string? cpus = null)
    {
        var info = new ProcessStartInfo("bash") { WorkingDirectory = _dir, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(script);
        info.Environment["SLURM_ARRAY_TASK_ID"] = index.ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (cpus is null) info.Environment.Remove("SLURM_CPUS_PER_TASK");
        else info.Environment["SLURM_CPUS_PER_TASK"] = cpus;
        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.True(p.WaitForExit(30_000), "the script did not finish in 30 s");
        return (p.ExitCode, stdout.Result, stderr.Result);
    }

    private string[] ReceivedArguments(int index) =>
        Encoding.UTF8.GetString(File.ReadAllBytes(Path.Combine(_dir, $"args-{index}.bin"))).Split('\0')[..^1];

    [Fact]
    public void TaskRunsItsJobWithExactlyThePlannedArguments()
    {
        var (plan, script) = Stage2Script();
        Directory.CreateDirectory(Path.Combine(_dir, "out"));
        File.WriteAllText(Path.Combine(_dir, "out/a-0.done"), "");
        var (code, stdout, stderr) = RunTask(script, 1, cpus: "3");
        Assert.True(code == 0, stderr);
        Assert.Equal(plan.Stage("b").Jobs[1].Arguments, ReceivedArguments(1));
        Assert.Equal("3", File.ReadAllText(Path.Combine(_dir, "threads-1.txt")).Trim());
        Assert.Contains("memgen: b-1 done", stdout);
        Assert.True(File.Exists(Path.Combine(_dir, "out/b-1.done")));

        // Without --cpus-per-task the task uses the cores it can run on.
        (code, _, stderr) = RunTask(script, 0);
        Assert.True(code == 0, stderr);
        Assert.Equal(Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture), File.ReadAllText(Path.Combine(_dir, "threads-0.txt")).Trim());
    }

    [Fact]
    public void TaskRefusesToStartWhenAPrerequisiteIsNotDone()
    {
        var (_, script) = Stage2Script();
        var (code, _, stderr) = RunTask(script, 0);
        Assert.Equal(1, code);
        Assert.Contains("memgen: b-0 needs out/a-0.done, which is missing", stderr);
        Assert.False(File.Exists(Path.Combine(_dir, "args-0.bin")), "the job must not have run");
    }

    [Fact]
    public void TaskWhoseMarkerExistsDoesNothing()
    {
        var (_, script) = Stage2Script();
        Directory.CreateDirectory(Path.Combine(_dir, "out"));
        File.WriteAllText(Path.Combine(_dir, "out/b-0.done"), "");
        var (code, stdout, _) = RunTask(script, 0);
        Assert.Equal(0, code);
        Assert.Contains("b-0 is done already", stdout);
        Assert.False(File.Exists(Path.Combine(_dir, "args-0.bin")));
    }

    [Fact]
    public void TaskFailsWhenTheCommandDoesNotWriteItsMarkerOrTheIndexIsUnknown()
    {
        var (_, script) = Stage2Script(lastArgument: "no-marker");
        Directory.CreateDirectory(Path.Combine(_dir, "out"));
        File.WriteAllText(Path.Combine(_dir, "out/a-0.done"), "");
        var (code, _, stderr) = RunTask(script, 1);
        Assert.Equal(1, code);
        Assert.Contains("b-1 exited without writing out/b-1.done", stderr);
        (code, _, stderr) = RunTask(script, 2);
        Assert.Equal(2, code);
        Assert.Contains("stage b has no task 2", stderr);
    }
}
