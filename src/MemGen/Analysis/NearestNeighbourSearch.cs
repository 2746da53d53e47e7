using MemGen.Data;
using MemGen.Images;
using MemGen.Compute;
using TensorPrimitives = System.Numerics.Tensors.TensorPrimitives;

namespace MemGen.Analysis;

/// <summary>How two images are compared.</summary>
public enum SimilarityMetric
{
    /// <summary>Euclidean distance (smaller is nearer).</summary>
    L2,

    /// <summary>Cosine similarity of the raw pixel vectors (larger is nearer).</summary>
    Cosine,

    /// <summary>Cosine similarity after removing each image's own mean (normalized correlation; larger is nearer).</summary>
    CenteredCosine,
}

/// <summary>
/// The k nearest reference images of each query: <see cref="Index"/>(q, rank) and <see cref="Score"/>(q, rank),
/// rank 0 the nearest. Scores are l2 distances (ascending) or cosine similarities (descending).
/// </summary>
public sealed class NeighbourList
{
    private readonly int[] _indices;
    private readonly double[] _scores;

    internal NeighbourList(int count, int k, int[] indices, double[] scores, SimilarityMetric metric)
    {
        Count = count;
        K = k;
        _indices = indices;
        _scores = scores;
        Metric = metric;
    }

    /// <summary>Number of queries.</summary>
    public int Count { get; }

    /// <summary>Neighbours per query (fewer reference images than requested: the rest are index −1, score NaN).</summary>
    public int K { get; }

    /// <summary>The metric of the scores.</summary>
    public SimilarityMetric Metric { get; }

    /// <summary>Reference index of the neighbour of rank <paramref name="rank"/> of query <paramref name="query"/>.</summary>
    public int Index(int query, int rank = 0) => _indices[query * K + rank];

    /// <summary>Distance or similarity of that neighbour (exact, recomputed in double precision).</summary>
    public double Score(int query, int rank = 0) => _scores[query * K + rank];
}

/// <summary>
/// Exact nearest-neighbour search of query images among reference images (e.g. samples among a training set).
/// Candidates come from blocked float32 matrix products (query batch × reference block); the best few per query
/// are then rescored exactly in double precision, so near-duplicates (memorized samples) get exact distances.
/// </summary>
public sealed class NearestNeighbourSearch
{
    private const int ExtraCandidates = 3;
    private readonly ImageSet _reference;
    private readonly float[] _prepared;   // N×d: centred (l2) or unit-norm rows (cosine)
    private readonly float[] _halfNorms;  // l2 only: ‖x − mean‖²/2
    private readonly float[] _mean;       // l2 only
    private readonly int _size, _blockRows, _batchRows;

    /// <summary>Prepares the search among <paramref name="reference"/> (at least one image) under <paramref name="metric"/>.</summary>
    public NearestNeighbourSearch(ImageSet reference, SimilarityMetric metric, int blockRows = 4096, int batchRows = 256)
    {
        ArgumentNullException.ThrowIfNull(reference);
        if (reference.Count == 0) throw new ArgumentException("Nearest-neighbour search needs at least one reference image.", nameof(reference));
        if (blockRows <= 0) throw new ArgumentOutOfRangeException(nameof(blockRows));
        if (batchRows <= 0) throw new ArgumentOutOfRangeException(nameof(batchRows));
        _reference = reference;
        Metric = metric;
        _size = reference.ImageSize;
        _blockRows = Math.Min(blockRows, reference.Count);
        _batchRows = batchRows;
        _mean = metric == SimilarityMetric.L2 ? ImageStatistics.MeanImage(reference) : new float[_size];
        _prepared = new float[reference.Pixels.Length];
        _halfNorms = new float[reference.Count];
        for (int i = 0; i < reference.Count; i++)
        {
            var row = _prepared.AsSpan(i * _size, _size);
            Prepare(reference.Image(i), row);
            if (metric == SimilarityMetric.L2) _halfNorms[i] = 0.5f * TensorPrimitives.Dot<float>(row, row);
        }
    }

    /// <summary>The metric.</summary>
    public SimilarityMetric Metric { get; }

    /// <summary>Number of reference images.</summary>
    public int ReferenceCount => _reference.Count;

    /// <summary>The <paramref name="k"/> nearest reference images of each image of <paramref name="queries"/>.</summary>
    public NeighbourList Search(ImageSet queries, int k = 1)
    {
        ArgumentNullException.ThrowIfNull(queries);
        return Search(queries.Pixels, queries.Count, k);
    }

    /// <summary>The <paramref name="k"/> nearest reference images of each of the <paramref name="count"/> images in <paramref name="queries"/>.</summary>
    public NeighbourList Search(ReadOnlySpan<float> queries, int count, int k = 1)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "k must be positive.");
        if (queries.Length != (long)count * _size)
            throw new ArgumentException($"Queries have {queries.Length} values, expected {count}×{_size} (image sizes must match).");
        int n = _reference.Count;
        int candidates = Math.Min(n, k + ExtraCandidates);
        var indices = new int[count * k];
        var scores = new double[count * k];
        Array.Fill(indices, -1);
        Array.Fill(scores, double.NaN);

        int rows = Math.Min(_batchRows, Math.Max(1, count));
        var q = new float[rows * _size];
        var g = new float[rows * _blockRows];
        var candidateIndex = new int[rows * candidates];
        var candidateScore = new float[rows * candidates];
        var exact = new (double Key, int Index)[candidates];
        for (int start = 0; start < count; start += rows)
        {
            int b = Math.Min(rows, count - start);
            for (int r = 0; r < b; r++) Prepare(queries.Slice((start + r) * _size, _size), q.AsSpan(r * _size, _size));
            Array.Fill(candidateIndex, -1);
            Array.Fill(candidateScore, float.NegativeInfinity);
            for (int first = 0; first < n; first += _blockRows)
            {
                int m = Math.Min(_blockRows, n - first);
                ComputeBackend.Host.LinearAlgebra.Sgemm(false, true, b, m, _size, 1f, q.AsSpan(0, b * _size), _prepared.AsSpan(first * _size, m * _size), 0f, g);
                for (int r = 0; r < b; r++)
                {
                    var row = g.AsSpan(r * m, m);
                    if (Metric == SimilarityMetric.L2) TensorPrimitives.Subtract(row, _halfNorms.AsSpan(first, m), row);
                    var ci = candidateIndex.AsSpan(r * candidates, candidates);
                    var cs = candidateScore.AsSpan(r * candidates, candidates);
                    for (int j = 0; j < m; j++)
                        if (row[j] > cs[^1]) Insert(ci, cs, first + j, row[j]);
                }
            }
            for (int r = 0; r < b; r++)
            {
                var query = queries.Slice((start + r) * _size, _size);
                int found = 0;
                for (int c = 0; c < candidates; c++)
                {
                    int index = candidateIndex[r * candidates + c];
                    if (index < 0) continue;
                    exact[found++] = (ExactKey(query, _reference.Image(index)), index);
                }
                Array.Sort(exact, 0, found, Comparer<(double Key, int Index)>.Create((x, y) =>
                    x.Key != y.Key ? x.Key.CompareTo(y.Key) : x.Index.CompareTo(y.Index)));
                for (int rank = 0; rank < Math.Min(k, found); rank++)
                {
                    indices[(start + r) * k + rank] = exact[rank].Index;
                    scores[(start + r) * k + rank] = Metric == SimilarityMetric.L2 ? exact[rank].Key : -exact[rank].Key;
                }
            }
        }
        return new NeighbourList(count, k, indices, scores, Metric);
    }

    /// <summary>The exact score as a sort key (smaller is nearer): distance, or minus the similarity.</summary>
    private double ExactKey(ReadOnlySpan<float> query, ReadOnlySpan<float> reference) => Metric switch
    {
        SimilarityMetric.L2 => ImageStatistics.L2Distance(query, reference),
        SimilarityMetric.Cosine => -ImageStatistics.CosineSimilarity(query, reference),
        _ => -ImageStatistics.CosineSimilarity(query, reference, removeMean: true),
    };

    /// <summary>Keeps the candidates sorted by descending approximate score (bounded insertion).</summary>
    private static void Insert(Span<int> indices, Span<float> scores, int index, float score)
    {
        int p = scores.Length - 1;
        while (p > 0 && scores[p - 1] < score)
        {
            scores[p] = scores[p - 1];
            indices[p] = indices[p - 1];
            p--;
        }
        scores[p] = score;
        indices[p] = index;
    }

    /// <summary>Maps an image to the space of the matrix products: centred (l2) or unit-norm (cosine) rows.</summary>
    private void Prepare(ReadOnlySpan<float> image, Span<float> row)
    {
        switch (Metric)
        {
            case SimilarityMetric.L2:
                TensorPrimitives.Subtract(image, _mean, row);
                break;
            case SimilarityMetric.Cosine:
                Normalize(image, row, 0f);
                break;
            default:
                Normalize(image, row, TensorPrimitives.Sum(image) / image.Length);
                break;
        }
    }

    private static void Normalize(ReadOnlySpan<float> image, Span<float> row, float mean)
    {
        TensorPrimitives.Subtract(image, mean, row);
        float norm = TensorPrimitives.Norm<float>(row);
        if (norm > 0) TensorPrimitives.Multiply(row, 1f / norm, row);
        else row.Clear(); // a constant (or zero) image is similar to nothing: similarity 0
    }
}
