using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpAspire.McpNode.Services;

/// <summary>Unhealthy while the node drains, so <c>/health</c> answers 503 and load balancers stop sending it work.</summary>
public sealed class DrainingHealthCheck(NodeLoad load) : IHealthCheck
{
    /// <inheritdoc/>
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(load.IsDraining
            ? HealthCheckResult.Unhealthy($"Draining: finishing {load.Load} call(s), taking no new ones.")
            : HealthCheckResult.Healthy($"{load.InFlight} running, {load.Queued} waiting."));
}
