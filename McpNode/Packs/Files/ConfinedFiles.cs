using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace McpAspire.McpNode.Packs.Files;

/// <summary>
/// Opens files so that what is opened is what the sandbox checked. Between a check and an open, a
/// client with write access to a root could swap a directory or file for a symlink (a TOCTOU race).
/// On Linux 5.6+ every open starts from the root's directory and walks the already-resolved path with
/// <c>openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS)</c>, so a link that appears after the check makes
/// the open fail instead of leading elsewhere; type and size are then checked on the open handle, and
/// writes replace the file with <c>renameat</c> inside the opened directory.
/// </summary>
internal static partial class ConfinedFiles
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const int AtEmptyPath = 0x1000;
    private const int ReadOnly = 0x0;
    private const int WriteOnly = 0x1;
    private const int Create = 0x40;
    private const int Exclusive = 0x80;
    private const int NoControllingTerminal = 0x100;
    private const int NonBlocking = 0x800;
    private const int CloseOnExec = 0x80000;
    private const ulong ResolveNoSymlinks = 0x04;
    private const ulong ResolveBeneath = 0x08;
    private const long SysOpenat2 = 437;
    private const uint StatxType = 0x1;
    private const uint StatxMode = 0x2;
    private const uint StatxSize = 0x200;
    private const int ModeOffset = 28;
    private const int SizeOffset = 40;
    private const int NotPermitted = 1;
    private const int NoSuchFile = 2;
    private const int TryAgain = 11;
    private const int PermissionDenied = 13;
    private const int NotADirectory = 20;
    private const int CrossDevice = 18;
    private const int TooManyLinks = 40;

    /// <summary>The file-type bits of a mode.</summary>
    public const ushort TypeMask = 0xF000;

    /// <summary>The file type of a regular file.</summary>
    public const ushort RegularFile = 0x8000;

    /// <summary>The file type of a directory.</summary>
    public const ushort Directory = 0x4000;

    // O_DIRECTORY and O_NOFOLLOW differ between architectures; the other flags used here do not.
    private static readonly int DirectoryOnly = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x4000 : 0x10000;
    private static readonly int NoFollow = RuntimeInformation.ProcessArchitecture is Architecture.Arm64 or Architecture.Arm ? 0x8000 : 0x20000;

    private static readonly Lazy<bool> Openat2Works = new(Probe);

    /// <summary>Whether opens are confined here: Linux with <c>openat2</c> (5.6+, and not blocked by a seccomp filter).</summary>
    public static bool IsSupported => OperatingSystem.IsLinux() && Openat2Works.Value;

    /// <summary>Opens a directory inside <paramref name="root"/> for listing; list it through <see cref="PathOf"/>.</summary>
    public static SafeFileHandle OpenDirectory(string root, string relative, string shownPath) =>
        OpenBeneath(root, relative, ReadOnly | DirectoryOnly | CloseOnExec, shownPath);

    /// <summary>A path that reaches the open file or directory itself, whatever has happened to its name since.</summary>
    public static string PathOf(SafeFileHandle handle)
    {
        ArgumentNullException.ThrowIfNull(handle);
        return $"/proc/self/fd/{handle.DangerousGetHandle()}";
    }

    /// <summary>Opens a regular file inside <paramref name="root"/> for reading, at most <paramref name="maxBytes"/> long.</summary>
    /// <exception cref="FileAccessDeniedException">It is not a regular file, it is too large, or it changed since it was checked.</exception>
    public static SafeFileHandle OpenFileForRead(string root, string relative, long maxBytes, string shownPath)
    {
        // Non-blocking, so a FIFO swapped in cannot hang the call; it is refused by type below.
        var handle = OpenBeneath(root, relative, ReadOnly | NonBlocking | NoControllingTerminal | CloseOnExec, shownPath);
        try
        {
            var (mode, size) = Stat((int)handle.DangerousGetHandle(), string.Empty, AtEmptyPath, shownPath);
            if ((mode & TypeMask) != RegularFile)
            {
                throw new FileAccessDeniedException($"'{shownPath}' is not a regular file (a directory, device, pipe or socket).");
            }

            if (size > maxBytes)
            {
                throw new FileAccessDeniedException($"'{shownPath}' is larger than the {maxBytes}-byte cap (Files:MaxFileBytes).");
            }

            return handle;
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Replaces <paramref name="name"/> in the directory <paramref name="directory"/> (inside <paramref name="root"/>)
    /// with <paramref name="content"/>, atomically: a new file is written beside it and renamed over it. The new file
    /// keeps the old one's permissions; a new file is readable by its owner only.
    /// </summary>
    /// <exception cref="FileAccessDeniedException">The name is not a regular file, or the directory changed since it was checked.</exception>
    public static void ReplaceFile(string root, string directory, string name, ReadOnlySpan<byte> content, string shownPath)
    {
        using var folder = OpenBeneath(root, directory, ReadOnly | DirectoryOnly | CloseOnExec, shownPath);
        var folderFd = (int)folder.DangerousGetHandle();
        var mode = 0x180u; // 0600
        if (TryStat(folderFd, name, AtSymlinkNoFollow, out var existing, out _))
        {
            if ((existing & TypeMask) != RegularFile)
            {
                throw new FileAccessDeniedException($"'{shownPath}' exists and is not a regular file.");
            }

            mode = existing & 0xFFFu;
        }
        else if (Marshal.GetLastPInvokeError() is var errno && errno != NoSuchFile)
        {
            throw Failure(errno, shownPath);
        }

        var temporary = $".{name}.{Guid.NewGuid():N}.tmp";
        var fd = OpenAt(folderFd, temporary, WriteOnly | Create | Exclusive | NoFollow | CloseOnExec, mode);
        if (fd < 0)
        {
            throw Failure(Marshal.GetLastPInvokeError(), shownPath);
        }

        try
        {
            using (var file = new SafeFileHandle(fd, ownsHandle: true))
            {
                RandomAccess.Write(file, content, 0);
                if (FileModeChange(fd, mode) != 0)
                {
                    throw Failure(Marshal.GetLastPInvokeError(), shownPath);
                }
            }

            if (RenameAt(folderFd, temporary, folderFd, name) != 0)
            {
                throw Failure(Marshal.GetLastPInvokeError(), shownPath);
            }
        }
        catch
        {
            _ = UnlinkAt(folderFd, temporary, 0);
            throw;
        }
    }

    /// <summary>The type and permission bits of <paramref name="path"/>, without following a final symlink; 0 if it does not exist.</summary>
    public static ushort ModeOf(string path) => TryStat(AtFdCwd, path, AtSymlinkNoFollow, out var mode, out _) ? (ushort)mode : (ushort)0;

    private static SafeFileHandle OpenBeneath(string root, string relative, int flags, string shownPath)
    {
        var rootFd = OpenAt(AtFdCwd, root, ReadOnly | DirectoryOnly | CloseOnExec, 0);
        if (rootFd < 0)
        {
            throw new IOException($"The root directory cannot be opened (errno {Marshal.GetLastPInvokeError()}).");
        }

        using var rootHandle = new SafeFileHandle(rootFd, ownsHandle: true);
        var how = new OpenHow { Flags = (ulong)flags, Resolve = ResolveBeneath | ResolveNoSymlinks };
        var fd = (int)Openat2(SysOpenat2, rootFd, relative.Length == 0 ? "." : relative, ref how, (nuint)Marshal.SizeOf<OpenHow>());
        return fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : throw Failure(Marshal.GetLastPInvokeError(), shownPath);
    }

    private static (uint Mode, long Size) Stat(int directory, string path, int flags, string shownPath) =>
        TryStat(directory, path, flags, out var mode, out var size) ? (mode, size) : throw Failure(Marshal.GetLastPInvokeError(), shownPath);

    private static bool TryStat(int directory, string path, int flags, out uint mode, out long size)
    {
        var buffer = new byte[256];
        if (Statx(directory, path, flags, StatxType | StatxMode | StatxSize, buffer) != 0)
        {
            (mode, size) = (0, 0);
            return false;
        }

        mode = BitConverter.ToUInt16(buffer, ModeOffset);
        size = (long)BitConverter.ToUInt64(buffer, SizeOffset);
        return true;
    }

    private static Exception Failure(int errno, string shownPath) => errno switch
    {
        TooManyLinks or CrossDevice or TryAgain => new FileAccessDeniedException($"'{shownPath}' changed while it was being opened (a symbolic link appeared or a directory moved on its way); try again."),
        PermissionDenied or NotPermitted => new FileAccessDeniedException($"The operating system does not let this node open '{shownPath}'."),
        NoSuchFile => new FileAccessDeniedException($"'{shownPath}' does not exist."),
        NotADirectory => new FileAccessDeniedException($"A part of '{shownPath}' is not a directory."),
        _ => new IOException($"'{shownPath}' could not be opened (errno {errno})."),
    };

    /// <summary>Whether openat2 works here: old kernels lack it (ENOSYS), and some seccomp filters refuse it (EPERM).</summary>
    private static bool Probe()
    {
        var how = new OpenHow { Flags = (ulong)(ReadOnly | DirectoryOnly | CloseOnExec), Resolve = ResolveBeneath | ResolveNoSymlinks };
        var fd = (int)Openat2(SysOpenat2, AtFdCwd, ".", ref how, (nuint)Marshal.SizeOf<OpenHow>());
        using var probe = fd >= 0 ? new SafeFileHandle(fd, ownsHandle: true) : null;
        return probe is not null;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct OpenHow
    {
        public ulong Flags;
        public ulong Mode;
        public ulong Resolve;
    }

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial long Openat2(long number, int directory, string path, ref OpenHow how, nuint size);

    [LibraryImport("libc", EntryPoint = "openat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenAt(int directory, string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "renameat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt(int fromDirectory, string from, int toDirectory, string to);

    [LibraryImport("libc", EntryPoint = "unlinkat", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int UnlinkAt(int directory, string path, int flags);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static partial int FileModeChange(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, [Out] byte[] buffer);
}
