namespace McpAspire.McpNode.Packs.Files;

/// <summary>
/// What a path is, without following a final symlink: .NET reports devices and FIFOs as ordinary
/// files, and opening a FIFO blocks, so the sandbox asks the kernel (<c>statx</c>) on Linux.
/// </summary>
internal static class FileKind
{
    /// <summary>Whether <paramref name="path"/> is a regular file (not a device, FIFO, socket or directory).</summary>
    public static bool IsRegularFile(string path) =>
        OperatingSystem.IsLinux() ? (ConfinedFiles.ModeOf(path) & ConfinedFiles.TypeMask) == ConfinedFiles.RegularFile : File.Exists(path);

    /// <summary>Whether <paramref name="path"/> is a directory.</summary>
    public static bool IsDirectory(string path) =>
        OperatingSystem.IsLinux() ? (ConfinedFiles.ModeOf(path) & ConfinedFiles.TypeMask) == ConfinedFiles.Directory : System.IO.Directory.Exists(path);
}
