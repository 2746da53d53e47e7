namespace MemGen.Nn;

/// <summary>
/// A checkpoint (or optimizer-state) file could not be used: truncated, corrupt, of another architecture or
/// with tensors of the wrong shape. The message names the file and, where one is at fault, the tensor.
/// </summary>
public sealed class CheckpointException : Exception
{
    /// <summary>Creates the exception for <paramref name="path"/> and optionally the tensor <paramref name="tensor"/>.</summary>
    public CheckpointException(string path, string? tensor, string problem, Exception? inner = null)
        : base(Format(path, tensor, problem), inner)
    {
        Path = path;
        Tensor = tensor;
        Problem = problem;
    }

    /// <summary>The file at fault.</summary>
    public string Path { get; }

    /// <summary>The tensor at fault, when one is.</summary>
    public string? Tensor { get; }

    /// <summary>What is wrong, without the file and tensor names.</summary>
    public string Problem { get; }

    private static string Format(string path, string? tensor, string problem) =>
        tensor is null ? $"Checkpoint '{path}': {problem}" : $"Checkpoint '{path}', tensor '{tensor}': {problem}";
}
