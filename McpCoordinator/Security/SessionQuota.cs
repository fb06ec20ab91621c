using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace McpAspire.McpCoordinator.Security;

/// <summary>
/// Counts each caller's stateful sessions across replicas, in the store: a sorted set per caller of session slots,
/// each scored by when its id expires. <c>initialize</c> takes a slot (refused at <see cref="RateLimitOptions.MaxSessions"/>),
/// and DELETE, or the id's expiry, gives it back. While the store cannot be reached, sessions open uncounted rather
/// than not at all.
/// </summary>
public sealed partial class SessionQuota(
    IConnectionMultiplexer redis,
    CallerRateLimits limits,
    IOptions<RateLimitOptions> rateLimits,
    IOptions<CoordinatorOptions> options,
    TimeProvider time,
    ILogger<SessionQuota> logger)
{
    // KEYS: the caller's set. ARGV: now (ms), the cap, this slot's expiry (ms), the slot.
    private const string TakeScript = """
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
        if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
        redis.call('ZADD', KEYS[1], ARGV[3], ARGV[4])
        redis.call('PEXPIREAT', KEYS[1], ARGV[3])
        return 1
        """;

    /// <summary>
    /// Takes a slot for a new session of <paramref name="caller"/>: the slot to seal into the session, an empty string
    /// when sessions are not counted, or <see langword="null"/> when the caller holds <see cref="RateLimitOptions.MaxSessions"/> already.
    /// </summary>
    public async Task<string?> TakeAsync(Caller caller)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (!limits.IsEnabled)
        {
            return string.Empty;
        }

        var slot = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
        var now = time.GetUtcNow();
        try
        {
            var taken = await redis.GetDatabase().ScriptEvaluateAsync(
                TakeScript,
                [KeyOf(caller)],
                [now.ToUnixTimeMilliseconds(), rateLimits.Value.MaxSessions, (now + options.Value.SessionLifetime).ToUnixTimeMilliseconds(), slot]);
            return (int)taken == 1 ? slot : null;
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            LogUncounted(caller.DisplayName, ex.Message);
            return string.Empty;
        }
    }

    /// <summary>Gives back a slot taken by <see cref="TakeAsync"/>, when its session ended or never opened.</summary>
    public async Task ReturnAsync(Caller caller, string? slot)
    {
        ArgumentNullException.ThrowIfNull(caller);
        if (string.IsNullOrEmpty(slot))
        {
            return;
        }

        try
        {
            await redis.GetDatabase().SortedSetRemoveAsync(KeyOf(caller), slot);
        }
        catch (Exception ex) when (ex is RedisException or TimeoutException)
        {
            // The slot expires with its session id.
            LogUncounted(caller.DisplayName, ex.Message);
        }
    }

    private static RedisKey KeyOf(Caller caller) =>
        $"mcpaspire:sessions:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(caller.Key)).AsSpan(0, 16))}";

    [LoggerMessage(EventId = 3120, Level = LogLevel.Warning, Message = "The sessions of {Caller} are not counted: the store cannot be reached ({Reason})")]
    private partial void LogUncounted(string caller, string reason);
}
