using System.Diagnostics;

namespace MemGen.Reporting;

/// <summary>
/// Renders Vega-Lite specs to SVG files without a browser: one <c>node</c> process compiles each spec with
/// vega-lite and renders it with vega's headless (renderer "none") view. Text widths are estimated by vega
/// (no canvas package), which is fine for re-styling in a paper.
/// </summary>
public static class FigureSvgExporter
{
    // ES module run with the npm folder as working directory, so 'vega' and 'vega-lite' resolve there.
    // Arguments: pairs of (spec.vl.json, out.svg); each SVG is written to a temp file, then renamed.
    private const string Script = """
        import * as vega from 'vega';
        import * as vl from 'vega-lite';
        import fs from 'node:fs';
        const args = process.argv.slice(1);
        let failed = 0;
        for (let i = 0; i + 1 < args.length; i += 2) {
          try {
            const spec = JSON.parse(fs.readFileSync(args[i], 'utf8'));
            const view = new vega.View(vega.parse(vl.compile(spec).spec), { renderer: 'none' });
            const svg = await view.toSVG();
            view.finalize();
            const tmp = args[i + 1] + '.' + process.pid + '.tmp';
            fs.writeFileSync(tmp, svg);
            fs.renameSync(tmp, args[i + 1]);
          } catch (err) {
            failed++;
            console.error('Error in ' + args[i] + ': ' + err);
          }
        }
        process.exitCode = failed > 0 ? 1 : 0;
        """;

    /// <summary>
    /// Writes <c>svgPath</c> for each (specPath, svgPath); a spec that fails does not stop the others.
    /// Returns null on success, else a one-line reason (node missing, the first spec that vega rejects,
    /// time-out); never throws for those.
    /// </summary>
    public static string? TryExport(VegaAssets assets, IReadOnlyList<(string SpecPath, string SvgPath)> figures, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(assets);
        ArgumentNullException.ThrowIfNull(figures);
        if (figures.Count == 0) return null;
        var start = new ProcessStartInfo("node")
        {
            WorkingDirectory = assets.NpmDirectory,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("--input-type=module");
        start.ArgumentList.Add("-e");
        start.ArgumentList.Add(Script);
        foreach (var (spec, svg) in figures)
        {
            start.ArgumentList.Add(Path.GetFullPath(spec));
            start.ArgumentList.Add(Path.GetFullPath(svg));
        }
        Process? process;
        try
        {
            process = Process.Start(start);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return $"node could not be started ({e.Message})";
        }
        if (process is null) return "node could not be started";
        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
                return $"node did not finish within {timeout.TotalSeconds:F0} s";
            }
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                var lines = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                var reason = lines.FirstOrDefault(l => l.Contains("Error", StringComparison.Ordinal)) ?? lines.FirstOrDefault() ?? "no message";
                return $"node exited with code {process.ExitCode}: {reason}";
            }
            _ = stdout.Result;
        }
        return null;
    }
}
