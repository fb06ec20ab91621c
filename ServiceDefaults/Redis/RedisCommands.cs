namespace McpAspire.ServiceDefaults.Redis;

/// <summary>Typed helpers for the commands the project uses.</summary>
public static class RedisCommands
{
    /// <summary><c>PING</c>; returns the round trip's reply text (<c>PONG</c>).</summary>
    public static async Task<string> PingAsync(this RedisClient client, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var reply = await client.ExecuteAsync(["PING"], cancellationToken);
        return reply.AsString() ?? string.Empty;
    }

    /// <summary><c>GET key</c>; <see langword="null"/> when the key does not exist.</summary>
    public static async Task<string?> GetAsync(this RedisClient client, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var reply = await client.ExecuteAsync(["GET", key], cancellationToken);
        return reply.AsString();
    }

    /// <summary><c>SET key value [PX ms]</c>.</summary>
    public static async Task SetAsync(this RedisClient client, string key, RedisArgument value, TimeSpan? expiry = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        if (expiry is { } ttl)
        {
            var milliseconds = (long)Math.Ceiling(ttl.TotalMilliseconds);
            ArgumentOutOfRangeException.ThrowIfLessThan(milliseconds, 1, nameof(expiry));
            await client.ExecuteAsync(["SET", key, value, "PX", milliseconds], cancellationToken);
        }
        else
        {
            await client.ExecuteAsync(["SET", key, value], cancellationToken);
        }
    }

    /// <summary><c>MGET key...</c>; a missing key gives <see langword="null"/> in its place.</summary>
    public static async Task<IReadOnlyList<string?>> GetManyAsync(this RedisClient client, IReadOnlyCollection<string> keys, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(keys);
        if (keys.Count == 0)
        {
            return [];
        }

        var reply = await client.ExecuteAsync(Command("MGET", keys), cancellationToken);
        return reply.Items?.Select(item => item.AsString()).ToArray() ?? [];
    }

    /// <summary><c>DEL key</c>; returns whether the key existed.</summary>
    public static async Task<bool> DeleteAsync(this RedisClient client, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var reply = await client.ExecuteAsync(["DEL", key], cancellationToken);
        return reply.Number == 1;
    }

    /// <summary><c>SADD key member</c>; returns whether the member was new.</summary>
    public static async Task<bool> SetAddAsync(this RedisClient client, string key, string member, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var reply = await client.ExecuteAsync(["SADD", key, member], cancellationToken);
        return reply.Number == 1;
    }

    /// <summary><c>SREM key member...</c>; returns how many members were removed.</summary>
    public static async Task<long> SetRemoveAsync(this RedisClient client, string key, IReadOnlyCollection<string> members, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0)
        {
            return 0;
        }

        var reply = await client.ExecuteAsync(Command("SREM", [key, .. members]), cancellationToken);
        return reply.Number;
    }

    /// <summary><c>SMEMBERS key</c>.</summary>
    public static async Task<IReadOnlyList<string>> SetMembersAsync(this RedisClient client, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var reply = await client.ExecuteAsync(["SMEMBERS", key], cancellationToken);
        return reply.Items?.Select(item => item.AsString() ?? string.Empty).ToArray() ?? [];
    }

    private static RedisArgument[] Command(string name, IReadOnlyCollection<string> arguments)
    {
        var command = new RedisArgument[arguments.Count + 1];
        command[0] = name;
        var i = 1;
        foreach (var argument in arguments)
        {
            command[i++] = argument;
        }

        return command;
    }

    /// <summary><c>PUBLISH channel message</c>; returns how many subscribers received it.</summary>
    public static async Task<long> PublishAsync(this RedisClient client, string channel, RedisArgument message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var reply = await client.ExecuteAsync(["PUBLISH", channel, message], cancellationToken);
        return reply.Number;
    }

    /// <summary><c>SET key value NX PX ms</c>: sets the key only if it does not exist; returns whether it did.</summary>
    public static async Task<bool> SetIfAbsentAsync(this RedisClient client, string key, RedisArgument value, TimeSpan expiry, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var milliseconds = (long)Math.Ceiling(expiry.TotalMilliseconds);
        ArgumentOutOfRangeException.ThrowIfLessThan(milliseconds, 1, nameof(expiry));
        var reply = await client.ExecuteAsync(["SET", key, value, "NX", "PX", milliseconds], cancellationToken);
        return !reply.IsNull;
    }

    /// <summary><c>RPUSH key value</c>; returns the list's new length.</summary>
    public static async Task<long> ListPushAsync(this RedisClient client, string key, RedisArgument value, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var reply = await client.ExecuteAsync(["RPUSH", key, value], cancellationToken);
        return reply.Number;
    }

    /// <summary><c>LRANGE key 0 -1</c>: the whole list.</summary>
    public static async Task<IReadOnlyList<string>> ListAllAsync(this RedisClient client, string key, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        var reply = await client.ExecuteAsync(["LRANGE", key, 0, -1], cancellationToken);
        return reply.Items?.Select(item => item.AsString() ?? string.Empty).ToArray() ?? [];
    }

    /// <summary>
    /// <c>EVAL script numkeys key... arg...</c>: runs a Lua script atomically on the server and returns its reply.
    /// Redis runs scripts by default; Garnet only when started with <c>--lua</c>.
    /// </summary>
    public static Task<RespValue> EvalAsync(this RedisClient client, string script, IReadOnlyList<string> keys, IReadOnlyList<RedisArgument> arguments, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(keys);
        ArgumentNullException.ThrowIfNull(arguments);
        RedisArgument[] command = ["EVAL", script, keys.Count, .. keys.Select(key => (RedisArgument)key), .. arguments];
        return client.ExecuteAsync(command, cancellationToken);
    }
}
