using McpAspire.ServiceDefaults.Hosting;
using McpAspire.ServiceDefaults.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Logging;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers the project's Redis client, the way Aspire's Redis integration does.</summary>
public static class RedisClientExtensions
{
    /// <summary>
    /// When <c>ConnectionStrings:{connectionName}</c> is set, registers a <see cref="RedisClient"/>
    /// singleton, a <see cref="RedisSubscriber"/> singleton (connected on first use) and a <c>redis</c> health check, and returns <see langword="true"/>. When it is not
    /// set, registers nothing and returns <see langword="false"/>, so the service can run without a store.
    /// </summary>
    /// <exception cref="InvalidConfigurationException">The connection string is set but malformed; the message names the key.</exception>
    public static bool AddRedisClient(this IHostApplicationBuilder builder, string connectionName = "redis")
    {
        ArgumentNullException.ThrowIfNull(builder);
        var connectionString = builder.Configuration.GetConnectionString(connectionName);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return false;
        }

        RedisConnectionOptions options;
        try
        {
            options = RedisConnectionOptions.Parse(connectionString);
        }
        catch (FormatException ex)
        {
            throw new InvalidConfigurationException($"ConnectionStrings:{connectionName} is invalid: {ex.Message}", ex);
        }

        builder.Services.AddSingleton(services => RedisClient.Create(
            options, services.GetRequiredService<ILogger<RedisClient>>(), services.GetService<TimeProvider>()));
        // Pub/sub needs a connection of its own; it is opened only when something resolves the subscriber.
        builder.Services.AddSingleton(services => RedisSubscriber.Create(
            options, services.GetRequiredService<ILogger<RedisSubscriber>>(), services.GetService<TimeProvider>()));
        builder.Services.AddHealthChecks()
            .AddCheck<RedisHealthCheck>("redis", failureStatus: HealthStatus.Degraded, tags: ["ready"]);
        return true;
    }
}
