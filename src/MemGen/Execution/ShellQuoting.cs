using System.Text.RegularExpressions;

namespace MemGen.Execution;

/// <summary>Quoting for POSIX shells (bash): a word that the shell reads back as exactly the given string.</summary>
internal static partial class ShellQuoting
{
    /// <summary><paramref name="word"/> unchanged if it has only characters the shell leaves alone, else in single quotes.</summary>
    public static string Quote(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        if (word.Length > 0 && SafePattern().IsMatch(word)) return word;
        // Inside single quotes nothing is special except the quote itself: end the quoting, add an escaped quote, reopen.
        return "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>The words quoted and joined by spaces.</summary>
    public static string Join(IEnumerable<string> words) => string.Join(" ", words.Select(Quote));

    [GeneratedRegex(@"^[A-Za-z0-9_./:,@%+=-]+$")]
    private static partial Regex SafePattern();
}
