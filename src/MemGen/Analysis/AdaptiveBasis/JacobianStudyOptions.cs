namespace MemGen.Analysis.AdaptiveBasis;

/// <summary>Settings of one Jacobian measurement of <see cref="JacobianStudy"/>.</summary>
public sealed record JacobianStudyOptions
{
    /// <summary>The first this many eigenvectors are kept (the top of the eigenvector grids). Default 16.</summary>
    public int Top { get; init; } = 16;

    /// <summary>Also keep the eigenvectors k = 2^j ≥ <see cref="Top"/> (1-based k, as [K24]'s grids at k = 32, 64, …). Default true.</summary>
    public bool PowersOfTwo { get; init; } = true;

    /// <summary>Exact linearization for networks and central differences otherwise (default), or central differences always.</summary>
    public JacobianMethodChoice Method { get; init; } = JacobianMethodChoice.Automatic;

    /// <summary>The central-difference step; null: <see cref="DenoiserJacobian.DefaultStep"/>.</summary>
    public double? DifferenceStep { get; init; }

    /// <summary>Images (or basis vectors) per denoiser call.</summary>
    public int Batch { get; init; } = 64;

    /// <summary>The 0-based indices of the kept eigenvectors for dimension <paramref name="d"/>, ascending.</summary>
    public int[] KeptEigenvectors(int d)
    {
        var kept = new SortedSet<int>(Enumerable.Range(0, Math.Clamp(Top, 0, d)));
        if (PowersOfTwo)
            for (long k = 1; k <= d; k *= 2)
                if (k > Top) kept.Add((int)k - 1);
        return [.. kept];
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first invalid setting.</summary>
    public void Validate()
    {
        if (Top < 0) throw new ArgumentException($"Jacobian study: top {Top} must not be negative.");
        if (Batch < 1) throw new ArgumentException($"Jacobian study: batch {Batch} must be positive.");
        if (DifferenceStep is { } h && !(h > 0 && double.IsFinite(h))) throw new ArgumentException($"Jacobian study: difference step {h} must be positive.");
    }
}
