namespace MemGen.Cli.Commands;

/// <summary>
/// Count-based progress for commands that finish items one by one (samples, images): an <see cref="IProgress{T}"/> of
/// finished items shown through <see cref="ExperimentCommand.RunWithProgress{T}"/> (bar on stderr, results on stdout).
/// </summary>
public static class ConsoleProgress
{
    /// <summary>Runs <paramref name="work"/>, which reports the number of finished items out of <paramref name="total"/>.</summary>
    public static T Run<T>(string description, int total, Func<IProgress<int>, T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        return ExperimentCommand.RunWithProgress(description, report => work(new Reporter(done => report(total > 0 ? (double)done / total : 1.0))));
    }

    private sealed class Reporter(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }
}
