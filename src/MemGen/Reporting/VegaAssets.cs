using System.Text.Json.Nodes;

namespace MemGen.Reporting;

/// <summary>
/// The npm packages vega, vega-lite and vega-embed that <c>scripts/install-deps</c> installs into the
/// project-local folder <c>.cache/npm</c>. Their browser builds are inlined into every report.html (so it opens
/// offline) and node uses them to export figures as SVG.
/// </summary>
public sealed class VegaAssets
{
    /// <summary>Environment variable that names the npm folder (holding node_modules) explicitly.</summary>
    public const string DirectoryVariable = "MEMGEN_NPM_DIR";

    private static readonly string[] s_packages = ["vega", "vega-lite", "vega-embed"];

    private VegaAssets(string npmDirectory, IReadOnlyDictionary<string, string> versions)
    {
        NpmDirectory = npmDirectory;
        Versions = versions;
    }

    /// <summary>The folder holding node_modules/vega, node_modules/vega-lite and node_modules/vega-embed.</summary>
    public string NpmDirectory { get; }

    /// <summary>Installed version of each package (vega, vega-lite, vega-embed).</summary>
    public IReadOnlyDictionary<string, string> Versions { get; }

    /// <summary>Path of the minified browser (UMD) build of <paramref name="package"/>.</summary>
    public string ScriptPath(string package) => Path.Combine(NpmDirectory, "node_modules", package, "build", package + ".min.js");

    /// <summary>The three browser builds, in load order (vega, vega-lite, vega-embed).</summary>
    public IEnumerable<(string Package, string Script)> ReadScripts() =>
        s_packages.Select(p => (p, File.ReadAllText(ScriptPath(p))));

    /// <summary>
    /// Finds the assets: <c>$MEMGEN_NPM_DIR</c> if set, else the first <c>.cache/npm</c> that holds all three
    /// packages in the current directory, the executable's directory, or one of their parents. Null if none.
    /// </summary>
    public static VegaAssets? Locate()
    {
        var explicitDir = Environment.GetEnvironmentVariable(DirectoryVariable);
        if (!string.IsNullOrEmpty(explicitDir)) return TryOpen(explicitDir);
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var found = TryOpen(Path.Combine(dir.FullName, ".cache", "npm"));
                if (found is not null) return found;
            }
        }
        return null;
    }

    /// <summary>Opens <paramref name="npmDirectory"/> if all three packages are installed there; else null.</summary>
    public static VegaAssets? TryOpen(string npmDirectory)
    {
        var versions = new Dictionary<string, string>();
        foreach (var p in s_packages)
        {
            var packageJson = Path.Combine(npmDirectory, "node_modules", p, "package.json");
            var script = Path.Combine(npmDirectory, "node_modules", p, "build", p + ".min.js");
            if (!File.Exists(packageJson) || !File.Exists(script)) return null;
            try
            {
                versions[p] = JsonNode.Parse(File.ReadAllText(packageJson))?["version"]?.GetValue<string>() ?? "?";
            }
            catch (System.Text.Json.JsonException)
            {
                return null;
            }
        }
        return new VegaAssets(Path.GetFullPath(npmDirectory), versions);
    }
}
