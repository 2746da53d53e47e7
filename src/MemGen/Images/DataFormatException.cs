namespace MemGen.Images;

/// <summary>
/// A data file, folder or dataset spec that MemGen cannot read: the message is one line naming the file
/// or key and what is wrong with it. Every reader and the spec parser throw only this for bad input.
/// </summary>
public sealed class DataFormatException : Exception
{
    /// <summary>Creates the exception with a one-line <paramref name="message"/>.</summary>
    public DataFormatException(string message) : base(message) { }

    /// <summary>Creates the exception with a one-line <paramref name="message"/> and the underlying cause.</summary>
    public DataFormatException(string message, Exception inner) : base(message, inner) { }
}
