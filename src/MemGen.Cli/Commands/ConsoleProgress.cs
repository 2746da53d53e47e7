using System.Diagnostics;
using System.Globalization;
using MemGen.Experiments.Kit;
using Spectre.Console;

namespace MemGen.Cli.Commands;

/// <summary>
/// The one progress display of every command, on stderr (results go to stdout). On a terminal: live Spectre.Console
/// bars. In a log (stderr redirected): a line when the stage changes, every 30 s within a stage, and at each tenth of
/// the work when there is no stage text.
/// </summary>
internal static class ConsoleProgress
{
    private static readonly TimeSpan s_logInterval = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Runs <paramref name="work"/>, which reports (fraction done 0..1, stage text or null, detail text or null);
    /// callable from any thread.
    /// </summary>
    public static T Run<T>(string title, Func<Action<double, string?, string?>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (System.Console.IsErrorRedirected) return work(LogLines(title));
        T result = default!;
        ErrorConsole().Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), maxValue: 1.0);
                var gate = new object();
                result = work((fraction, stage, detail) =>
                {
                    lock (gate)
                    {
                        task.Value = Math.Clamp(fraction, 0, 1);
                        if (stage is not null) task.Description = Markup.Escape(Join(title, stage, detail));
                    }
                });
                task.Value = 1.0;
            });
        return result;
    }

    /// <summary>Runs <paramref name="work"/>, which reports the number of finished items out of <paramref name="total"/>.</summary>
    public static T Run<T>(string title, int total, Func<IProgress<int>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return Run(title, report => work(new SynchronousProgress<int>(done => report(total > 0 ? (double)done / total : 1.0, null, null))));
    }

    /// <summary>
    /// Runs an experiment: an overall bar and, on a terminal, one bar for the unit being worked on (e.g. "N=100: train S1").
    /// </summary>
    public static T RunExperiment<T>(string title, Func<IProgress<ExperimentProgress>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (System.Console.IsErrorRedirected)
        {
            var log = LogLines(title);
            return work(new SynchronousProgress<ExperimentProgress>(p => log(p.Overall, p.Unit is null ? p.Stage : $"{p.Unit}: {p.Stage}", p.Detail)));
        }
        T result = default!;
        ErrorConsole().Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var overall = ctx.AddTask(Markup.Escape(title), maxValue: 1.0);
                ProgressTask? current = null;
                string? currentUnit = null;
                result = work(new SynchronousProgress<ExperimentProgress>(p =>
                {
                    overall.Value = p.Overall;
                    if (p.Unit is null)
                    {
                        overall.Description = Markup.Escape(Join(title, p.Stage, p.Detail));
                        return;
                    }
                    if (p.Unit != currentUnit)
                    {
                        current?.StopTask();
                        currentUnit = p.Unit;
                        current = ctx.AddTask(Markup.Escape(p.Unit), maxValue: 1.0);
                    }
                    current!.Description = Markup.Escape(Join(p.Unit, p.Stage, p.Detail));
                    current.Value = p.UnitFraction;
                }));
                current?.StopTask();
                overall.Value = 1.0;
            });
        return result;
    }

    private static IAnsiConsole ErrorConsole() => AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(System.Console.Error) });

    private static string Join(string title, string? stage, string? detail) =>
        string.IsNullOrEmpty(detail) ? $"{title}: {stage}" : $"{title}: {stage} {detail}";

    /// <summary>The log-line policy: a line per stage change, every 30 s within a stage, per tenth without a stage.</summary>
    private static Action<double, string?, string?> LogLines(string title)
    {
        var gate = new object();
        var clock = Stopwatch.StartNew();
        string? lastStage = null;
        int lastDecile = -1;
        var lastLine = TimeSpan.MinValue;
        return (fraction, stage, detail) =>
        {
            lock (gate)
            {
                int decile = (int)Math.Floor(Math.Clamp(fraction, 0, 1) * 10);
                bool due = stage is null
                    ? decile > lastDecile
                    : stage != lastStage || clock.Elapsed - lastLine >= s_logInterval;
                if (!due) return;
                lastStage = stage;
                lastDecile = decile;
                lastLine = clock.Elapsed;
                var text = stage is null ? "" : " " + (string.IsNullOrEmpty(detail) ? stage : $"{stage} {detail}");
                System.Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{title} {clock.Elapsed:mm\\:ss} [{Math.Clamp(fraction, 0, 1):P0}]{text}"));
            }
        };
    }
}
