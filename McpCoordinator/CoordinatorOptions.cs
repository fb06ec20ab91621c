using System.ComponentModel.DataAnnotations;

namespace McpAspire.McpCoordinator;

/// <summary>Settings of the coordinator, bound from the <c>Coordinator</c> section and validated at start-up.</summary>
public sealed class CoordinatorOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Coordinator";

    /// <summary>
    /// How often the registry re-reads the nodes' heartbeats from Redis. Nodes also announce joining, draining
    /// and leaving, which trigger a read at once; the periodic read catches nodes that died without a word.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:10:00", ErrorMessage = "Coordinator:RegistryRefreshInterval must be between 50 ms and 10 minutes.")]
    public TimeSpan RegistryRefreshInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How many nodes a call may be tried on: when a node cannot be reached, refuses it (overloaded or draining),
    /// or fails a read-only or idempotent call before any of its answer reached the client.
    /// </summary>
    [Range(1, 10, ErrorMessage = "Coordinator:MaxAttempts must be between 1 and 10.")]
    public int MaxAttempts { get; set; } = 3;

    /// <summary>How long opening a connection to a node may take before the next node is tried.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00", ErrorMessage = "Coordinator:ConnectTimeout must be between 100 ms and 1 minute.")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>How long a pooled connection to a node is reused before it is replaced (picks up DNS changes).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00", ErrorMessage = "Coordinator:PooledConnectionLifetime must be between 1 second and 1 hour.")]
    public TimeSpan PooledConnectionLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// The most connections open to one node at once. Calls past it wait for a connection to come free; a node
    /// bounds its running calls itself (<c>Node:MaxConcurrentCalls</c>), so the default leaves this open.
    /// </summary>
    [Range(1, int.MaxValue, ErrorMessage = "Coordinator:MaxConnectionsPerNode must be at least 1.")]
    public int MaxConnectionsPerNode { get; set; } = int.MaxValue;

    /// <summary>The most tools in one <c>tools/list</c> page; more come with a <c>nextCursor</c>.</summary>
    [Range(1, 10_000, ErrorMessage = "Coordinator:ToolsPageSize must be between 1 and 10000.")]
    public int ToolsPageSize { get; set; } = 100;

    /// <summary>The share of failed calls to a node, within <see cref="BreakerSamplingDuration"/>, that opens its circuit breaker.</summary>
    [Range(0.01, 1.0, ErrorMessage = "Coordinator:BreakerFailureRatio must be between 0.01 and 1.")]
    public double BreakerFailureRatio { get; set; } = 0.5;

    /// <summary>How many calls to a node the sampling window needs before its breaker may open.</summary>
    [Range(2, 1000, ErrorMessage = "Coordinator:BreakerMinimumThroughput must be between 2 and 1000.")]
    public int BreakerMinimumThroughput { get; set; } = 5;

    /// <summary>The window over which a node's failures are counted.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00", ErrorMessage = "Coordinator:BreakerSamplingDuration must be between 500 ms and 10 minutes.")]
    public TimeSpan BreakerSamplingDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an open breaker keeps calls away from a node before a probe decides whether it closes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:10:00", ErrorMessage = "Coordinator:BreakerBreakDuration must be between 500 ms and 10 minutes.")]
    public TimeSpan BreakerBreakDuration { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The secret that seals stateful session ids: 32 random bytes in base64 (e.g. <c>openssl rand -base64 32</c>),
    /// or a random text of at least 43 characters, such as the AppHost and azd
    /// generate. Required when <c>Mcp:Stateless</c> is <see langword="false"/>, and the same on every replica, so
    /// each can route any session. Changing it ends every open session (clients get 404 and initialize again).
    /// </summary>
    public string? SessionKey { get; set; }

    /// <summary>
    /// Further keys whose session ids are still opened, for a rotation: add the new key here on every replica, then
    /// make it <see cref="SessionKey"/> with the old one here, then remove the old one once its ids have expired.
    /// </summary>
    public IList<string> AcceptedSessionKeys { get; } = [];

    /// <summary>How long a session id is valid after <c>initialize</c>; the client then gets 404 and initializes again.</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00", ErrorMessage = "Coordinator:SessionLifetime must be between 1 minute and 30 days.")]
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// Serve callers without authentication although the coordinator listens beyond loopback. Without it, such a
    /// coordinator refuses to start until <c>Authentication:Schemes:Bearer</c> or API keys are configured.
    /// </summary>
    public bool AllowAnonymous { get; set; }
}
