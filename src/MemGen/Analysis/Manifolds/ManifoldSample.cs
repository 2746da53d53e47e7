using MemGen.Analysis.AdaptiveBasis;
using MemGen.Data;
using MemGen.Denoisers;
using MemGen.Images;

namespace MemGen.Analysis.Manifolds;

/// <summary>
/// Images of a known low-dimensional manifold (docs/science.md §4, §6) with what the manifold study needs beside them:
/// the manifold dimension k, the tangent space at each image (k spanning vectors, closed form or exact), and the oracle
/// denoiser (nearest point on the manifold). Built from the same generator and seed as the dataset spec, so image i is the
/// dataset's image i.
/// </summary>
/// <param name="Kind">disks, sinusoids or ray.</param>
/// <param name="Dimension">k: 5 (disks: centre, radius, two intensities), 2 (sinusoids: amplitude, phase), 1 (ray: scale).</param>
/// <param name="Images">The images.</param>
/// <param name="TangentsOf">The k tangent vectors at image i (row-major k×d); rank &lt; k where the parametrization degenerates (a sinusoid of amplitude 0).</param>
/// <param name="Oracle">The manifold's oracle denoiser.</param>
public sealed record ManifoldSample(string Kind, int Dimension, ImageSet Images, Func<int, double[]> TangentsOf, IDenoiser Oracle)
{
    /// <summary>
    /// Cosines of the principal angles between the span of the top-k eigenvectors of <paramref name="measurement"/> (a
    /// Jacobian at image <paramref name="image"/>; its options must keep the top k) and the tangent space there, descending.
    /// [K24] §3.2: near 1 when the denoiser's adaptive basis contains the tangent space.
    /// </summary>
    public double[] TangentCosines(int image, JacobianMeasurement measurement)
    {
        ArgumentNullException.ThrowIfNull(measurement);
        int d = Images.ImageSize;
        for (int k = 0; k < Dimension; k++)
            if (measurement.EigenvectorIndices.Length <= k || measurement.EigenvectorIndices[k] != k)
                throw new ArgumentException($"The measurement keeps eigenvectors {string.Join(",", measurement.EigenvectorIndices)}; the top {Dimension} are needed.");
        return PrincipalAngles.Cosines(measurement.Eigenvectors.AsSpan(0, Dimension * d), Dimension, TangentsOf(image), Dimension);
    }

    /// <summary>
    /// The manifold sample of a <c>disks:</c> (use <c>aa=exact</c> for a smooth manifold), <c>sinusoids:</c> or
    /// <c>rescaled:</c> dataset spec; only <c>take=</c> may follow the source (other transforms change the manifold).
    /// </summary>
    /// <exception cref="DataFormatException">The spec is another kind, or has other transforms.</exception>
    public static ManifoldSample FromSpec(DatasetSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.Transforms.Any(t => t is not TakeStep))
            throw new DataFormatException($"dataset spec '{spec}': a manifold study needs the generator's images as drawn (only take= may follow).");
        var images = DatasetLoader.Load(spec);
        int size = images.Height;
        switch (spec.Kind)
        {
            case "disks":
                {
                    int supersample = spec.DiskSupersampling();
                    var parameters = Disks.Generate(images.Count, size, spec.GetLong("seed"), supersample).Parameters;
                    return new ManifoldSample("disks", DiskParameters.Count, images,
                        i => Widen(supersample == Disks.ExactArea ? Disks.ExactTangents(parameters[i], size) : Disks.Tangents(parameters[i], size)),
                        new DiskManifoldDenoiser(size, supersample));
                }
            case "sinusoids":
                {
                    double fx = spec.GetDouble("fx", 3), fy = spec.GetDouble("fy", 2), amplitude = spec.GetDouble("amp", 0.5);
                    long seed = spec.GetLong("seed");
                    return new ManifoldSample("sinusoids", SinusoidParameters.Count, images,
                        i => Sinusoids.Tangents(Sinusoids.Draw(seed, i, amplitude), size, fx, fy),
                        new SinusoidManifoldDenoiser(size, fx, fy, amplitude));
                }
            case "rescaled":
                {
                    var from = DatasetLoader.Load(spec.GetString("from")!);
                    var ray = from.Image(spec.GetInt("index", 0, min: 0)).ToArray();
                    var tangent = Widen(ray);
                    return new ManifoldSample("ray", 1, images, _ => tangent, new RayDenoiser(ray));
                }
            default:
                throw new DataFormatException($"dataset spec '{spec}': no known manifold (disks:, sinusoids: or rescaled:).");
        }
    }

    private static double[] Widen(float[] values) => Array.ConvertAll(values, v => (double)v);
}
