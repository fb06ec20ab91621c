using McpAspire.McpCoordinator.Registry;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// Drops the per-node state of nodes that have left the registry: their circuit breakers and call counters.
/// Nodes come and go with every deployment and scale-in, each under a new id, so without this a long-running
/// coordinator would keep state for every node it ever saw.
/// </summary>
public sealed class NodeStatePruner(NodeRegistry registry, RegistryChanges changes, NodeBreakers breakers, LocalCallTracker calls) : BackgroundService
{
    /// <inheritdoc/>
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                using var subscription = changes.Listen();

                // Nodes may have left before this listened, or while it was dropped for falling behind.
                Prune();
                while (await subscription.Reader.WaitToReadAsync(stoppingToken))
                {
                    var left = false;
                    while (subscription.Reader.TryRead(out var change))
                    {
                        left |= change.Type == "leave";
                    }

                    if (left)
                    {
                        Prune();
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping.
        }
    }

    private void Prune()
    {
        var live = registry.Current.Nodes.Select(node => node.Id).ToHashSet(StringComparer.Ordinal);
        breakers.Retain(live);
        calls.Retain(live);
    }
}
