using System.ComponentModel.DataAnnotations;
using McpAspire.McpCoordinator.Registry;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// Per-caller limits, bound from <c>Coordinator:RateLimits</c>. A caller is an authenticated identity (issuer and
/// subject, or an API key's name) or, when the coordinator is anonymous, a client address. Each replica counts its own
/// requests and streams; sessions are counted across replicas in the store.
/// </summary>
public sealed class RateLimitOptions : IValidatableObject
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Coordinator:RateLimits";

    /// <summary>Whether the limits apply: by default, whenever callers are authenticated.</summary>
    public bool? Enabled { get; set; }

    /// <summary>The requests to <c>/mcp</c> a caller may send per second, on average.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Coordinator:RateLimits:RequestsPerSecond must be between 1 and 1000000.")]
    public int RequestsPerSecond { get; set; } = 50;

    /// <summary>The requests a caller may send at once after a quiet spell, above the average.</summary>
    [Range(1, 1_000_000, ErrorMessage = "Coordinator:RateLimits:Burst must be between 1 and 1000000.")]
    public int Burst { get; set; } = 100;

    /// <summary>The POSTs a caller may have in flight at once (calls that run, or wait for a node).</summary>
    [Range(1, 100_000, ErrorMessage = "Coordinator:RateLimits:ConcurrentRequests must be between 1 and 100000.")]
    public int ConcurrentRequests { get; set; } = 32;

    /// <summary>The server-to-client GET streams a caller may hold open at once.</summary>
    [Range(1, 10_000, ErrorMessage = "Coordinator:RateLimits:MaxStreams must be between 1 and 10000.")]
    public int MaxStreams { get; set; } = 8;

    /// <summary>The stateful sessions a caller may hold at once, counted from <c>initialize</c> until DELETE or the id's expiry.</summary>
    [Range(1, 100_000, ErrorMessage = "Coordinator:RateLimits:MaxSessions must be between 1 and 100000.")]
    public int MaxSessions { get; set; } = 100;

    /// <summary>Further limits on single tools, by tool name: calls per second per caller.</summary>
    public Dictionary<string, ToolRateLimit> Tools { get; } = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var (name, limit) in Tools)
        {
            if (!RegistryRecords.IsToolName(name))
            {
                yield return new ValidationResult($"{SectionName}:Tools:{name} does not name a tool: 1-128 letters, digits, '_', '-' or '.'.", [nameof(Tools)]);
            }

            if (limit.CallsPerSecond is < 1 or > 1_000_000 || limit.Burst is < 1 or > 1_000_000)
            {
                yield return new ValidationResult($"{SectionName}:Tools:{name}:CallsPerSecond and Burst must be between 1 and 1000000.", [nameof(Tools)]);
            }
        }
    }
}

/// <summary>The limit on one tool, per caller.</summary>
public sealed class ToolRateLimit
{
    /// <summary>The calls per second on average.</summary>
    public int CallsPerSecond { get; set; } = 1;

    /// <summary>The calls at once after a quiet spell (default: <see cref="CallsPerSecond"/>).</summary>
    public int? Burst { get; set; }
}
