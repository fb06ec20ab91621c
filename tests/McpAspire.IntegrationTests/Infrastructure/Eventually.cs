using McpAspire.Cluster;
using StackExchange.Redis;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>Helpers for state that lives in another process (a store, a registry) and changes on its own schedule.</summary>
public static class Eventually
{
    /// <summary>Polls until <paramref name="probe"/> yields a value, failing after 15 s.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe)
        where T : class
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            if (await probe() is { } value)
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, "The condition did not hold within 15 s.");
            await Task.Delay(50, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Polls until <paramref name="condition"/> holds, failing after 15 s.</summary>
    public static Task UntilAsync(Func<Task<bool>> condition) =>
        WaitForAsync(async () => await condition() ? string.Empty : null);

    /// <summary>A connection to the store at <paramref name="connectionString"/>, set up as the services set theirs up, once it answers.</summary>
    public static async Task<ConnectionMultiplexer> ConnectAsync(string connectionString, Action<ConfigurationOptions>? configure = null)
    {
        var options = ClusterStore.Configure(ConfigurationOptions.Parse(connectionString));
        configure?.Invoke(options);
        var redis = await ConnectionMultiplexer.ConnectAsync(options);
        try
        {
            await UntilAsync(async () => await AnswersAsync(redis));
            return redis;
        }
        catch
        {
            await redis.DisposeAsync();
            throw;
        }
    }

    /// <summary>Whether the store answers a PING on both of <paramref name="redis"/>'s connections (commands and pub/sub) now.</summary>
    public static async Task<bool> AnswersAsync(IConnectionMultiplexer redis)
    {
        try
        {
            await redis.GetDatabase().PingAsync();
            await redis.GetSubscriber().PingAsync();
            return true;
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex))
        {
            return false;
        }
    }
}
