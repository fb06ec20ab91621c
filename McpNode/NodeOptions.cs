using System.ComponentModel.DataAnnotations;
using McpAspire.McpNode.Packs;

namespace McpAspire.McpNode;

/// <summary>Settings of a node, bound from the <c>Node</c> configuration section and validated at start-up.</summary>
public sealed class NodeOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Node";

    /// <summary>The node's id in the registry. Default: <c>node-{machine}-{pid}</c>, unique per process.</summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,64}$", ErrorMessage = "Node:Id must be 1-64 characters of letters, digits, '.', '_' or '-'.")]
    public string? Id { get; set; }

    /// <summary>The tool packs to serve, comma-separated (e.g. <c>core</c>).</summary>
    [Required(ErrorMessage = "Node:Packs must name at least one pack.")]
    public string Packs { get; set; } = "core";

    /// <summary>
    /// The URL of this node's MCP endpoint as the coordinator should reach it. Default: the first
    /// address Kestrel listens on, plus <c>/mcp</c>. Set it when the node sits behind NAT or a proxy.
    /// </summary>
    public Uri? PublicUrl { get; set; }

    /// <summary>How often the node publishes its heartbeat.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00", ErrorMessage = "Node:HeartbeatInterval must be between 100 ms and 5 minutes.")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a heartbeat stays valid; a node that misses it is considered gone.</summary>
    [Range(typeof(TimeSpan), "00:00:00.300", "00:30:00", ErrorMessage = "Node:HeartbeatTtl must be between 300 ms and 30 minutes.")]
    public TimeSpan HeartbeatTtl { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>How many tool calls the node runs at once; reported in the heartbeat for load-aware routing.</summary>
    [Range(1, 100_000, ErrorMessage = "Node:MaxConcurrentCalls must be between 1 and 100000.")]
    public int MaxConcurrentCalls { get; set; } = 64;

    /// <summary>How many tool calls may wait for a slot; beyond that, calls are refused at once with 503.</summary>
    [Range(0, 100_000, ErrorMessage = "Node:MaxQueuedCalls must be between 0 and 100000.")]
    public int MaxQueuedCalls { get; set; } = 64;

    /// <summary>How long a tool call may run before it is cancelled, unless the tool sets its own limit.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00", ErrorMessage = "Node:CallTimeout must be between 1 second and 1 day.")]
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Whether the MCP endpoint refuses calls (401) that lack the coordinator's credential. Default: on when
    /// <c>Cluster:Key</c> is set, off otherwise. Turn it off to let clients call the node directly in a cluster; it
    /// cannot be on without a cluster key.
    /// </summary>
    public bool? RequireClusterCredential { get; set; }

    /// <summary>Time limits of single tools, by tool name; they win over the tool's own and the default.</summary>
    public Dictionary<string, TimeSpan> ToolTimeouts { get; } = new(StringComparer.Ordinal);

    /// <summary>The pack names parsed from <see cref="Packs"/>, trimmed, lower-case, without duplicates.</summary>
    public IReadOnlyList<string> PackNames =>
        Packs.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(name => name.ToLowerInvariant())
            .Distinct(StringComparer.Ordinal)
            .ToArray();

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (HeartbeatTtl <= HeartbeatInterval)
        {
            yield return new ValidationResult(
                $"Node:HeartbeatTtl ({HeartbeatTtl}) must be longer than Node:HeartbeatInterval ({HeartbeatInterval}), or every node flaps.",
                [nameof(HeartbeatTtl)]);
        }

        var unknown = PackNames.Where(name => !ToolPacks.IsKnown(name)).ToArray();
        if (unknown.Length > 0 || PackNames.Count == 0)
        {
            yield return new ValidationResult(
                $"Node:Packs names unknown pack(s) '{string.Join(", ", unknown)}'. Known packs: {string.Join(", ", ToolPacks.Names)}.",
                [nameof(Packs)]);
        }

        foreach (var (tool, timeout) in ToolTimeouts)
        {
            if (timeout < TimeSpan.FromSeconds(1) || timeout > TimeSpan.FromDays(1))
            {
                yield return new ValidationResult($"Node:ToolTimeouts:{tool} ({timeout}) must be between 1 second and 1 day.", [nameof(ToolTimeouts)]);
            }
        }

        if (PublicUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            yield return new ValidationResult($"Node:PublicUrl '{url}' must be an absolute http or https URL.", [nameof(PublicUrl)]);
        }
    }
}
