using System.Net;
using McpAspire.ServiceDefaults.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;
using StackExchange.Redis;

namespace McpAspire.Cluster;

/// <summary>
/// The store that holds the registry: <c>ConnectionStrings:redis</c>, reached through Aspire's
/// StackExchange.Redis integration (<c>AddRedisClient</c>), which registers the
/// <see cref="IConnectionMultiplexer"/> and traces its commands.
/// </summary>
public static class ClusterStore
{
    /// <summary>The connection name, as the AppHost's <c>WithReference(store, "redis")</c> injects it.</summary>
    public const string ConnectionName = "redis";

    /// <summary>The name of the store's health check in <c>/health</c>.</summary>
    public const string HealthCheckName = "redis";

    /// <summary>
    /// When <c>ConnectionStrings:redis</c> is set, registers the <see cref="IConnectionMultiplexer"/> and a
    /// <c>redis</c> readiness check that reports <see cref="HealthStatus.Degraded"/> when the store is down (the
    /// services keep serving calls without it), and returns <see langword="true"/>. When it is not set, registers
    /// nothing and returns <see langword="false"/>, so a service can run without a store.
    /// </summary>
    /// <exception cref="InvalidConfigurationException">The connection string is set but malformed; the message names the key.</exception>
    public static bool AddClusterStore(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = builder.Configuration.GetConnectionString(ConnectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return false;
        }

        // The integration parses the string only when the multiplexer is first resolved; a bad one should stop the
        // service at start-up, with the key in the message.
        Validate(connectionString);

        // The integration's own check reports Unhealthy, which would take a service out of rotation while the store
        // is down although it serves calls without it: ours reports Degraded. Its tracing stays on: the service
        // defaults' sampler keeps commands made outside a trace from starting traces of their own.
        builder.AddRedisClient(ConnectionName, settings => settings.DisableHealthChecks = true, options => Configure(options));
        builder.Services.AddHealthChecks()
            .AddRedis(services => services.GetRequiredService<IConnectionMultiplexer>(), HealthCheckName, HealthStatus.Degraded, ["ready"], TimeSpan.FromSeconds(2));
        return true;
    }

    private static void Validate(string connectionString)
    {
        var key = $"ConnectionStrings:{ConnectionName}";
        var trimmed = connectionString.TrimStart();
        if (trimmed.StartsWith("redis://", StringComparison.OrdinalIgnoreCase) || trimmed.StartsWith("rediss://", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidConfigurationException(
                $"{key} is a redis:// URI, which StackExchange.Redis does not read. Write it as host:port,password=...,user=...,ssl=true,defaultDatabase=0.");
        }

        ConfigurationOptions options;
        try
        {
            options = ConfigurationOptions.Parse(connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidConfigurationException($"{key} is invalid: {ex.Message}", ex);
        }

        if (options.EndPoints.Count == 0)
        {
            throw new InvalidConfigurationException($"{key} is invalid: it names no server. Write it as host:port,password=....");
        }
    }

    /// <summary>
    /// The client settings the services rely on, applied over the connection string's: start without the store
    /// rather than fail; while disconnected, fail each command at once instead of queueing it (a heartbeat or a
    /// registry read that waits is worth less than the next one); and retry the connection every second, so the
    /// nodes are back within seconds of the store.
    /// </summary>
    public static ConfigurationOptions Configure(ConfigurationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ReconnectRetryPolicy = new LinearRetry(1000);
        return options;
    }

    /// <summary>The store's endpoints as <c>host:port</c>, for logs (never the password).</summary>
    public static string Describe(IConnectionMultiplexer store)
    {
        ArgumentNullException.ThrowIfNull(store);
        return string.Join(", ", store.GetEndPoints().Select(endpoint => endpoint switch
        {
            DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
            _ => endpoint.ToString(),
        }));
    }

    /// <summary>
    /// Whether <paramref name="error"/> says that the store failed: unreachable, timed out, refused a command, or lost
    /// its connection with the command in flight. StackExchange.Redis reports that last case as a cancelled task
    /// (although <paramref name="cancellationToken"/>, the caller's, was not cancelled), or, when the connection closed
    /// while the command was being written, lets the pipe's own error through: an <see cref="InvalidOperationException"/>
    /// from <c>System.IO.Pipelines</c> ("Writing is not allowed after writer was completed").
    /// </summary>
    public static bool IsStoreFailure(Exception error, CancellationToken cancellationToken = default) =>
        error is RedisException or RedisTimeoutException or InvalidOperationException { Source: "System.IO.Pipelines" }
        || (error is OperationCanceledException && !cancellationToken.IsCancellationRequested);
}
