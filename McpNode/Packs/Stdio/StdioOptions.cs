using System.ComponentModel.DataAnnotations;

namespace McpAspire.McpNode.Packs.Stdio;

/// <summary>
/// The MCP server the <c>stdio</c> pack runs as a child process and bridges into the cluster, bound from the
/// <c>Stdio</c> section and validated at start-up when the pack is on.
/// </summary>
public sealed class StdioOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Stdio";

    /// <summary>The program to run: <c>npx</c>, <c>uvx</c>, <c>node</c>, a path to an executable.</summary>
    public string? Command { get; set; }

    /// <summary>Its arguments, one per entry (no shell parses them).</summary>
    public List<string> Args { get; } = [];

    /// <summary>
    /// The child's environment on top of a minimal one (<c>PATH</c>, <c>HOME</c> and the like): it does not inherit
    /// the node's, which holds the cluster key and the store's password.
    /// </summary>
    public Dictionary<string, string> Env { get; } = new(StringComparer.Ordinal);

    /// <summary>The child's working directory; the node's when not set.</summary>
    public string? WorkingDirectory { get; set; }

    /// <summary>
    /// Put before each of the child's tool names as the node serves them (<c>memory_</c> makes <c>read_graph</c>
    /// <c>memory_read_graph</c>); calls reach the child under its own names.
    /// </summary>
    public string? Prefix { get; set; }

    /// <summary>How long to wait before the first restart of a child that exited; each failure in a row doubles it.</summary>
    public TimeSpan RestartDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait between restarts.</summary>
    public TimeSpan MaxRestartDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long starting the child and its <c>initialize</c> may take.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Command))
        {
            yield return new ValidationResult("Stdio:Command must be set when Node:Packs includes 'stdio': the MCP server to run, e.g. npx or uvx.", [nameof(Command)]);
        }

        if (RestartDelay < TimeSpan.FromMilliseconds(100) || RestartDelay > TimeSpan.FromMinutes(5))
        {
            yield return new ValidationResult("Stdio:RestartDelay must be between 100 ms and 5 minutes.", [nameof(RestartDelay)]);
        }

        if (MaxRestartDelay < RestartDelay || MaxRestartDelay > TimeSpan.FromHours(1))
        {
            yield return new ValidationResult("Stdio:MaxRestartDelay must be at least Stdio:RestartDelay and at most 1 hour.", [nameof(MaxRestartDelay)]);
        }

        if (StartTimeout < TimeSpan.FromSeconds(1) || StartTimeout > TimeSpan.FromMinutes(10))
        {
            yield return new ValidationResult("Stdio:StartTimeout must be between 1 second and 10 minutes.", [nameof(StartTimeout)]);
        }

        if (Prefix is not null && (Prefix.Length is 0 or > 32 || !Prefix.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.')))
        {
            yield return new ValidationResult($"Stdio:Prefix '{Prefix}' is not 1-32 letters, digits, '_', '-' or '.'.", [nameof(Prefix)]);
        }

        if (WorkingDirectory is { } directory && !Directory.Exists(directory))
        {
            yield return new ValidationResult($"Stdio:WorkingDirectory '{directory}' does not exist.", [nameof(WorkingDirectory)]);
        }
    }
}
