using System.CommandLine;
using MemGen.Reporting;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen report RUN_DIR</c>: renders RUN_DIR/report.html again from RUN_DIR/report.json (e.g. after
/// <c>scripts/install-deps</c> installed the charting scripts, or after a MemGen update).
/// </summary>
internal static class ReportCommand
{
    /// <summary>Creates the command.</summary>
    public static Command Create()
    {
        var runDir = new Argument<string>("RUN_DIR") { Description = "A run directory holding report.json." };
        var noSvg = new Option<bool>("--no-svg") { Description = "Do not export figures/<id>.svg (needs node)." };
        var command = new Command("report", "Render RUN_DIR/report.html (self-contained, offline) from RUN_DIR/report.json.");
        command.Arguments.Add(runDir);
        command.Options.Add(noSvg);
        command.SetAction(parse =>
        {
            var dir = parse.GetValue(runDir)!;
            if (!Directory.Exists(dir)) return Fail($"{dir}: no such directory");
            ReportOutput output;
            try
            {
                output = ReportWriter.Rerender(dir, new ReportWriteOptions { ExportSvg = !parse.GetValue(noSvg) });
            }
            catch (Exception e) when (e is FileNotFoundException or InvalidDataException or IOException or UnauthorizedAccessException)
            {
                return Fail(e.Message);
            }
            foreach (var p in output.Problems) Console.Error.WriteLine($"memgen report: warning: {p}");
            Console.WriteLine(output.HtmlPath);
            return 0;
        });
        return command;
    }

    private static int Fail(string message) => CommandError.Report("report", message);
}
