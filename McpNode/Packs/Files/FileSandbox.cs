using Microsoft.Extensions.FileSystemGlobbing;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace McpAspire.McpNode.Packs.Files;

/// <summary>What a tool wants to do with a path.</summary>
public enum FileOperation
{
    /// <summary>List a directory.</summary>
    List,

    /// <summary>Read a file.</summary>
    Read,

    /// <summary>Write a file.</summary>
    Write,
}

/// <summary>A path the sandbox allowed: where it is on disk and how it is shown to clients.</summary>
/// <param name="Root">The root it is in.</param>
/// <param name="RelativePath">Its path within the root, with '/' separators ("" for the root).</param>
/// <param name="FullPath">Its place on disk.</param>
public sealed record SandboxedPath(FileRoot Root, string RelativePath, string FullPath);

/// <summary>A request the sandbox refused; the message says why, without disk paths.</summary>
public sealed class FileAccessDeniedException : Exception
{
    /// <summary>Creates the exception.</summary>
    public FileAccessDeniedException()
    {
    }

    /// <summary>Creates the exception with the reason.</summary>
    public FileAccessDeniedException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with the reason and its cause.</summary>
    public FileAccessDeniedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Decides whether a path may be used, before any file is opened. A path must name a configured root
/// and stay inside it: no <c>..</c> segment, no absolute path, no NUL, no symlink (anywhere along
/// the way) that leads out of the root, nothing but regular files and directories (no devices, FIFOs
/// or sockets), nothing over the size cap. Globs then decide what may be read or written, and the
/// exclusions (secrets) win over everything.
/// </summary>
public sealed partial class FileSandbox
{
    /// <summary>The longest path accepted, in characters.</summary>
    public const int MaxPathLength = 1024;

    private readonly FilesOptions _options;
    private readonly Dictionary<string, (FileRoot Root, string RealPath)> _roots;
    private readonly Matcher _read;
    private readonly Matcher _write;
    private readonly Matcher _excluded;

    /// <summary>Builds the sandbox from the <c>Files</c> options.</summary>
    public FileSandbox(IOptions<FilesOptions> options, ILogger<FileSandbox>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (OperatingSystem.IsLinux() && !ConfinedFiles.IsSupported && logger is not null)
        {
            LogUnconfined(logger);
        }

        _options = options.Value;
        _roots = _options.Roots.ToDictionary(
            root => root.Name,
            root => (root, RealPath(Path.GetFullPath(root.Path))),
            StringComparer.Ordinal);
        _read = Globs(_options.ReadGlobs, ["**"]);
        _write = Globs(_options.WriteGlobs, ["**"]);
        _excluded = Globs(_options.ExcludeGlobs, FilesOptions.DefaultExcludeGlobs);
    }

    /// <summary>The roots, in configuration order.</summary>
    public IReadOnlyList<FileRoot> Roots => _options.Roots;

    /// <summary>The size cap, in bytes.</summary>
    public long MaxFileBytes => _options.MaxFileBytes;

    /// <summary>Whether a name inside a listed directory is hidden by the exclusions.</summary>
    public bool IsExcluded(string relativePath) => _excluded.Match(relativePath).HasMatches;

    /// <summary>
    /// Reads an authorized directory through <paramref name="read"/>. Where opens can be confined
    /// (<see cref="ConfinedFiles"/>), the directory is opened from its root without following any symlink,
    /// and read through that handle, so a link swapped in after the check cannot redirect it.
    /// </summary>
    public T ReadDirectory<T>(SandboxedPath target, Func<DirectoryInfo, T> read)
    {
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(read);
        if (!ConfinedFiles.IsSupported)
        {
            return read(new DirectoryInfo(target.FullPath));
        }

        using var directory = ConfinedFiles.OpenDirectory(RootOf(target), RealRelative(target), target.RelativePath);
        return read(new DirectoryInfo(ConfinedFiles.PathOf(directory)));
    }

    /// <summary>
    /// Opens an authorized file for reading. Where opens can be confined, the file is opened from its root
    /// without following any symlink, and its type and size are checked on the open handle.
    /// </summary>
    /// <exception cref="FileAccessDeniedException">The file changed since it was checked and is no longer allowed.</exception>
    public SafeFileHandle OpenForRead(SandboxedPath target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return ConfinedFiles.IsSupported
            ? ConfinedFiles.OpenFileForRead(RootOf(target), RealRelative(target), MaxFileBytes, target.RelativePath)
            : File.OpenHandle(target.FullPath, FileMode.Open, FileAccess.Read);
    }

    /// <summary>
    /// Replaces an authorized file atomically: the content goes to a new file beside it, which is renamed over it.
    /// Where opens can be confined, both happen inside the directory opened from its root without following any
    /// symlink. The new file keeps the old one's permissions; a new file is readable by its owner only.
    /// </summary>
    /// <exception cref="FileAccessDeniedException">The file or its directory changed since it was checked and is no longer allowed.</exception>
    public void Replace(SandboxedPath target, ReadOnlySpan<byte> content)
    {
        ArgumentNullException.ThrowIfNull(target);
        if (ConfinedFiles.IsSupported)
        {
            var relative = RealRelative(target);
            var slash = relative.LastIndexOf('/');
            ConfinedFiles.ReplaceFile(RootOf(target), slash < 0 ? string.Empty : relative[..slash], relative[(slash + 1)..], content, target.RelativePath);
            return;
        }

        var temporary = Path.Combine(Path.GetDirectoryName(target.FullPath)!, $".{Path.GetFileName(target.FullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var file = File.OpenHandle(temporary, FileMode.CreateNew, FileAccess.Write))
            {
                RandomAccess.Write(file, content, 0);
            }

            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(temporary, File.Exists(target.FullPath) ? File.GetUnixFileMode(target.FullPath) : UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            File.Move(temporary, target.FullPath, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }
    }

    private string RootOf(SandboxedPath target) => _roots[target.Root.Name].RealPath;

    /// <summary>The checked real path of <paramref name="target"/>, relative to its root's real path.</summary>
    private string RealRelative(SandboxedPath target)
    {
        var root = RootOf(target);
        return target.FullPath == root ? string.Empty : target.FullPath[(root.TrimEnd('/').Length + 1)..];
    }

    /// <summary>Checks a request and returns where it leads.</summary>
    /// <exception cref="FileAccessDeniedException">The request is not allowed; the message says why.</exception>
    public SandboxedPath Authorize(string rootName, string path, FileOperation operation)
    {
        if (!_roots.TryGetValue(rootName ?? string.Empty, out var entry))
        {
            throw new FileAccessDeniedException($"Unknown root '{rootName}'. list_roots shows the roots.");
        }

        var relative = Normalize(path);
        var full = Path.GetFullPath(Path.Combine(entry.RealPath, relative));
        if (!IsInside(full, entry.RealPath))
        {
            throw new FileAccessDeniedException($"'{path}' is outside root '{rootName}'.");
        }

        // Symlinks anywhere along the path must not lead out of the root.
        string real;
        try
        {
            real = RealPath(full);
        }
        catch (IOException)
        {
            throw new FileAccessDeniedException($"'{path}' goes through a symbolic link that loops or cannot be resolved.");
        }

        if (!IsInside(real, entry.RealPath))
        {
            throw new FileAccessDeniedException($"'{path}' leads outside root '{rootName}' through a symbolic link.");
        }

        // Policy applies to the name asked for and to what it really is (a link named 'notes' to '.env' is still '.env').
        var realRelative = real == entry.RealPath ? string.Empty : real[(entry.RealPath.TrimEnd('/').Length + 1)..];
        if ((relative.Length > 0 && IsExcluded(relative)) || (realRelative.Length > 0 && IsExcluded(realRelative)))
        {
            throw new FileAccessDeniedException($"'{path}' is excluded by policy (Files:ExcludeGlobs).");
        }

        switch (operation)
        {
            case FileOperation.List:
                if (!FileKind.IsDirectory(real))
                {
                    throw new FileAccessDeniedException($"'{path}' is not a directory in root '{rootName}'.");
                }

                if (relative.Length > 0 && !Allows(_read, relative, realRelative))
                {
                    throw new FileAccessDeniedException($"'{path}' may not be listed (Files:ReadGlobs).");
                }

                break;
            case FileOperation.Read:
                if (!Allows(_read, relative, realRelative))
                {
                    throw new FileAccessDeniedException($"'{path}' may not be read (Files:ReadGlobs).");
                }

                if (!FileKind.IsRegularFile(real))
                {
                    throw new FileAccessDeniedException(File.Exists(real) || Directory.Exists(real)
                        ? $"'{path}' is not a regular file (a directory, device, pipe or socket)."
                        : $"'{path}' does not exist in root '{rootName}'.");
                }

                if (new FileInfo(real).Length > _options.MaxFileBytes)
                {
                    throw new FileAccessDeniedException($"'{path}' is larger than the {_options.MaxFileBytes}-byte cap (Files:MaxFileBytes).");
                }

                break;
            case FileOperation.Write:
                if (entry.Root.Access != FileAccessMode.ReadWrite)
                {
                    throw new FileAccessDeniedException($"Root '{rootName}' is read-only.");
                }

                if (relative.Length == 0 || !Allows(_write, relative, realRelative))
                {
                    throw new FileAccessDeniedException($"'{path}' may not be written (Files:WriteGlobs).");
                }

                if ((File.Exists(real) || Directory.Exists(real)) && !FileKind.IsRegularFile(real))
                {
                    throw new FileAccessDeniedException($"'{path}' exists and is not a regular file.");
                }

                if (!Directory.Exists(Path.GetDirectoryName(real)))
                {
                    throw new FileAccessDeniedException($"The directory of '{path}' does not exist in root '{rootName}'.");
                }

                break;
        }

        return new SandboxedPath(entry.Root, relative, real);
    }

    /// <summary>Turns a client's path into a relative one with '/' separators, refusing anything that tries to climb out.</summary>
    private static string Normalize(string? path)
    {
        path ??= string.Empty;
        if (path.Length > MaxPathLength)
        {
            throw new FileAccessDeniedException($"The path is longer than {MaxPathLength} characters.");
        }

        if (path.Contains('\0', StringComparison.Ordinal))
        {
            throw new FileAccessDeniedException("The path contains a NUL character.");
        }

        // A backslash is a separator to Windows tools and to people; treat it as one so "..\" is caught too.
        var unified = path.Replace('\\', '/');
        if (unified.StartsWith('/') || unified.StartsWith('~') || (unified.Length >= 2 && unified[1] == ':'))
        {
            throw new FileAccessDeniedException($"'{path}' is absolute; give a path relative to the root.");
        }

        var segments = unified.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(segment => segment != ".").ToArray();
        if (segments.Any(segment => segment == ".."))
        {
            throw new FileAccessDeniedException($"'{path}' contains '..'; paths may not climb out of a directory.");
        }

        return string.Join('/', segments);
    }

    /// <summary>A glob allows a path only if it allows both the name asked for and what that name really is.</summary>
    private static bool Allows(Matcher globs, string relative, string realRelative) =>
        globs.Match(relative).HasMatches && (realRelative == relative || globs.Match(realRelative).HasMatches);

    private static bool IsInside(string path, string root) =>
        path == root || path.StartsWith(root.EndsWith('/') ? root : root + "/", StringComparison.Ordinal);

    /// <summary>The most symbolic links followed for one path, as the kernel's own limit (ELOOP).</summary>
    private const int MaxLinks = 40;

    /// <summary>
    /// The path as the kernel would resolve it (realpath): components are walked one by one, a symlink
    /// is replaced by its target and walking goes on from there, and <c>..</c> goes to the parent of
    /// where the walk really is, not of the text. Components that do not exist are kept as they are.
    /// </summary>
    /// <exception cref="IOException">More than <see cref="MaxLinks"/> links: a loop.</exception>
    private static string RealPath(string fullPath)
    {
        var pending = new Stack<string>(fullPath.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse());
        var current = "/";
        var links = 0;
        while (pending.TryPop(out var component))
        {
            if (component == ".")
            {
                continue;
            }

            if (component == "..")
            {
                current = Path.GetDirectoryName(current) ?? "/";
                continue;
            }

            var next = current == "/" ? "/" + component : current + "/" + component;
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                throw new IOException($"More than {MaxLinks} symbolic links.");
            }

            // The target's components are walked next; an absolute target starts again from '/'.
            foreach (var part in target.Split('/', StringSplitOptions.RemoveEmptyEntries).Reverse())
            {
                pending.Push(part);
            }

            if (target.StartsWith('/'))
            {
                current = "/";
            }
        }

        return current;
    }

    private static Matcher Globs(List<string> configured, IReadOnlyList<string> defaults)
    {
        var matcher = new Matcher(StringComparison.Ordinal);
        foreach (var glob in configured.Count > 0 ? configured : defaults)
        {
            // A pattern without '/' names a file at any depth.
            matcher.AddInclude(glob.Contains('/', StringComparison.Ordinal) ? glob : "**/" + glob);
        }

        return matcher;
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning,
        Message = "openat2 is not available (Linux before 5.6, or a seccomp filter refuses it): files are opened by path after they are checked, so a client that can write in a root could swap a path in between")]
    private static partial void LogUnconfined(ILogger logger);
}
