using System.Globalization;
using MemGen.Execution;
using MemGen.Experiments.Transition;
using MemGen.Reporting;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen experiment transition</c> as a job plan: <see cref="TransitionExperiment.Jobs"/> (train → measure → report),
/// each job the transition command itself with every setting spelled out and <c>--job ID</c>, so a Slurm task runs
/// exactly the settings of the submitting command (the run directory's experiment.json must match, or the task refuses).
/// </summary>
internal static class TransitionPlan
{
    /// <summary>
    /// The plan of the experiment <paramref name="settings"/> (preset <paramref name="preset"/>) in the absolute
    /// <paramref name="runDirectory"/>; <paramref name="engineFlags"/> (e.g. <c>--device cuda --precision tf32</c>) go to every job.
    /// </summary>
    public static JobPlan Of(TransitionSettings settings, string preset, string runDirectory, bool exportSvg, IReadOnlyList<string>? engineFlags = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        IReadOnlyList<string> common = [.. Arguments(settings, preset, runDirectory, exportSvg), .. engineFlags ?? []];
        return JobPlan.Chain("transition", TransitionExperiment.Jobs(settings)
            .Select(j => (j.Stage, new PlannedJob(j.Id, [.. common, "--job", j.Id], j.Marker))));
    }

    /// <summary>
    /// The arguments that make the transition command build exactly <paramref name="settings"/>: the preset (for the
    /// settings without a flag) and every setting that has a flag, with its value.
    /// </summary>
    public static IReadOnlyList<string> Arguments(TransitionSettings settings, string preset, string runDirectory, bool exportSvg)
    {
        ArgumentNullException.ThrowIfNull(settings);
        static string N(IFormattable v) => v.ToString(null, CultureInfo.InvariantCulture);
        var args = new List<string> { "experiment", "transition", "--out", runDirectory, "--preset", preset, "--data", settings.Data };
        if (settings.TestData is not null) args.AddRange(["--test-data", settings.TestData]);
        args.AddRange(
        [
            "--sizes", string.Join(",", settings.Sizes.Select(n => N(n))),
            "--model", settings.Model,
            "--samples", N(settings.Samples),
            "--budget", settings.BudgetText,
            "--batch-size", N(settings.BatchSize),
            "--train-sigma-max", settings.TrainingSigmaMax.ToString("R", CultureInfo.InvariantCulture),
            "--learning-rate", settings.LearningRate.ToString("R", CultureInfo.InvariantCulture),
            "--eval-images", N(settings.EvalImages),
            "--sampler", settings.Sampler,
            "--start", settings.Start,
            "--seed", N(settings.Seed),
        ]);
        if (!exportSvg) args.Add("--no-svg");
        return args;
    }

    /// <summary>
    /// With <c>--executor slurm</c> or <c>--dry-run</c>: checks the settings, the data and the run directory
    /// (<see cref="TransitionExperiment.Prepare"/>), then submits or lists the plan (<see cref="PlanExecution"/>).
    /// </summary>
    public static int Execute(TransitionSettings settings, string preset, string runDirectory, ExecutionSettings execution,
        ReportWriteOptions reportOptions, IReadOnlyList<string> engineFlags, CancellationToken cancellation)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(execution);
        ArgumentNullException.ThrowIfNull(reportOptions);
        execution.Validate(runDirectory);
        TransitionExperiment.Prepare(settings, runDirectory, preset, checkOnly: execution.DryRun);
        var plan = Of(settings, preset, Path.GetFullPath(runDirectory), reportOptions.ExportSvg, engineFlags);
        // Only a local --dry-run comes here without Slurm, and it runs nothing; a local run goes through TransitionExperiment.Run.
        var here = new InProcessJobRunner((job, c) =>
        {
            TransitionExperiment.RunJob(settings, runDirectory, preset, job.Id, null, c, reportOptions);
            return 0;
        });
        return PlanExecution.Execute("experiment", plan, runDirectory, execution, here, cancellation);
    }

    /// <summary>Before a local run: refuses while tasks of an earlier Slurm submission into <paramref name="runDirectory"/> are queued.</summary>
    public static void CheckNothingQueued(TransitionSettings settings, string preset, string runDirectory, bool exportSvg)
    {
        if (!File.Exists(PlanFiles.Submissions(runDirectory))) return;
        PlanExecutor.CheckNothingQueued(Of(settings, preset, Path.GetFullPath(runDirectory), exportSvg), runDirectory, new SlurmClient());
    }
}
