using MemGen.Data;
using MemGen.Tensors;

namespace MemGen.Denoisers;

/// <summary>
/// Oracle denoiser of the sinusoids dataset (<see cref="Sinusoids"/>): the nearest point of the manifold
/// {0.5 + u·cos θ + v·sin θ : u² + v² ≤ amp²}, a flat disk in a 2-D plane, computed exactly — the least-squares
/// coefficients (u, v) of y − 0.5 on cos θ and sin θ, and if they fall outside the disk the nearest point of its rim
/// (radially when cos θ and sin θ are orthogonal with equal norms, as for integer frequencies; by a 1-D search of the rim
/// otherwise). Inside the disk it is the orthogonal projection onto the plane, so its MSE is 2σ² (k = 2):
/// PSNR_out = PSNR_in + 10·log10(d/2). Blind.
/// </summary>
public sealed class SinusoidManifoldDenoiser : IDenoiser
{
    private readonly double[] _cos, _sin;
    private readonly double _cc, _cs, _ss, _determinant, _amplitude;

    /// <summary>The oracle of <c>sinusoids:size=S,fx=…,fy=…,amp=…</c>.</summary>
    public SinusoidManifoldDenoiser(int size, double fx = 3, double fy = 2, double amplitude = 0.5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        if (!(amplitude >= 0) || !double.IsFinite(amplitude)) throw new ArgumentOutOfRangeException(nameof(amplitude));
        int d = size * size;
        var basis = Sinusoids.PlaneBasis(size, fx, fy);
        _cos = basis[..d];
        _sin = basis[d..];
        for (int i = 0; i < d; i++)
        {
            _cc += _cos[i] * _cos[i];
            _cs += _cos[i] * _sin[i];
            _ss += _sin[i] * _sin[i];
        }
        _determinant = _cc * _ss - _cs * _cs;
        if (!(_determinant > 1e-9 * _cc * _ss)) throw new ArgumentException($"sinusoids of frequency ({fx}, {fy}) on {size}×{size} pixels do not span a plane.");
        _amplitude = amplitude;
        Size = size;
    }

    /// <summary>The image side.</summary>
    public int Size { get; }

    /// <inheritdoc />
    public string Name => "sinusoid-oracle";

    /// <inheritdoc />
    public bool IsBlind => true;

    /// <inheritdoc />
    public void Denoise(Tensor noisy, Tensor denoised, ReadOnlySpan<float> sigmas)
    {
        ArgumentNullException.ThrowIfNull(noisy);
        ArgumentNullException.ThrowIfNull(denoised);
        noisy.RequireSameShape(denoised, "SinusoidManifoldDenoiser.Denoise");
        if (noisy.ItemLength != _cos.Length) throw new ArgumentException($"Images have {noisy.ItemLength} pixels, the sinusoids {_cos.Length}.");
        for (int n = 0; n < noisy.Shape[0]; n++)
        {
            var y = noisy.Item(n);
            double bc = 0, bs = 0;
            for (int i = 0; i < y.Length; i++)
            {
                bc += (y[i] - 0.5) * _cos[i];
                bs += (y[i] - 0.5) * _sin[i];
            }
            var (u, v) = Nearest(bc, bs);
            var output = denoised.Item(n);
            for (int i = 0; i < output.Length; i++) output[i] = (float)(0.5 + u * _cos[i] + v * _sin[i]);
        }
    }

    /// <summary>The disk point (u, v) nearest to y given b = (⟨y − 0.5, cos θ⟩, ⟨y − 0.5, sin θ⟩), in the plane's metric.</summary>
    private (double U, double V) Nearest(double bc, double bs)
    {
        double u = (_ss * bc - _cs * bs) / _determinant, v = (_cc * bs - _cs * bc) / _determinant;
        double radius = Math.Sqrt(u * u + v * v);
        if (radius <= _amplitude) return (u, v);
        if (_amplitude == 0) return (0, 0);
        // ‖y − 0.5 − a(cos ψ·c + sin ψ·s)‖² up to a constant: E(ψ) = a²·wᵀGw − 2a·bᵀw, w = (cos ψ, sin ψ).
        double a = _amplitude;
        double Energy(double psi)
        {
            double c = Math.Cos(psi), s = Math.Sin(psi);
            return a * a * (_cc * c * c + 2 * _cs * c * s + _ss * s * s) - 2 * a * (bc * c + bs * s);
        }
        bool isotropic = Math.Abs(_cs) <= 1e-12 * _cc && Math.Abs(_cc - _ss) <= 1e-12 * _cc;
        double best = Math.Atan2(bs, bc);
        if (!isotropic)
        {
            const int Samples = 720;
            double bestEnergy = double.PositiveInfinity;
            for (int k = 0; k < Samples; k++)
            {
                double psi = 2 * Math.PI * k / Samples, e = Energy(psi);
                if (e < bestEnergy) (best, bestEnergy) = (psi, e);
            }
            double lo = best - 2 * Math.PI / Samples, hi = best + 2 * Math.PI / Samples;
            for (int k = 0; k < 100; k++) // golden section on the bracket of the best sample
            {
                double m1 = hi - 0.618033988749895 * (hi - lo), m2 = lo + 0.618033988749895 * (hi - lo);
                if (Energy(m1) < Energy(m2)) hi = m2;
                else lo = m1;
            }
            best = 0.5 * (lo + hi);
        }
        return (a * Math.Cos(best), a * Math.Sin(best));
    }
}
