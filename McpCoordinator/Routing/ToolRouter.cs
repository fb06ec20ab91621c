using McpAspire.McpCoordinator.Registry;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>Chooses the node for a tool call from the registry's current view.</summary>
public sealed class ToolRouter(NodeRegistry registry, LocalCallTracker calls, NodeBreakers breakers, TimeProvider time)
{
    /// <summary>This coordinator's in-flight calls by node, made a delegate once rather than for every choice.</summary>
    private readonly Func<string, int> _inFlight = calls.InFlight;

    /// <summary>
    /// Picks a ready node that offers <paramref name="toolName"/>, whose heartbeat has not run out (unless the
    /// registry is stale), whose circuit
    /// breaker admits calls, and that is not in <paramref name="excluded"/>.
    /// </summary>
    public RouteDecision Select(string toolName, IReadOnlySet<string> excluded)
    {
        var snapshot = registry.Current;
        return Select(snapshot, snapshot.NodesOffering(toolName), excluded);
    }

    /// <summary>
    /// Picks one of <paramref name="offering"/> (the nodes of <paramref name="snapshot"/> that have what a request
    /// names: a resource, a prompt) as <see cref="Select(string, IReadOnlySet{string})"/> picks a node for a tool.
    /// </summary>
    public RouteDecision Select(RegistrySnapshot snapshot, IReadOnlyList<RegisteredNode> offering, IReadOnlySet<string> excluded)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        ArgumentNullException.ThrowIfNull(offering);
        if (offering.Count == 0)
        {
            return RouteDecision.Unknown;
        }

        return Choose(snapshot, offering, excluded) is { } chosen
            ? RouteDecision.To(chosen)
            : RouteDecision.Unavailable(offering.Count);
    }

    /// <summary>
    /// Picks a node to open a session on: any ready node of the cluster (not an external server, whose tools are
    /// served through the stateless coordinator) whose heartbeat has not run out, whose circuit breaker admits
    /// calls, and that is not in <paramref name="excluded"/>; <see langword="null"/> when there is none.
    /// </summary>
    public RegisteredNode? SelectForSession(IReadOnlySet<string> excluded)
    {
        var snapshot = registry.Current;
        IReadOnlyList<RegisteredNode> nodes = snapshot.Nodes.All(node => node.Server is null) ? snapshot.Nodes : [.. snapshot.Nodes.Where(node => node.Server is null)];
        return Choose(snapshot, nodes, excluded);
    }

    private RegisteredNode? Choose(RegistrySnapshot snapshot, IReadOnlyList<RegisteredNode> nodes, IReadOnlySet<string> excluded)
    {
        ArgumentNullException.ThrowIfNull(excluded);

        // Between registry reads a heartbeat may run out: such a node is no candidate. While the store cannot be
        // read, though, no heartbeat can arrive, and an old one says nothing about the node: failover and the
        // breakers find the nodes that really died.
        var now = time.GetUtcNow();
        var expiryCounts = !snapshot.IsStale;

        // The common case, every node a candidate, needs no filtered copy. Loops, not LINQ: a lambda over these
        // locals would be a closure and a delegate made for every call.
        var first = 0;
        while (first < nodes.Count && IsCandidate(nodes[first], now, expiryCounts, excluded))
        {
            first++;
        }

        IReadOnlyList<RegisteredNode> candidates = nodes;
        if (first < nodes.Count)
        {
            var some = new List<RegisteredNode>(nodes.Count - 1);
            for (var i = 0; i < nodes.Count; i++)
            {
                if (i < first || (i > first && IsCandidate(nodes[i], now, expiryCounts, excluded)))
                {
                    some.Add(nodes[i]);
                }
            }

            candidates = some;
        }

        return LeastLoadedSelector.Select(candidates, _inFlight, Random.Shared);
    }

    private bool IsCandidate(RegisteredNode node, DateTimeOffset now, bool expiryCounts, IReadOnlySet<string> excluded) =>
        node.IsReady && (!expiryCounts || node.IsLiveAt(now)) && !excluded.Contains(node.Id) && breakers.Admits(node);
}

/// <summary>The router's answer: a node, or why there is none. A value, since every routed call gets one.</summary>
public readonly record struct RouteDecision
{
    /// <summary>No live node offers the tool.</summary>
    public static RouteDecision Unknown => default;

    /// <summary>The chosen node, when there is one.</summary>
    public RegisteredNode? Node { get; private init; }

    /// <summary>How many nodes offer the tool (0 when the tool is unknown).</summary>
    public int OfferingNodes { get; private init; }

    /// <summary>A node was chosen.</summary>
    public static RouteDecision To(RegisteredNode node) => new() { Node = node, OfferingNodes = 1 };

    /// <summary>Nodes offer the tool, but none of them can take the call now.</summary>
    public static RouteDecision Unavailable(int offeringNodes) => new() { OfferingNodes = offeringNodes };
}
