using System.Collections.Concurrent;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>Helpers for state the coordinator keeps per node id.</summary>
internal static class PerNodeState
{
    /// <summary>Removes the entries of nodes not in <paramref name="liveNodeIds"/>.</summary>
    public static void RetainKeys<TValue>(this ConcurrentDictionary<string, TValue> byNode, IReadOnlySet<string> liveNodeIds)
    {
        ArgumentNullException.ThrowIfNull(liveNodeIds);
        foreach (var nodeId in byNode.Keys.Where(nodeId => !liveNodeIds.Contains(nodeId)))
        {
            byNode.TryRemove(nodeId, out _);
        }
    }
}
