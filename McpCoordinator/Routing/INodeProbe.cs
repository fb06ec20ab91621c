using McpAspire.McpCoordinator.Registry;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>Asks a node whether it is up, for its circuit breaker's trial (see <see cref="NodeBreakers"/>).</summary>
public interface INodeProbe
{
    /// <summary>
    /// <see cref="ForwardOutcome.Forwarded"/> when the node answered; a failure (<see cref="ForwardOutcome.IsNodeFailure"/>)
    /// when it could not be reached, or did not answer within <see cref="NodeBreakers.ProbeTimeout"/>. Never throws.
    /// </summary>
    Task<ForwardOutcome> ProbeAsync(RegisteredNode node, CancellationToken cancellationToken);
}
