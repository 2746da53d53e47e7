using System.Globalization;

namespace MemGen.Execution;

/// <summary>
/// Where a planned experiment keeps its execution records in the run directory:
/// <code>
/// plan.json                              the job plan (stages, jobs, exact memgen arguments, done markers)
/// slurm/STAGE.sbatch                     the sbatch script of each stage (--executor slurm)
/// slurm/submissions.json                 every sbatch submission: stage, Slurm job id, array indices, dependency
/// slurm/logs/STAGE-INDEX.JOBID.log       output of each array task (JOBID: the array's Slurm job id)
/// </code>
/// The jobs' own results live where their commands write them (e.g. n-10/s1/ for a training run).
/// </summary>
public static class PlanFiles
{
    /// <summary>File name of the recorded plan.</summary>
    public const string PlanFile = "plan.json";

    /// <summary>Folder (in the run directory) of the Slurm scripts, submission record and logs.</summary>
    public const string SlurmFolder = "slurm";

    /// <summary>The recorded plan.</summary>
    public static string Plan(string runDirectory) => Path.Combine(runDirectory, PlanFile);

    /// <summary>The sbatch script of <paramref name="stage"/>.</summary>
    public static string Script(string runDirectory, string stage) => Path.Combine(runDirectory, SlurmFolder, $"{stage}.sbatch");

    /// <summary>The record of every submission.</summary>
    public static string Submissions(string runDirectory) => Path.Combine(runDirectory, SlurmFolder, "submissions.json");

    /// <summary>The folder of the array tasks' logs.</summary>
    public static string SlurmLogs(string runDirectory) => Path.Combine(runDirectory, SlurmFolder, "logs");

    /// <summary>The <c>--output</c> pattern of a stage's tasks (<c>%a</c>: array index, <c>%A</c>: the array's job id).</summary>
    public static string SlurmLogPattern(string runDirectory, string stage) => Path.Combine(SlurmLogs(runDirectory), $"{stage}-%a.%A.log");

    /// <summary>The log of task <paramref name="index"/> of the array <paramref name="arrayJobId"/> of <paramref name="stage"/>.</summary>
    public static string SlurmLog(string runDirectory, string stage, int index, string arrayJobId) =>
        Path.Combine(SlurmLogs(runDirectory), string.Create(CultureInfo.InvariantCulture, $"{stage}-{index}.{arrayJobId}.log"));
}
