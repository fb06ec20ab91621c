using System.ComponentModel;
using System.Text;
using ModelContextProtocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs.Files;

/// <summary>
/// The <c>files</c> pack: file access inside configured roots only. Every path goes through
/// <see cref="FileSandbox"/> before anything is opened, and every access, allowed or denied, is
/// written to the <see cref="FileAuditLog"/>.
/// </summary>
[McpServerToolType]
public sealed class FileTools(FileSandbox sandbox, FileAuditLog audit)
{
    /// <summary>Lists the roots.</summary>
    [McpServerTool(Name = "list_roots", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Lists the directories (roots) the file tools may use, with their access: read-only or read-write.")]
    public RootList ListRoots() => new([.. sandbox.Roots.Select(root => new RootInfo(root.Name, root.Access == FileAccessMode.ReadWrite ? "read-write" : "read-only"))]);

    /// <summary>Lists a directory.</summary>
    [McpServerTool(Name = "list_directory", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Lists a directory inside a root: names, kinds (file or directory) and sizes. Excluded files (secrets) are not shown.")]
    public Task<DirectoryListing> ListDirectoryAsync(
        [Description("The root's name, from list_roots.")] string root,
        [Description("The directory, relative to the root; empty for the root itself.")] string path = "") =>
        GuardAsync(FileOperation.List, root, path, target =>
        {
            var entries = sandbox.ReadDirectory(target, directory => directory.EnumerateFileSystemInfos()
                .Where(entry => !sandbox.IsExcluded(Join(target.RelativePath, entry.Name)))
                .OrderBy(entry => entry.Name, StringComparer.Ordinal)
                .Select(entry => entry is DirectoryInfo
                    ? new DirectoryEntry(entry.Name, "directory", null)
                    : new DirectoryEntry(entry.Name, entry.LinkTarget is null ? "file" : "link", entry.LinkTarget is null ? ((FileInfo)entry).Length : null))
                .ToArray());
            return ValueTask.FromResult(new DirectoryListing(root, target.RelativePath, entries));
        });

    /// <summary>Reads a text file.</summary>
    [McpServerTool(Name = "read_file", ReadOnly = true, Idempotent = true, Destructive = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Reads a text file inside a root, up to the size cap, as UTF-8.")]
    public Task<FileContent> ReadFileAsync(
        [Description("The root's name, from list_roots.")] string root,
        [Description("The file, relative to the root.")] string path,
        CancellationToken cancellationToken = default) =>
        GuardAsync(FileOperation.Read, root, path, async target =>
        {
            using var handle = sandbox.OpenForRead(target);

            // Read at most one byte past the cap: a file that grew after it was checked is still refused.
            var buffer = new byte[Math.Min(RandomAccess.GetLength(handle), sandbox.MaxFileBytes) + 1];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(length), length, cancellationToken)) > 0)
            {
                length += read;
            }

            return length > sandbox.MaxFileBytes
                ? throw new FileAccessDeniedException($"'{path}' is larger than the {sandbox.MaxFileBytes}-byte cap (Files:MaxFileBytes).")
                : new FileContent(root, target.RelativePath, length, Encoding.UTF8.GetString(buffer, 0, length));
        });

    /// <summary>Writes a text file.</summary>
    [McpServerTool(Name = "write_file", ReadOnly = false, Idempotent = true, Destructive = true, OpenWorld = false, UseStructuredContent = true)]
    [Description("Writes a UTF-8 text file inside a read-write root, replacing it if it exists. The directory must exist. " +
        "The write is atomic: readers see the old content or the new, never a part.")]
    public Task<FileWritten> WriteFileAsync(
        [Description("The root's name, from list_roots.")] string root,
        [Description("The file, relative to the root.")] string path,
        [Description("The text to write.")] string content)
    {
        ArgumentNullException.ThrowIfNull(content);
        var bytes = Encoding.UTF8.GetBytes(content);
        if (bytes.Length > sandbox.MaxFileBytes)
        {
            Deny(FileOperation.Write, root, path, $"The content is larger than the {sandbox.MaxFileBytes}-byte cap (Files:MaxFileBytes).");
        }

        return GuardAsync(FileOperation.Write, root, path, target =>
        {
            sandbox.Replace(target, bytes);
            return ValueTask.FromResult(new FileWritten(root, target.RelativePath, bytes.Length));
        });
    }

    /// <summary>
    /// Checks the request, then does <paramref name="access"/>, which may refuse too if the file changed in
    /// between. The audit log gets one record: allowed once the access has succeeded, or denied with the reason.
    /// </summary>
    private async Task<T> GuardAsync<T>(FileOperation operation, string root, string path, Func<SandboxedPath, ValueTask<T>> access)
    {
        T result;
        try
        {
            result = await access(sandbox.Authorize(root, path, operation));
        }
        catch (FileAccessDeniedException ex)
        {
            Deny(operation, root, path, ex.Message);
            throw;
        }
        catch (IOException ex)
        {
            // The full message may name disk paths: it goes to the audit log, and the client gets a general one.
            audit.Record(operation, root, path, $"I/O error: {ex.Message}");
            throw new McpException($"'{path}' could not be accessed: an I/O error on the node. The audit log has the details.", ex);
        }

        audit.Record(operation, root, path, deniedBecause: null);
        return result;
    }

    private void Deny(FileOperation operation, string root, string path, string reason)
    {
        audit.Record(operation, root, path, reason);
        throw new McpException($"Access denied: {reason}");
    }

    private static string Join(string directory, string name) => directory.Length == 0 ? name : $"{directory}/{name}";
}

/// <summary>The answer of <c>list_roots</c>.</summary>
/// <param name="Roots">The roots.</param>
public sealed record RootList(IReadOnlyList<RootInfo> Roots);

/// <summary>A root as clients see it (its disk path stays private).</summary>
/// <param name="Name">The name tools address it by.</param>
/// <param name="Access">read-only or read-write.</param>
public sealed record RootInfo(string Name, string Access);

/// <summary>The answer of <c>list_directory</c>.</summary>
/// <param name="Root">The root.</param>
/// <param name="Path">The directory, relative to the root.</param>
/// <param name="Entries">What is in it.</param>
public sealed record DirectoryListing(string Root, string Path, IReadOnlyList<DirectoryEntry> Entries);

/// <summary>One entry of a directory.</summary>
/// <param name="Name">Its name.</param>
/// <param name="Kind">file, directory or link.</param>
/// <param name="Size">A file's size in bytes.</param>
public sealed record DirectoryEntry(string Name, string Kind, long? Size);

/// <summary>The answer of <c>read_file</c>.</summary>
/// <param name="Root">The root.</param>
/// <param name="Path">The file, relative to the root.</param>
/// <param name="Size">Its size in bytes.</param>
/// <param name="Content">Its text.</param>
public sealed record FileContent(string Root, string Path, long Size, string Content);

/// <summary>The answer of <c>write_file</c>.</summary>
/// <param name="Root">The root.</param>
/// <param name="Path">The file, relative to the root.</param>
/// <param name="Size">Bytes written.</param>
public sealed record FileWritten(string Root, string Path, long Size);
