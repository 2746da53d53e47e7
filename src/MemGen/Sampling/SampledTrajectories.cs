using MemGen.Images;

namespace MemGen.Sampling;

/// <summary>
/// Every k-th iterate of each sample's trajectory, kept by a sampler whose options set <c>SaveEvery</c> = k: the start
/// (step 0), the iterate after every step t that is a multiple of k, and the last iterate (where the trajectory stopped,
/// whatever its step). Iterate j of sample i is the image after <see cref="Steps"/>(i)[j] update steps, so two samplers'
/// trajectories from the same seed are compared step by step. Trajectories stop at different steps under per-image
/// stopping (Algorithm 1); <see cref="ToArray"/> pads the shorter ones with their last iterate.
/// </summary>
public sealed class SampledTrajectories
{
    private readonly List<float[]>[] _iterates;
    private readonly List<int>[] _steps;

    internal SampledTrajectories(int count, ImageShape shape, int saveEvery)
    {
        Shape = shape;
        SaveEvery = saveEvery;
        _iterates = new List<float[]>[count];
        _steps = new List<int>[count];
        for (int i = 0; i < count; i++)
        {
            _iterates[i] = [];
            _steps[i] = [];
        }
    }

    /// <summary>The most memory a sampler may set aside for kept iterates: 2 GiB (the machine's memory is shared).</summary>
    public const long MemoryLimitBytes = 2L << 30;

    /// <summary>Number of samples.</summary>
    public int Count => _iterates.Length;

    /// <summary>The image shape.</summary>
    public ImageShape Shape { get; }

    /// <summary>k: the iterates of steps 0, k, 2k, … are kept (and each trajectory's last one).</summary>
    public int SaveEvery { get; }

    /// <summary>The step numbers of sample <paramref name="sample"/>'s kept iterates, ascending.</summary>
    public IReadOnlyList<int> Steps(int sample) => _steps[sample];

    /// <summary>The number of kept iterates of sample <paramref name="sample"/>.</summary>
    public int Length(int sample) => _steps[sample].Count;

    /// <summary>The longest trajectory's number of kept iterates.</summary>
    public int MaxLength => _steps.Length == 0 ? 0 : _steps.Max(s => s.Count);

    /// <summary>Kept iterate <paramref name="index"/> of sample <paramref name="sample"/> (C×H×W values).</summary>
    public ReadOnlySpan<float> Iterate(int sample, int index) => _iterates[sample][index];

    /// <summary>
    /// The iterate of sample <paramref name="sample"/> at step <paramref name="step"/>: the last kept one at or before it
    /// (a trajectory that stopped stays at its end point).
    /// </summary>
    public ReadOnlySpan<float> IterateAtOrBefore(int sample, int step)
    {
        var steps = _steps[sample];
        int index = steps.Count - 1;
        while (index > 0 && steps[index] > step) index--;
        return _iterates[sample][index];
    }

    /// <summary>
    /// All kept iterates as one array of shape [samples, <see cref="MaxLength"/>, C, H, W] (for a .npy file), a shorter
    /// trajectory padded with its last iterate; <see cref="StepTable"/> gives the step of each entry.
    /// </summary>
    public float[] ToArray(out int[] shape)
    {
        int length = MaxLength, d = Shape.Size;
        shape = [Count, length, Shape.Channels, Shape.Height, Shape.Width];
        var values = new float[(long)Count * length * d];
        for (int i = 0; i < Count; i++)
            for (int j = 0; j < length; j++)
                _iterates[i][Math.Min(j, _iterates[i].Count - 1)].CopyTo(values.AsSpan((int)(((long)i * length + j) * d), d));
        return values;
    }

    /// <summary>The step of each entry of <see cref="ToArray"/>, [samples, <see cref="MaxLength"/>]; −1 marks padding.</summary>
    public int[] StepTable()
    {
        int length = MaxLength;
        var table = new int[Count * length];
        Array.Fill(table, -1);
        for (int i = 0; i < Count; i++)
            for (int j = 0; j < _steps[i].Count; j++) table[i * length + j] = _steps[i][j];
        return table;
    }

    /// <summary>Keeps the start (step 0) of sample <paramref name="sample"/>.</summary>
    internal void Start(int sample, ReadOnlySpan<float> iterate) => Add(sample, 0, iterate);

    /// <summary>Whether the iterate after step <paramref name="step"/> is kept (a multiple of <see cref="SaveEvery"/>).</summary>
    internal bool Keeps(int step) => step % SaveEvery == 0;

    /// <summary>Keeps the iterate after step <paramref name="step"/> when <see cref="Keeps"/> says so.</summary>
    internal void Step(int sample, int step, ReadOnlySpan<float> iterate)
    {
        if (Keeps(step)) Add(sample, step, iterate);
    }

    /// <summary>Keeps the last iterate (after <paramref name="step"/> updates) unless it is already kept.</summary>
    internal void Finish(int sample, int step, ReadOnlySpan<float> iterate)
    {
        var steps = _steps[sample];
        if (steps.Count == 0 || steps[^1] != step) Add(sample, step, iterate);
    }

    /// <summary>
    /// Refuses, before any work, a recording that could exceed <see cref="MemoryLimitBytes"/>: <paramref name="count"/>
    /// samples of at most <paramref name="maxSteps"/> steps keep up to maxSteps/k + 2 iterates each (start, multiples of k, last).
    /// </summary>
    internal static void CheckMemory(int count, ImageShape shape, int maxSteps, int saveEvery, string setting)
    {
        long perSample = maxSteps / saveEvery + 2;
        double bytes = (double)count * perSample * shape.Size * sizeof(float);
        if (bytes > MemoryLimitBytes)
            throw new ArgumentException(System.FormattableString.Invariant(
                $"{setting}: saving every {saveEvery} steps of {count} samples of {maxSteps} steps at most may keep {bytes / (1 << 30):F1} GiB of iterates (limit {MemoryLimitBytes / (double)(1 << 30):F1} GiB); save less often, draw fewer samples or lower the step limit."));
    }

    private void Add(int sample, int step, ReadOnlySpan<float> iterate)
    {
        _steps[sample].Add(step);
        _iterates[sample].Add(iterate.ToArray());
    }
}
