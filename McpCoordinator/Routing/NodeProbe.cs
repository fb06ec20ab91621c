using McpAspire.McpCoordinator.Federation;
using McpAspire.McpCoordinator.Registry;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// The circuit breakers' probe: a node of the cluster gets a <c>ping</c> POST with the cluster credential
/// (<see cref="NodeForwarder.ProbeAsync"/>); an external server a <c>ping</c> through this replica's session with it,
/// which carries nothing of the cluster's.
/// </summary>
public sealed class NodeProbe(NodeForwarder nodes, UpstreamServers servers) : INodeProbe
{
    /// <inheritdoc/>
    public async Task<ForwardOutcome> ProbeAsync(RegisteredNode node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        if (node.Server is not { } server)
        {
            return await nodes.ProbeAsync(node, cancellationToken);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(NodeBreakers.ProbeTimeout);
        var outcome = await servers.PingAsync(server, timeout.Token);
        return timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested
            ? ForwardOutcome.FailedAfterSend($"the probe had no answer within {NodeBreakers.ProbeTimeout.TotalSeconds:0} s")
            : outcome;
    }
}
