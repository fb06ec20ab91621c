using System.Collections.Concurrent;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// This coordinator's own calls per node: how many are in flight now (added to the node's reported
/// load, which is up to one heartbeat old) and how many it has routed in total.
/// </summary>
public sealed class LocalCallTracker
{
    private readonly ConcurrentDictionary<string, Counters> _nodes = new(StringComparer.Ordinal);

    /// <summary>Calls this coordinator has in flight to the node.</summary>
    public int InFlight(string nodeId) => _nodes.TryGetValue(nodeId, out var counters) ? Volatile.Read(ref counters.InFlight) : 0;

    /// <summary>Calls this coordinator has routed to the node since it started.</summary>
    public long Routed(string nodeId) => _nodes.TryGetValue(nodeId, out var counters) ? Interlocked.Read(ref counters.Routed) : 0;

    /// <summary>
    /// Forgets the counters of nodes not in <paramref name="liveNodeIds"/>. Calls still in flight to such a node
    /// end on counters nobody reads; a node that comes back starts from zero.
    /// </summary>
    public void Retain(IReadOnlySet<string> liveNodeIds) => _nodes.RetainKeys(liveNodeIds);

    /// <summary>Counts a call to the node; dispose the result when the call ends.</summary>
    public CallScope Start(string nodeId)
    {
        var counters = _nodes.GetOrAdd(nodeId, static _ => new Counters());
        Interlocked.Increment(ref counters.InFlight);
        Interlocked.Increment(ref counters.Routed);
        return new CallScope(counters);
    }

    /// <summary>One routed call; disposing it ends the call's share of the node's load.</summary>
    public sealed class CallScope : IDisposable
    {
        private Counters? _counters;

        internal CallScope(Counters counters) => _counters = counters;

        /// <inheritdoc/>
        public void Dispose()
        {
            var counters = Interlocked.Exchange(ref _counters, null);
            if (counters is not null)
            {
                Interlocked.Decrement(ref counters.InFlight);
            }
        }
    }

    internal sealed class Counters
    {
#pragma warning disable CA1051 // Fields, so Interlocked can update them.
        public int InFlight;
        public long Routed;
#pragma warning restore CA1051
    }
}
