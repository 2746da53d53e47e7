using MemGen.Execution;

namespace MemGen.Tests.Execution;

/// <summary>
/// A small two-stage experiment made of memgen commands that exist today: stage "export" writes three Gaussian image
/// sets (<c>memgen data export</c>), stage "train" trains a tiny UNet on two of them (<c>memgen train</c>, 50 steps).
/// Deterministic: the same run twice gives the same files (training weights bit for bit, at one engine thread).
/// </summary>
internal static class FakeExperiment
{
    /// <summary>The memgen this test build runs: dotnet + the CLI assembly next to the tests.</summary>
    public static MemgenProgram Memgen { get; } = new(
    [
        Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet",
        Path.Combine(AppContext.BaseDirectory, "MemGen.Cli.dll"),
    ]);

    /// <summary>One engine thread for every job, locally and on Slurm (--cpus-per-task 1), so the weights can match bit for bit.</summary>
    public static IReadOnlyDictionary<string, string?> Environment1Thread { get; } = new Dictionary<string, string?> { ["OMP_NUM_THREADS"] = "1" };

    public static string DataMarker(int k) => $"data/set-{k}.npy";

    public static string TrainMarker(int k) => $"train/m{k}/checkpoints/final.safetensors";

    public static JobPlan Plan(string runDirectory)
    {
        string Abs(string relative) => Path.Combine(runDirectory, relative);
        var export = new PlanStage
        {
            Name = "export",
            Jobs = [.. Enumerable.Range(0, 3).Select(k => new PlannedJob($"export-{k}",
                ["data", "export", $"gaussian:size=8,mean=0.5,std=0.1,n=200,seed={k}", "--out", Abs(DataMarker(k))], DataMarker(k)))],
        };
        var train = new PlanStage
        {
            Name = "train",
            After = ["export"],
            Jobs = [.. Enumerable.Range(0, 2).Select(k => new PlannedJob($"train-{k}",
                ["train", "--data", $"npy:{Abs(DataMarker(k))}", "--n", "50", "--test", "20", "--model", "unet:blocks=1,width=8",
                 "--budget", "800", "--batch", "16", "--seed", $"{k + 1}", "--out", Abs($"train/m{k}")], TrainMarker(k)))],
        };
        return new JobPlan("fake", [export, train]);
    }
}
