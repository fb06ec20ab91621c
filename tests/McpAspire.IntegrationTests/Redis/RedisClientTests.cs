using System.Diagnostics;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.ServiceDefaults.Redis;
using Microsoft.Extensions.Logging.Abstractions;

namespace McpAspire.IntegrationTests.Redis;

/// <summary>The RESP client against real servers: Garnet and redis-server.</summary>
public sealed class RedisClientTests(StoreServers stores)
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task Strings_sets_and_expiry_round_trip(string store)
    {
        await using var redis = await Eventually.ConnectAsync(stores.ConnectionString(store));
        var key = $"it:{Guid.NewGuid():N}";

        await redis.SetAsync(key, "välue ✓", TimeSpan.FromMinutes(1), Cancel);
        var value = await redis.GetAsync(key, Cancel);
        var ttl = (await redis.ExecuteAsync(["PTTL", key], Cancel)).Number;
        var many = await redis.GetManyAsync([key, key + ":missing"], Cancel);
        var added = await redis.SetAddAsync(key + ":set", "a", Cancel);
        var addedAgain = await redis.SetAddAsync(key + ":set", "a", Cancel);
        await redis.SetAddAsync(key + ":set", "b", Cancel);
        var removed = await redis.SetRemoveAsync(key + ":set", ["a", "zzz"], Cancel);
        var members = await redis.SetMembersAsync(key + ":set", Cancel);
        var deleted = await redis.DeleteAsync(key, Cancel);

        Assert.Equal("välue ✓", value);
        Assert.InRange(ttl, 1, 60_000);
        Assert.Equal(["välue ✓", null], many);
        Assert.True(added);
        Assert.False(addedAgain);
        Assert.Equal(1, removed);
        Assert.Equal(["b"], members);
        Assert.True(deleted);
        Assert.Null(await redis.GetAsync(key, Cancel));
        Assert.Equal("PONG", await redis.PingAsync(Cancel));
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task Concurrent_callers_share_one_connection_and_each_gets_its_own_reply(string store)
    {
        await using var redis = await Eventually.ConnectAsync(stores.ConnectionString(store));
        var counter = $"it:counter:{Guid.NewGuid():N}";
        var prefix = $"it:k:{Guid.NewGuid():N}:";

        var increments = Enumerable.Range(0, 2000).Select(_ => redis.ExecuteAsync(["INCR", counter], Cancel)).ToArray();
        var writes = Enumerable.Range(0, 500).Select(i => redis.SetAsync(prefix + i, $"v{i}", TimeSpan.FromMinutes(1), Cancel)).ToArray();
        await Task.WhenAll(writes);
        var reads = Enumerable.Range(0, 500).Select(i => redis.GetAsync(prefix + i, Cancel)).ToArray();

        var counts = (await Task.WhenAll(increments)).Select(reply => reply.Number).Order();
        Assert.Equal(Enumerable.Range(1, 2000).Select(i => (long)i), counts);
        Assert.Equal(Enumerable.Range(0, 500).Select(i => $"v{i}"), await Task.WhenAll(reads));
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_server_error_fails_only_its_own_command(string store)
    {
        await using var redis = await Eventually.ConnectAsync(stores.ConnectionString(store));
        var key = $"it:str:{Guid.NewGuid():N}";
        await redis.SetAsync(key, "text", TimeSpan.FromMinutes(1), Cancel);

        var error = await Assert.ThrowsAsync<RedisServerException>(() => redis.ExecuteAsync(["SADD", key, "member"], Cancel));

        Assert.Contains("WRONGTYPE", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Equal("text", await redis.GetAsync(key, Cancel));
    }

    [Fact]
    public async Task Commands_fail_at_once_with_a_clear_error_while_no_server_is_reachable()
    {
        var port = PortAllocator.GetFreePort();
        await using var redis = RedisClient.Create(RedisConnectionOptions.Parse($"127.0.0.1:{port}"), NullLogger<RedisClient>.Instance);
        var clock = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<RedisConnectionException>(() => redis.PingAsync(Cancel));

        Assert.Contains($"127.0.0.1:{port}", error.Message, StringComparison.Ordinal);
        Assert.False(redis.IsConnected);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "A command against an unreachable server must fail fast, not wait for a connection.");
    }

    [Fact]
    public async Task A_server_that_stops_answering_times_out_and_the_client_replaces_the_connection()
    {
        await using var server = await StoreServer.StartGarnetAsync();
        await using var redis = await Eventually.ConnectAsync($"{server.ConnectionString},syncTimeout=300,connectTimeout=300");
        Assert.Equal("PONG", await redis.PingAsync(Cancel));

        // SIGSTOP freezes the server with its socket open, as a VM pause or a network partition would.
        await SignalAsync(server.Process.ProcessId, "STOP");
        try
        {
            var error = await Assert.ThrowsAsync<RedisTimeoutException>(() => redis.ExecuteAsync(["GET", "anything"], Cancel));
            Assert.Contains("did not answer GET within 300 ms", error.Message, StringComparison.Ordinal);

            // Every later reply would queue behind the missing one, so the connection is dropped, not reused.
            Assert.False(redis.IsConnected);
            await Assert.ThrowsAsync<RedisConnectionException>(() => redis.PingAsync(Cancel));
        }
        finally
        {
            await SignalAsync(server.Process.ProcessId, "CONT");
        }

        await Eventually.UntilAsync(() => Task.FromResult(redis.IsConnected));
        Assert.Equal("PONG", await redis.PingAsync(Cancel));
    }

    private static async Task SignalAsync(int pid, string signal)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(Cancel);
        Assert.Equal(0, kill.ExitCode);
    }

    [Fact]
    public async Task The_client_reconnects_by_itself_when_the_server_comes_back()
    {
        var server = await StoreServer.StartGarnetAsync();
        var port = server.Port;
        await using var redis = await Eventually.ConnectAsync(server.ConnectionString);
        Assert.Equal("PONG", await redis.PingAsync(Cancel));

        await server.DisposeAsync();
        await Assert.ThrowsAsync<RedisConnectionException>(() => redis.PingAsync(Cancel));

        await using var restarted = await StoreServer.StartGarnetAsync(port);
        await Eventually.UntilAsync(() => Task.FromResult(redis.IsConnected));

        Assert.Equal("PONG", await redis.PingAsync(Cancel));
    }
}
