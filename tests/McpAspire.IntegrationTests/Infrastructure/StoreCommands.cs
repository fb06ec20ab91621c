using StackExchange.Redis;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>The registry's commands in the short form the tests read best, on a test's own connection to the store.</summary>
public static class StoreCommands
{
    public static async Task<string?> GetAsync(this IConnectionMultiplexer redis, string key, CancellationToken cancellationToken = default) =>
        (string?)await redis.GetDatabase().StringGetAsync(key).WaitAsync(cancellationToken);

    public static Task SetAsync(this IConnectionMultiplexer redis, string key, RedisValue value, TimeSpan? expiry = null, CancellationToken cancellationToken = default) =>
        redis.GetDatabase().StringSetAsync(key, value, expiry, When.Always).WaitAsync(cancellationToken);

    public static Task<bool> SetAddAsync(this IConnectionMultiplexer redis, string key, string member, CancellationToken cancellationToken = default) =>
        redis.GetDatabase().SetAddAsync(key, member).WaitAsync(cancellationToken);

    public static Task<long> SetRemoveAsync(this IConnectionMultiplexer redis, string key, IReadOnlyCollection<string> members, CancellationToken cancellationToken = default) =>
        redis.GetDatabase().SetRemoveAsync(key, [.. members.Select(member => (RedisValue)member)]).WaitAsync(cancellationToken);

    public static async Task<IReadOnlyList<string>> SetMembersAsync(this IConnectionMultiplexer redis, string key, CancellationToken cancellationToken = default) =>
        [.. (await redis.GetDatabase().SetMembersAsync(key).WaitAsync(cancellationToken)).Select(member => member.ToString())];

    public static Task<bool> DeleteAsync(this IConnectionMultiplexer redis, string key, CancellationToken cancellationToken = default) =>
        redis.GetDatabase().KeyDeleteAsync(key).WaitAsync(cancellationToken);

    public static async Task<IReadOnlyList<string>> ListAllAsync(this IConnectionMultiplexer redis, string key, CancellationToken cancellationToken = default) =>
        [.. (await redis.GetDatabase().ListRangeAsync(key).WaitAsync(cancellationToken)).Select(entry => entry.ToString())];

    public static Task<long> PublishAsync(this IConnectionMultiplexer redis, string channel, RedisValue message, CancellationToken cancellationToken = default) =>
        redis.GetSubscriber().PublishAsync(RedisChannel.Literal(channel), message).WaitAsync(cancellationToken);

    public static async Task<long> TimeToLiveMillisecondsAsync(this IConnectionMultiplexer redis, string key, CancellationToken cancellationToken = default) =>
        (long)await redis.GetDatabase().ExecuteAsync("PTTL", key).WaitAsync(cancellationToken);
}
