namespace MemGen.Runs;

/// <summary>A run folder is being written by another live process (<see cref="RunFolderLock"/>); the message names the holder.</summary>
public sealed class RunFolderLockedException : Exception
{
    /// <summary>Creates the exception for <paramref name="folder"/> held by <paramref name="holder"/> (its description, may be empty).</summary>
    public RunFolderLockedException(string folder, string holder)
        : base($"{folder} is in use by another memgen process{(holder.Length > 0 ? $" ({holder})" : "")}; wait for it to finish or choose another folder")
    {
        Folder = folder;
        Holder = holder;
    }

    /// <summary>The folder.</summary>
    public string Folder { get; }

    /// <summary>What the holder wrote about itself (pid, host, command, start time), on one line.</summary>
    public string Holder { get; }
}
