using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode.Packs.Transactions;

namespace McpAspire.IntegrationTests.Redis;

/// <summary>The Redis idempotency store on both servers: one run per key, shared results, nothing kept for a failed run.</summary>
public sealed class RedisIdempotencyStoreTests(StoreServers stores)
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task Duplicates_wait_for_the_first_run_and_share_its_result(string store)
    {
        await using var redis = await Eventually.ConnectAsync(stores.ConnectionString(store));
        var idempotency = new RedisIdempotencyStore(redis, TimeProvider.System);
        var key = Guid.NewGuid().ToString("N");
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        Task<string> Run(CancellationToken _)
        {
            Interlocked.Increment(ref runs);
            return release.Task;
        }

        var first = idempotency.RunOnceAsync(key, "f", Run, Day, Cancel);
        await Eventually.UntilAsync(() => Task.FromResult(Volatile.Read(ref runs) == 1));
        var duplicates = Enumerable.Range(0, 4).Select(_ => idempotency.RunOnceAsync(key, "f", Run, Day, Cancel)).ToArray();
        await Task.Delay(200, Cancel);
        Assert.All(duplicates, duplicate => Assert.False(duplicate.IsCompleted));
        release.SetResult("receipt");

        Assert.False((await first).Replayed);
        Assert.All(await Task.WhenAll(duplicates), result => Assert.Equal(new IdempotentResult("receipt", Replayed: true), result));
        Assert.Equal(1, runs);
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_failed_run_releases_the_key_and_a_conflicting_reuse_is_refused(string store)
    {
        await using var redis = await Eventually.ConnectAsync(stores.ConnectionString(store));
        var idempotency = new RedisIdempotencyStore(redis, TimeProvider.System);
        var key = Guid.NewGuid().ToString("N");

        await Assert.ThrowsAsync<InvalidOperationException>(() => idempotency.RunOnceAsync(key, "f", _ => throw new InvalidOperationException("boom"), Day, Cancel));
        var retry = await idempotency.RunOnceAsync(key, "f", _ => Task.FromResult("second"), Day, Cancel);

        Assert.Equal(new IdempotentResult("second", Replayed: false), retry);
        await Assert.ThrowsAsync<IdempotencyConflictException>(() => idempotency.RunOnceAsync(key, "other", _ => Task.FromResult("x"), Day, Cancel));
    }
}
