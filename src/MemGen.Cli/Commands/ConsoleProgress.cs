using Spectre.Console;

namespace MemGen.Cli.Commands;

/// <summary>
/// Progress on stderr for commands that count finished items (samples, images): a live Spectre.Console bar on a
/// terminal, a line every 10 % when stderr is redirected. Results stay on stdout.
/// </summary>
public static class ConsoleProgress
{
    /// <summary>Runs <paramref name="work"/>, which reports the number of finished items out of <paramref name="total"/>.</summary>
    public static T Run<T>(string description, int total, Func<IProgress<int>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return RunFraction(description, report => work(new Reporter(done => report(total > 0 ? (double)done / total : 1.0))));
    }

    /// <summary>Runs <paramref name="work"/>, which reports the fraction done (0..1, callable from any thread).</summary>
    public static T RunFraction<T>(string description, Func<Action<double>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (Console.IsErrorRedirected)
        {
            int lastDecile = -1;
            var gate = new object();
            return work(f =>
            {
                int decile = (int)Math.Floor(Math.Clamp(f, 0, 1) * 10);
                lock (gate)
                {
                    if (decile <= lastDecile) return;
                    lastDecile = decile;
                }
                Console.Error.WriteLine($"{description}: {decile * 10}%");
            });
        }
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        T result = default!;
        console.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(description), maxValue: 1.0);
                result = work(f => task.Value = Math.Clamp(f, 0, 1));
                task.Value = 1.0;
            });
        return result;
    }

    private sealed class Reporter(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
