using System.CommandLine;
using MemGen.Execution;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen experiment resume RUN_DIR</c>: runs (locally) or resubmits (<c>--executor slurm</c>) what is not done of
/// the job plan recorded in RUN_DIR/plan.json, with the same execution flags as the experiments. The experiment's own
/// command does the same when run again; this one needs only the run directory.
/// </summary>
internal static class ExperimentResumeCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var runDir = new Argument<string>("RUN_DIR") { Description = "The run directory of an experiment (holds plan.json)." };
        var execution = new ExecutionOptions();
        var command = new Command("resume",
            "Run or resubmit what is not done of the job plan recorded in RUN_DIR (after failures, preemption or an interruption): " +
            "the jobs whose output is missing and that are not queued. With --executor slurm RUN_DIR must be an absolute path on a shared filesystem.");
        command.Arguments.Add(runDir);
        execution.AddTo(command);
        command.SetAction((parse, cancellation) =>
        {
            var dir = parse.GetValue(runDir)!;
            if (!Directory.Exists(dir)) return Task.FromResult(ExperimentCommand.Fail($"resume: {dir}: no such directory"));
            JobPlan plan;
            try
            {
                plan = JobPlan.Load(dir);
            }
            catch (ExecutionException e)
            {
                return Task.FromResult(ExperimentCommand.Fail($"resume: {e.Message}"));
            }
            var settings = execution.Parse(parse);
            var runner = new ChildProcessJobRunner(MemgenProgram.Current());
            return Task.FromResult(PlanExecution.Execute("experiment", plan, dir, settings, runner, cancellation, runDirectoryLabel: "RUN_DIR"));
        });
        return command;
    }
}
