namespace MemGen.Tests.Execution;

/// <summary>Stand-ins for external commands (sbatch, squeue, scancel): executable bash scripts in a test folder.</summary>
internal static class FakeCommand
{
    /// <summary>Writes <paramref name="folder"/>/<paramref name="name"/> as an executable bash script running <paramref name="body"/>.</summary>
    public static void Write(string folder, string name, string body)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name);
        File.WriteAllText(path, "#!/bin/bash\n" + body + "\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }
}
