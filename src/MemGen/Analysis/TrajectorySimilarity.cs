using MemGen.Images;
using MemGen.Sampling;

namespace MemGen.Analysis;

/// <summary>The step-by-step similarity of two sampling trajectories from the same seed ([K24] Fig 8, bifurcation).</summary>
/// <param name="Sample">Index of the sample in both trajectory sets.</param>
/// <param name="Steps">The steps compared: the union of both trajectories' kept steps, ascending.</param>
/// <param name="Cosine">Cosine similarity of the two iterates at each step.</param>
/// <param name="BothRunning">True where neither trajectory had stopped yet (after that, one is held at its end point).</param>
/// <param name="FirstLastStep">The step at which the first trajectory stopped.</param>
/// <param name="SecondLastStep">The step at which the second trajectory stopped.</param>
public sealed record TrajectoryComparison(int Sample, int[] Steps, double[] Cosine, bool[] BothRunning, int FirstLastStep, int SecondLastStep);

/// <summary>
/// Compares two sets of trajectories sample by sample (e.g. the S1 and S2 networks' Algorithm 1 runs from the same seed):
/// at each kept step, the cosine similarity of the two iterates. Trajectories stop at different steps (per-image stopping);
/// a trajectory that has stopped is held at its end point, so the curve runs to the later stop, and
/// <see cref="TrajectoryComparison.BothRunning"/> marks the part where both still moved. Both sets must have been kept
/// with the same SaveEvery, so that they are compared at the same steps. By default each image's mean is removed first
/// (as the transition experiment's similarities): the plain cosine of two [0, 1] images is dominated by their brightness.
/// </summary>
public static class TrajectorySimilarity
{
    /// <summary>The comparison of sample <paramref name="sample"/> of <paramref name="first"/> and of <paramref name="second"/>.</summary>
    public static TrajectoryComparison Compare(SampledTrajectories first, SampledTrajectories second, int sample, bool removeMean = true)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        if (first.SaveEvery != second.SaveEvery)
            throw new ArgumentException($"Trajectories kept every {first.SaveEvery} and every {second.SaveEvery} steps are not comparable step by step.");
        if (first.Shape != second.Shape) throw new ArgumentException($"Trajectories of {first.Shape} and {second.Shape} images are not comparable.");
        ArgumentOutOfRangeException.ThrowIfNegative(sample);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(sample, Math.Min(first.Count, second.Count));
        var a = first.Steps(sample);
        var b = second.Steps(sample);
        var steps = a.Union(b).Order().ToArray();
        int lastA = a[^1], lastB = b[^1];
        var cosine = new double[steps.Length];
        var both = new bool[steps.Length];
        for (int i = 0; i < steps.Length; i++)
        {
            cosine[i] = ImageStatistics.CosineSimilarity(first.IterateAtOrBefore(sample, steps[i]), second.IterateAtOrBefore(sample, steps[i]), removeMean);
            both[i] = steps[i] <= Math.Min(lastA, lastB);
        }
        return new TrajectoryComparison(sample, steps, cosine, both, lastA, lastB);
    }

    /// <summary>The comparisons of every sample the two sets share.</summary>
    public static IReadOnlyList<TrajectoryComparison> CompareAll(SampledTrajectories first, SampledTrajectories second, bool removeMean = true)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        return Enumerable.Range(0, Math.Min(first.Count, second.Count)).Select(i => Compare(first, second, i, removeMean)).ToArray();
    }
}
