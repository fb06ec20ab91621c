using McpAspire.ServiceDefaults.Redis;
using Microsoft.Extensions.Logging.Abstractions;

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

    /// <summary>A client connected to the store at <paramref name="connectionString"/>.</summary>
    public static async Task<RedisClient> ConnectAsync(string connectionString)
    {
        var client = RedisClient.Create(RedisConnectionOptions.Parse(connectionString), NullLogger<RedisClient>.Instance);
        await client.WaitForConnectionAsync(TestContext.Current.CancellationToken);
        return client;
    }
}
