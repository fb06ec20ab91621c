using System.Runtime.InteropServices;

namespace McpAspire.McpNode.Packs.Files;

/// <summary>
/// What a path is, without following a final symlink: .NET reports devices and FIFOs as ordinary
/// files, and opening a FIFO blocks, so the sandbox asks the kernel (<c>statx</c>) on Linux.
/// </summary>
internal static partial class FileKind
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxType = 0x1;
    private const int ModeOffset = 28;
    private const ushort TypeMask = 0xF000;
    private const ushort Regular = 0x8000;
    private const ushort Directory = 0x4000;

    /// <summary>Whether <paramref name="path"/> is a regular file (not a device, FIFO, socket or directory).</summary>
    public static bool IsRegularFile(string path) => TypeOf(path) is { } type ? type == Regular : File.Exists(path);

    /// <summary>Whether <paramref name="path"/> is a directory.</summary>
    public static bool IsDirectory(string path) => TypeOf(path) is { } type ? type == Directory : System.IO.Directory.Exists(path);

    private static ushort? TypeOf(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = new byte[256];
        return Statx(AtFdCwd, path, AtSymlinkNoFollow, StatxType, buffer) == 0
            ? (ushort)(BitConverter.ToUInt16(buffer, ModeOffset) & TypeMask)
            : (ushort)0;
    }

    [LibraryImport("libc", EntryPoint = "statx", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, [Out] byte[] buffer);
}
