using System.Collections.Concurrent;
using System.Threading.Channels;

namespace McpAspire.McpCoordinator.Registry;

/// <summary>A change the registry saw between two reads.</summary>
/// <param name="Type">
/// <c>join</c>, <c>leave</c>, <c>draining</c>, <c>ready</c> (a draining node ready again), <c>stale</c>, <c>recovered</c>,
/// <c>rejected</c> (a record the registry will not follow) or <c>tool-changed</c> (the definition served for a tool changed).
/// </param>
/// <param name="NodeId">The node it is about; <see langword="null"/> for <c>stale</c> and <c>recovered</c>.</param>
/// <param name="At">When the registry saw it.</param>
/// <param name="Detail">Why the registry is stale, why a record was rejected, or what changed in a tool.</param>
public sealed record RegistryChange(string Type, string? NodeId, DateTimeOffset At, string? Detail = null);

/// <summary>
/// Hands each <see cref="RegistryChange"/> to every current listener. A listener that falls more than
/// <see cref="Capacity"/> changes behind is dropped, and its reader completes, so one stalled client cannot
/// hold the coordinator's memory; it reconnects and starts from a fresh view.
/// </summary>
public sealed class RegistryChanges
{
    /// <summary>How many changes a listener may have unread.</summary>
    public const int Capacity = 256;

    private readonly ConcurrentDictionary<Channel<RegistryChange>, bool> _listeners = new();

    /// <summary>Starts listening; dispose the subscription to stop.</summary>
    public Subscription Listen()
    {
        var channel = Channel.CreateBounded<RegistryChange>(new BoundedChannelOptions(Capacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
        _listeners[channel] = true;
        return new Subscription(this, channel);
    }

    /// <summary>Sends the changes to every listener.</summary>
    public void Publish(IEnumerable<RegistryChange> changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        foreach (var change in changes)
        {
            foreach (var listener in _listeners.Keys)
            {
                if (!listener.Writer.TryWrite(change))
                {
                    Drop(listener);
                }
            }
        }
    }

    private void Drop(Channel<RegistryChange> listener)
    {
        _listeners.TryRemove(listener, out _);
        listener.Writer.TryComplete();
    }

    /// <summary>One listener's changes, in order.</summary>
    public sealed class Subscription(RegistryChanges owner, Channel<RegistryChange> channel) : IDisposable
    {
        /// <summary>The changes; it completes when the listener fell too far behind.</summary>
        public ChannelReader<RegistryChange> Reader => channel.Reader;

        /// <inheritdoc/>
        public void Dispose() => owner.Drop(channel);
    }
}
