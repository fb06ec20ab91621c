using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace McpAspire.ServiceDefaults.Redis;

/// <summary>
/// Pings Redis. A failure reports <see cref="HealthStatus.Degraded"/> by default: the services keep
/// serving calls without the store, so losing it must not take them out of rotation.
/// </summary>
internal sealed class RedisHealthCheck(RedisClient client) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(TimeSpan.FromSeconds(2));
            await client.PingAsync(timeout.Token);
            return HealthCheckResult.Healthy($"Redis at {client.Options.EndpointDisplay} answers PING.");
        }
        catch (Exception ex) when (ex is RedisException or OperationCanceledException)
        {
            return new HealthCheckResult(context.Registration.FailureStatus, $"Redis at {client.Options.EndpointDisplay} does not answer: {ex.Message}");
        }
    }
}
