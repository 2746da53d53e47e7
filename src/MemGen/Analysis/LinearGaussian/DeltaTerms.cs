namespace MemGen.Analysis.LinearGaussian;

/// <summary>
/// The four kernel integrals behind Δ of one run (docs/science.md §7.4, §7.7), each in units of ∫p² of the true law:
/// Δ = E_TG − E_OG = (∫p_T² − ∫p_O²) − 2(∫p_G·p_T − ∫p_G·p_O), a part that compares two smoothed samples of the
/// same law (<see cref="SelfPart"/>) and a part that involves the model (<see cref="CrossPart"/>).
/// </summary>
/// <param name="TrainSelf">∫p_T² (smoothed training set).</param>
/// <param name="OriginalSelf">∫p_O² (smoothed original set).</param>
/// <param name="TrainCross">∫p_G·p_T.</param>
/// <param name="OriginalCross">∫p_G·p_O.</param>
public readonly record struct DeltaTerms(double TrainSelf, double OriginalSelf, double TrainCross, double OriginalCross)
{
    /// <summary>E_TG = ∫p_T² − 2∫p_G·p_T (the common ∫p_G² dropped).</summary>
    public double TrainDistance => TrainSelf - 2 * TrainCross;

    /// <summary>E_OG = ∫p_O² − 2∫p_G·p_O.</summary>
    public double OriginalDistance => OriginalSelf - 2 * OriginalCross;

    /// <summary>Δ = E_TG − E_OG (&gt; 0: closer to the original set, counted as generalization).</summary>
    public double Delta => TrainDistance - OriginalDistance;

    /// <summary>∫p_T² − ∫p_O²: no model in it; its expectation is <see cref="SetSizeBias.Expected"/>.</summary>
    public double SelfPart => TrainSelf - OriginalSelf;

    /// <summary>−2(∫p_G·p_T − ∫p_G·p_O): negative when the generated law sits closer to the training points.</summary>
    public double CrossPart => -2 * (TrainCross - OriginalCross);
}
