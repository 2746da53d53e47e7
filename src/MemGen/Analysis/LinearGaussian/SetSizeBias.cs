namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// The set-size bias of the kernel metric (docs/science.md §7.7). For N points drawn from N(m·1, s²I) in d dimensions
/// and smoothed with ε_N = s·N^(−1/d), the diagonal pairs of ∫p_S² give exactly 1 (in units of ∫p² of the true
/// law) and each of the N(N − 1) other pairs (x_k − x_l ~ N(0, 2s²I)) gives (1 + N^(−2/d))^(−d/2)/N² in
/// expectation, so E∫p_S² = 1 + (N − 1)(1 + N^(2/d))^(−d/2), whatever m and s are.
/// </summary>
public static class SetSizeBias
{
    /// <summary>E∫p_S² = 1 + (N − 1)(1 + N^(2/d))^(−d/2) in units of ∫p² of the true law.</summary>
    public static double ExpectedSelfOverlap(int count, int dimension)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(dimension, 1);
        double d = dimension;
        return 1 + (count - 1) * Math.Exp(-0.5 * d * double.LogP1(Math.Pow(count, 2 / d)));
    }

    /// <summary>
    /// E[∫p_T² − ∫p_O²] for a training set of <paramref name="trainingCount"/> points and an original set of
    /// <paramref name="originalCount"/>: the part of Δ that would remain if the cross terms cancelled. Negative
    /// when n &lt; N_original, i.e. it pushes Δ toward "memorization".
    /// </summary>
    public static double Expected(int trainingCount, int originalCount, int dimension) =>
        ExpectedSelfOverlap(trainingCount, dimension) - ExpectedSelfOverlap(originalCount, dimension);
}
