using System.ComponentModel.DataAnnotations;

namespace McpAspire.McpNode.Packs.Files;

/// <summary>Settings of the <c>files</c> pack, from the <c>Files</c> section.</summary>
public sealed class FilesOptions : IValidatableObject
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Files";

    /// <summary>The directories tools may use. Nothing outside them is reachable.</summary>
    public List<FileRoot> Roots { get; } = [];

    /// <summary>Paths (relative to a root) that may be read or listed. Default: everything.</summary>
    public List<string> ReadGlobs { get; } = [];

    /// <summary>Paths (relative to a root) that may be written. Default: everything, in read-write roots.</summary>
    public List<string> WriteGlobs { get; } = [];

    /// <summary>
    /// Paths never read, listed or written, whatever else allows them. Default: <c>.env</c>,
    /// <c>credentials.*</c>, <c>*.key</c>, <c>*.pem</c>. A pattern without <c>/</c> matches a file name at any depth.
    /// </summary>
    public List<string> ExcludeGlobs { get; } = [];

    /// <summary>The largest file read or written, in bytes (default 1 MiB).</summary>
    [Range(1, 256L * 1024 * 1024, ErrorMessage = "Files:MaxFileBytes must be between 1 and 268435456 (256 MiB).")]
    public long MaxFileBytes { get; set; } = 1024 * 1024;

    /// <summary>The exclusions applied when none are configured.</summary>
    public static IReadOnlyList<string> DefaultExcludeGlobs { get; } = [".env", "credentials.*", "*.key", "*.pem"];

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        for (var i = 0; i < Roots.Count; i++)
        {
            var root = Roots[i];
            if (string.IsNullOrWhiteSpace(root.Name) || !root.Name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                yield return new ValidationResult($"Files:Roots:{i}:Name must be letters, digits, '-' or '_'.", [nameof(Roots)]);
            }

            if (string.IsNullOrWhiteSpace(root.Path) || !Directory.Exists(root.Path))
            {
                yield return new ValidationResult($"Files:Roots:{i}:Path '{root.Path}' must be an existing directory.", [nameof(Roots)]);
            }
        }

        // Nested roots would let a read-write root reach into a read-only one.
        var paths = Roots.Where(root => !string.IsNullOrWhiteSpace(root.Path)).Select(root => (root.Name, Full: Path.TrimEndingDirectorySeparator(Path.GetFullPath(root.Path)) + "/")).ToArray();
        foreach (var outer in paths)
        {
            foreach (var inner in paths.Where(other => other.Name != outer.Name && other.Full.StartsWith(outer.Full, StringComparison.Ordinal)))
            {
                yield return new ValidationResult($"Files:Roots '{inner.Name}' lies inside root '{outer.Name}'; roots must not overlap.", [nameof(Roots)]);
            }
        }

        if (Roots.Select(root => root.Name).Distinct(StringComparer.Ordinal).Count() != Roots.Count)
        {
            yield return new ValidationResult("Files:Roots names must be unique.", [nameof(Roots)]);
        }
    }
}

/// <summary>One directory the <c>files</c> pack may use.</summary>
public sealed class FileRoot
{
    /// <summary>The name tools address it by.</summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>The directory on disk.</summary>
    public string Path { get; set; } = string.Empty;

    /// <summary>What tools may do in it.</summary>
    public FileAccessMode Access { get; set; } = FileAccessMode.ReadOnly;
}

/// <summary>What tools may do in a root.</summary>
public enum FileAccessMode
{
    /// <summary>List and read.</summary>
    ReadOnly,

    /// <summary>List, read and write.</summary>
    ReadWrite,
}
