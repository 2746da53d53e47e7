using System.Diagnostics;

namespace MemGen.Tests.Reporting;

/// <summary>
/// Opens a local HTML file in Debian's headless Chromium and returns the DOM after scripts ran. Flags follow
/// the env notes (no sandbox as root, no background networking). New-style headless Chromium does not log
/// the page's console to stderr, so reports capture script errors themselves (body data-errors).
/// </summary>
internal static class HeadlessChromium
{
    public const string Executable = "/usr/bin/chromium";

    public sealed record PageResult(string Dom, string Stderr);

    public static PageResult Open(string htmlPath, int virtualTimeBudgetMs = 10000, int timeoutMs = 60000)
    {
        var profile = Path.Combine(Path.GetTempPath(), "memgen-chromium-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(profile);
        try
        {
            var start = new ProcessStartInfo(Executable)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var a in new[]
            {
                "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage",
                $"--user-data-dir={profile}", $"--virtual-time-budget={virtualTimeBudgetMs}", "--dump-dom",
                new Uri(Path.GetFullPath(htmlPath)).AbsoluteUri,
            }) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeoutMs))
            {
                process.Kill(entireProcessTree: true);
                throw new TimeoutException($"chromium did not finish within {timeoutMs} ms");
            }
            process.WaitForExit();
            return new PageResult(stdout.Result, stderr.Result);
        }
        finally
        {
            try { Directory.Delete(profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
