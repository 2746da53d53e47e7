using System.Globalization;
using System.Text;

namespace MemGen.Execution;

/// <summary>
/// The sbatch script of one stage: a bash script, readable on its own, whose array task i runs job i of the stage
/// with its exact memgen command line. Resources come from <c>#SBATCH</c> lines (so <c>sbatch STAGE.sbatch</c> by
/// hand submits the whole stage); memgen passes <c>--array</c> (only the tasks not done) and <c>--dependency</c>
/// on the sbatch command line. Each task: skips if its marker exists already; refuses to start if a job of a stage it
/// depends on is not done; runs the command with OMP_NUM_THREADS set to the cores it was given; fails if the command
/// did not write its marker.
/// </summary>
public static class SbatchScript
{
    /// <summary>The Slurm job name of a stage's array.</summary>
    public static string JobName(JobPlan plan, PlanStage stage)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(stage);
        return $"memgen-{plan.Name}-{stage.Name}";
    }

    /// <summary>The <c>--array</c> value for <paramref name="indices"/> (ranges collapsed), with the throttle if any.</summary>
    public static string ArraySpec(IReadOnlyList<int> indices, int? maxConcurrent)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var spec = Ranges(indices);
        return maxConcurrent is int k ? string.Create(CultureInfo.InvariantCulture, $"{spec}%{k}") : spec;
    }

    /// <summary>Sorted indices as "0-3,5,7-8".</summary>
    public static string Ranges(IReadOnlyList<int> indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        var sorted = indices.Distinct().Order().ToArray();
        if (sorted.Length == 0) throw new ArgumentException("No indices.", nameof(indices));
        var parts = new List<string>();
        for (int i = 0; i < sorted.Length;)
        {
            int j = i;
            while (j + 1 < sorted.Length && sorted[j + 1] == sorted[j] + 1) j++;
            parts.Add(j == i
                ? sorted[i].ToString(CultureInfo.InvariantCulture)
                : string.Create(CultureInfo.InvariantCulture, $"{sorted[i]}-{sorted[j]}"));
            i = j + 1;
        }
        return string.Join(",", parts);
    }

    /// <summary>The script of <paramref name="stage"/> of <paramref name="plan"/> for a run in the absolute <paramref name="runDirectory"/>.</summary>
    public static string Render(JobPlan plan, PlanStage stage, string runDirectory, ExecutionSettings settings, MemgenProgram memgen)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(stage);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(memgen);
        if (!Path.IsPathFullyQualified(runDirectory)) throw new ArgumentException($"The run directory '{runDirectory}' is not absolute.", nameof(runDirectory));
        int position = plan.Stages.ToList().IndexOf(stage);
        if (position < 0) throw new ArgumentException($"Stage '{stage.Name}' is not a stage of plan '{plan.Name}'.", nameof(stage));
        static string Q(string s) => ShellQuoting.Quote(s);
        var all = Enumerable.Range(0, stage.Jobs.Count).ToArray();
        var script = new StringBuilder();
        void Line(string text = "") => script.Append(text).Append('\n');

        Line("#!/bin/bash");
        Line(string.Create(CultureInfo.InvariantCulture,
            $"# MemGen job plan \"{plan.Name}\", stage \"{stage.Name}\" ({position + 1} of {plan.Stages.Count}): {stage.Jobs.Count} task(s), task i runs job i below."));
        Line($"# Run directory {runDirectory}: every node must see it (a shared filesystem).");
        Line("# memgen submits it as: sbatch --parsable --array=TASKS_NOT_DONE [--dependency=afterok:...] " + PlanFiles.Script(runDirectory, stage.Name));
        if (stage.After.Count > 0) Line($"# It starts after every job of stage(s) {string.Join(", ", stage.After)} is done.");
        Line($"#SBATCH --job-name={SbatchScript.JobName(plan, stage)}");
        Line($"#SBATCH --array={ArraySpec(all, settings.MaxConcurrent)}");
        Line($"#SBATCH --output={PlanFiles.SlurmLogPattern(runDirectory, stage.Name)}");
        Line($"#SBATCH --chdir={runDirectory}");
        if (settings.Partition is not null) Line($"#SBATCH --partition={settings.Partition}");
        if (settings.Account is not null) Line($"#SBATCH --account={settings.Account}");
        if (settings.Time is not null) Line($"#SBATCH --time={settings.Time}");
        if (settings.CpusPerTask is int cpus) Line(string.Create(CultureInfo.InvariantCulture, $"#SBATCH --cpus-per-task={cpus}"));
        if (settings.GpusPerTask is int gpus) Line(string.Create(CultureInfo.InvariantCulture, $"#SBATCH --gpus-per-task={gpus}"));
        foreach (var arg in settings.SbatchArguments) Line($"#SBATCH {arg}");
        Line("set -euo pipefail");
        Line("# The engine uses as many threads as cores this task was given (for bit-identical results, run locally with the same OMP_NUM_THREADS).");
        Line("export OMP_NUM_THREADS=\"${SLURM_CPUS_PER_TASK:-$(nproc)}\"");
        Line();

        Line("case \"${SLURM_ARRAY_TASK_ID:?submit this script with sbatch --array}\" in");
        for (int i = 0; i < stage.Jobs.Count; i++)
        {
            var job = stage.Jobs[i];
            Line(string.Create(CultureInfo.InvariantCulture, $"  {i}) job={Q(job.Id)} marker={Q(job.Marker)}"));
            Line($"     command=({ShellQuoting.Join(memgen.CommandLine(job))}) ;;");
        }
        Line("  *) echo \"memgen: stage " + stage.Name + " has no task $SLURM_ARRAY_TASK_ID\" >&2; exit 2 ;;");
        Line("esac");
        Line("if [ -e \"$marker\" ]; then echo \"memgen: $job is done already ($marker exists)\"; exit 0; fi");

        var needed = stage.After.SelectMany(a => plan.Stage(a).Jobs).ToList();
        if (needed.Count > 0)
        {
            // afterok orders the stages; this check also catches a prerequisite that Slurm let pass (e.g. a task cancelled while pending).
            Line($"for needed in {string.Join(" ", needed.Select(j => Q(j.Marker)))}; do");
            Line("  if [ ! -e \"$needed\" ]; then echo \"memgen: $job needs $needed, which is missing (a job it depends on is not done); not starting\" >&2; exit 1; fi");
            Line("done");
        }
        Line("echo \"memgen: $job starts on $(hostname) with $OMP_NUM_THREADS thread(s): ${command[*]}\"");
        Line("\"${command[@]}\"");
        Line("if [ ! -e \"$marker\" ]; then echo \"memgen: $job exited without writing $marker\" >&2; exit 1; fi");
        Line("echo \"memgen: $job done\"");
        return script.ToString();
    }
}
