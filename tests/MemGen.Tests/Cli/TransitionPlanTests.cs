using System.Text.Json;
using MemGen.Cli.Commands;
using MemGen.Execution;
using MemGen.Experiments.Transition;
using MemGen.Tests.Execution;

using MemGen.Tests.TestSupport;

namespace MemGen.Tests.Cli;

/// <summary><c>memgen experiment transition</c> as a job plan (the Slurm run itself: SlurmClusterTests).</summary>
public sealed class TransitionPlanTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("memgen-cli-transition-plan-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly Dictionary<string, string?> s_noSlurm = new() { ["PATH"] = "/nonexistent" };

    /// <summary>A transition of seconds on 12×12 disks (the settings of TransitionExperimentTests' tiny run), without --out.</summary>
    internal static readonly string[] TinyTransition =
    [
        "experiment", "transition", "--data", "disks:size=12,n=120,seed=3", "--sizes", "1,4", "--model", "bfcnn:layers=3,width=4",
        "--budget", "64", "--batch-size", "16", "--samples", "4", "--eval-images", "12", "--sampler", "algorithm1:variant=code,max_steps=300",
        "--seed", "5", "--no-svg",
    ];

    [Fact]
    public void EveryJobIsTheTransitionCommandWithAllItsSettingsAndItsJobId()
    {
        var settings = TransitionExperiment.Preset("quick") with { Sizes = [1, 10] };
        var plan = TransitionPlan.Of(settings, "quick", "/shared/run", exportSvg: true);
        Assert.Equal(["train", "measure", "report"], plan.Stages.Select(s => s.Name));
        Assert.Equal(["train"], plan.Stage("measure").After);
        Assert.Equal(TransitionExperiment.Jobs(settings).Select(j => (j.Id, j.Marker)), plan.Jobs.Select(j => (j.Id, j.Marker)));
        var job = plan.Stage("train").Jobs[3];
        Assert.Equal("train-n10-s2", job.Id);
        Assert.Equal(["experiment", "transition", "--out", "/shared/run", "--preset", "quick"], job.Arguments.Take(6));
        Assert.Equal(["--job", "train-n10-s2"], job.Arguments.TakeLast(2));
        Assert.DoesNotContain("--no-svg", job.Arguments);
        Assert.Contains("--no-svg", TransitionPlan.Of(settings, "quick", "/shared/run", exportSvg: false).Jobs.First().Arguments);
        // The engine flags of the submitting command go to every task (which opens the engine on its node).
        var onGpu = TransitionPlan.Of(settings, "quick", "/shared/run", exportSvg: true, ["--device", "cuda", "--precision", "tf32"]).Jobs.Last();
        Assert.Equal(["--device", "cuda", "--precision", "tf32", "--job", "report"], onGpu.Arguments.TakeLast(6));
    }

    [Fact]
    public void AJobCommandRebuildsExactlyTheSettingsOfThePlan()
    {
        // Settings far from every default: the paper preset, another test set, and every flag changed.
        var settings = (TransitionExperiment.Preset("paper") with
        {
            Data = "disks:size=16,n=400,seed=9",
            TestData = "disks:size=16,n=50,seed=10",
            Sizes = [2, 30],
            Model = "bfcnn:layers=4,width=6",
            Samples = 7,
            BatchSize = 24,
            LearningRate = 0.00037,
            EvalImages = 20,
            Seed = 11,
            Sampler = "algorithm1:variant=paper,beta=0.25,sigma_inf=0.02,max_steps=77",
            Start = "gaussian",
            TrainingSigmaMax = 2.5,
        }).WithBudget("1234,30=999");
        var run = Path.Combine(_dir, "run");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, "experiment.json"), settings.ToJson("paper").ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var report = TransitionPlan.Of(settings, "paper", run, exportSvg: false).Stage("report").Jobs.Single();
        // The report job checks the run directory's settings first: any difference would be named; with the same
        // settings it gets as far as noticing that nothing was measured yet.
        var (code, _, stderr) = MemgenProcess.Run(s_noSlurm, [.. report.Arguments]);
        Assert.Equal(2, code);
        Assert.Contains("report needs every N measured", stderr);
    }

    [Theory]
    [InlineData("relative", "memgen experiment: --out: 'RELATIVE' is not an absolute path; with --executor slurm every node")]
    [InlineData("partition", "memgen experiment: --partition: only applies with --executor slurm.")]
    [InlineData("job", "memgen experiment: --job: runs one job here; leave out --executor slurm.")]
    [InlineData("sizes", "memgen experiment: --sizes: N = 100 is more than half of the 120 images")]
    public void BadInputIsOneLineAndWritesNothing(string which, string expected)
    {
        var run = Path.Combine(_dir, "run");
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, run);
        string[] args = which switch
        {
            "relative" => [.. TinyTransition, "--out", relative, "--executor", "slurm"],
            "partition" => [.. TinyTransition, "--out", run, "--partition", "gpu"],
            "job" => [.. TinyTransition, "--out", run, "--executor", "slurm", "--job", "report"],
            _ => [.. TinyTransition.Select(a => a == "1,4" ? "1,100" : a), "--out", run, "--executor", "slurm"],
        };
        var (code, _, stderr) = MemgenProcess.Run(s_noSlurm, args);
        Assert.Equal(2, code);
        Assert.StartsWith(expected.Replace("RELATIVE", relative, StringComparison.Ordinal), Assert.Single(stderr.TrimEnd().Split('\n')));
        Assert.False(Directory.Exists(run));
    }

    [Fact]
    public void DryRunListsTheJobsAndScriptsWithoutLoadingMoreThanTheDataOrWritingAnything()
    {
        var run = Path.Combine(_dir, "run");
        var (code, stdout, stderr) = MemgenProcess.Run(s_noSlurm, [.. TinyTransition, "--out", run, "--executor", "slurm", "--dry-run", "--time", "30"]);
        Assert.True(code == 0, stderr);
        Assert.StartsWith($"plan transition in {run}: 3 stage(s), 7 job(s), 0 done\n", stdout);
        Assert.Contains($"----- {PlanFiles.Script(run, "measure")}\n", stdout);
        Assert.Contains("#SBATCH --time=30\n", stdout);
        Assert.Contains($"sbatch --parsable --array=0 '--dependency=afterok:<measure>' {PlanFiles.Script(run, "report")}\n", stdout);
        Assert.False(Directory.Exists(run));

        // Locally, --dry-run lists the jobs in the order they would run.
        (code, stdout, stderr) = MemgenProcess.Run(s_noSlurm, [.. TinyTransition, "--out", run, "--dry-run"]);
        Assert.True(code == 0, stderr);
        Assert.Contains("stage report (1 job(s), after measure):\n", stdout);
        Assert.False(Directory.Exists(run));
    }
}
