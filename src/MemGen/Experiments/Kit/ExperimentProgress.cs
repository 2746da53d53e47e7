using System.Globalization;
using MemGen.Training;

namespace MemGen.Experiments.Kit;

/// <summary>
/// Where an experiment stands. Experiments work through units (one N, one (n, run), one α ...), each in stages
/// ("train S1", "sample", "report").
/// </summary>
/// <param name="Unit">The unit being worked on ("N=100"), or null for work outside the units (loading data, the report).</param>
/// <param name="Stage">What is being done.</param>
/// <param name="Detail">Stage detail (step counts, losses); may be empty.</param>
/// <param name="UnitFraction">Fraction of the unit done, 0..1.</param>
/// <param name="Overall">Fraction of the whole experiment done, 0..1.</param>
public sealed record ExperimentProgress(string? Unit, string Stage, string Detail, double UnitFraction, double Overall);

/// <summary>
/// Maps the progress of units and stages onto one <see cref="IProgress{T}"/> of <see cref="ExperimentProgress"/>: the
/// first and last 2 % of the overall bar are setup and report, the units share the rest equally.
/// </summary>
public sealed class ExperimentProgressReporter(IProgress<ExperimentProgress>? sink, int units)
{
    private const double SetupShare = 0.02;

    /// <summary>Reports setup work before the units (loading data, planning).</summary>
    public void Setup(string stage, string detail = "") => sink?.Report(new ExperimentProgress(null, stage, detail, 0, 0));

    /// <summary>Reports work after the units (summaries, the report), or the end with <paramref name="finished"/>.</summary>
    public void Closing(string stage, string detail = "", bool finished = false) =>
        sink?.Report(new ExperimentProgress(null, stage, detail, finished ? 1 : 0, finished ? 1 : 1 - SetupShare));

    /// <summary>The reporter of unit <paramref name="index"/> (0-based) named <paramref name="name"/>.</summary>
    public UnitProgress Unit(int index, string name) => new(sink, name, index, Math.Max(1, units));

    /// <summary>Progress of one unit.</summary>
    public sealed class UnitProgress
    {
        private readonly IProgress<ExperimentProgress>? _sink;
        private readonly int _index, _count;

        internal UnitProgress(IProgress<ExperimentProgress>? sink, string name, int index, int count)
        {
            _sink = sink;
            Name = name;
            _index = index;
            _count = count;
        }

        /// <summary>The unit's name.</summary>
        public string Name { get; }

        /// <summary>Reports stage <paramref name="stage"/> at <paramref name="fraction"/> of the unit.</summary>
        public void Report(string stage, string detail, double fraction)
        {
            double f = Math.Clamp(fraction, 0, 1);
            _sink?.Report(new ExperimentProgress(Name, stage, detail, f, SetupShare + (1 - 2 * SetupShare) * (_index + f) / _count));
        }

        /// <summary>A training run's progress mapped onto [<paramref name="from"/>, <paramref name="to"/>] of the unit.</summary>
        public IProgress<TrainingProgress> Training(string stage, double from, double to) => new SynchronousProgress<TrainingProgress>(p =>
            Report(stage, string.Create(CultureInfo.InvariantCulture, $"step {p.Step}/{p.TotalSteps} loss {p.Loss:F2} {p.ImagesPerSecond:F0} img/s"),
                from + (to - from) * p.Step / Math.Max(1, p.TotalSteps)));

        /// <summary>A count of finished items (samples, images) out of <paramref name="total"/> mapped onto [<paramref name="from"/>, <paramref name="to"/>].</summary>
        public IProgress<int> Count(string stage, int total, double from, double to) => new SynchronousProgress<int>(k =>
            Report(stage, string.Create(CultureInfo.InvariantCulture, $"{k}/{total}"), from + (to - from) * k / Math.Max(1, total)));
    }
}
