using System.CommandLine;
using MemGen.Compute;
using MemGen.Analysis;

namespace MemGen.Cli.Commands;

/// <summary>
/// <c>memgen analyze</c>: analyses of a trained denoiser. <c>analyze jacobian</c>: flags → <see cref="JacobianJobSettings"/>
/// → <see cref="JacobianJob.Run"/> (the GAHB Jacobian analysis, docs/science.md §5.6).
/// </summary>
internal static class AnalyzeCommand
{
    /// <summary>Creates the command group.</summary>
    public static Command Create()
    {
        var command = new Command("analyze", "Analyses of a trained denoiser (see the subcommands).");
        command.Subcommands.Add(CreateJacobian());
        return command;
    }

    private static Command CreateJacobian()
    {
        var denoiser = new Option<string>("--denoiser") { Description = "checkpoint:PATH (a .safetensors file or a training run directory).", Required = true };
        var data = new Option<string>("--data") { Description = "Dataset spec holding the clean image x (see memgen data --help).", Required = true };
        var index = new Option<int>("--index") { Description = "Index of the clean image in --data.", DefaultValueFactory = _ => 0 };
        var sigma = new Option<double>("--sigma") { Description = "Noise standard deviation σ on the [0,1] scale.", Required = true };
        var seed = new Option<long>("--seed") { Description = "Seed of the noise z (y = x + σz).", DefaultValueFactory = _ => 0 };
        var top = new Option<int>("--top") { Description = "Eigenvectors written (largest λ first).", DefaultValueFactory = _ => 16 };
        var batch = new Option<int>("--batch") { Description = "Basis vectors pushed through the network per pass.", DefaultValueFactory = _ => 64 };
        var outDir = new Option<string>("--out") { Description = "Output directory (created if missing).", Required = true };
        var force = new Option<bool>("--force") { Description = "Overwrite results already in --out." };
        var command = new Command("jacobian",
            "Jacobian J = ∂f/∂y of a checkpoint's denoiser at y = x + σz (docs/science.md §5.6): eigenvalues of (J+Jᵀ)/2, clean-image coefficients, " +
            "tr J, Σλ², asymmetry, Euler check; writes eigenvalues.csv, summary.json, eigenvectors.npy/png, jacobian.npy.");
        foreach (var o in new Option[] { denoiser, data, index, sigma, seed, top, batch, outDir, force }) command.Options.Add(o);
        command.SetAction(parse =>
        {
            try
            {
                var settings = new JacobianJobSettings
                {
                    Denoiser = parse.GetValue(denoiser)!,
                    Data = parse.GetValue(data)!,
                    Index = parse.GetValue(index),
                    Sigma = parse.GetValue(sigma),
                    Seed = parse.GetValue(seed),
                    Top = parse.GetValue(top),
                    Batch = parse.GetValue(batch),
                    Out = parse.GetValue(outDir)!,
                    Force = parse.GetValue(force),
                };
                if (!DeviceOptions.TryOpen(parse, "analyze jacobian", out var backend, out int code)) return code;
                using var engine = backend;
                var job = ConsoleProgress.Run("jacobian", report => JacobianJob.Run(settings, new SynchronousProgress<double>(f => report(f, null, null)), engine));
                var r = job.Analysis;
                Console.WriteLine(FormattableString.Invariant(
                    $"{job.Architecture} at σ={settings.Sigma}: tr J {r.EffectiveDimensionality:F2}, Σλ² {r.SumSquaredEigenvalues:F2}, λ1 {r.Eigenvalues[0]:F3}, asymmetry {r.Asymmetry:G3}, Euler error {r.EulerRelativeError:G3} (d = {r.Dimension}); wrote {settings.Out}"));
                return 0;
            }
            catch (InvalidSettingException e)
            {
                return CommandError.Report("analyze jacobian", e);
            }
        });
        return command;
    }
}
