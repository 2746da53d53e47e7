namespace MemGen;

/// <summary>
/// A setting (of a settings record, or an input a library entry point was given) is invalid. The one convention of
/// MemGen's settings: <see cref="Setting"/> names the setting in kebab case (<c>learning-rate</c>, <c>out</c>,
/// <c>data</c>), <see cref="Problem"/> says what is wrong in one line. The command line maps the setting to its flag by
/// a table (most settings share their flag's name), so messages never have to be rewritten.
/// </summary>
public sealed class InvalidSettingException : Exception
{
    /// <summary>Creates the exception.</summary>
    public InvalidSettingException(string setting, string problem, Exception? inner = null)
        : base($"{setting}: {problem.TrimEnd('.')}", inner)
    {
        Setting = setting;
        Problem = problem.TrimEnd('.');
    }

    /// <summary>The setting, in kebab case.</summary>
    public string Setting { get; }

    /// <summary>What is wrong, without the setting's name.</summary>
    public string Problem { get; }
}
