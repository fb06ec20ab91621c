using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode.Packs.Transactions;
using StackExchange.Redis;

namespace McpAspire.IntegrationTests.Store;

/// <summary>
/// The Redis idempotency store on both servers: one run per key, shared results, nothing kept for a failed
/// run, and the ledger entry committed with the result or not at all.
/// </summary>
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
        var release = new TaskCompletionSource<IdempotentCommit>(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        Task<IdempotentCommit> Run(CancellationToken _)
        {
            Interlocked.Increment(ref runs);
            return release.Task;
        }

        var first = idempotency.RunOnceAsync(key, "f", Run, Day, Cancel);
        await Eventually.UntilAsync(() => Task.FromResult(Volatile.Read(ref runs) == 1));
        var duplicates = Enumerable.Range(0, 4).Select(_ => idempotency.RunOnceAsync(key, "f", Run, Day, Cancel)).ToArray();
        await Task.Delay(200, Cancel);
        Assert.All(duplicates, duplicate => Assert.False(duplicate.IsCompleted));
        release.SetResult(new IdempotentCommit("receipt", $"entry-{key}"));

        Assert.False((await first).Replayed);
        Assert.All(await Task.WhenAll(duplicates), result => Assert.Equal(new IdempotentResult("receipt", Replayed: true), result));
        Assert.Equal(1, runs);
        Assert.Equal(1, await LedgerEntriesAsync(redis, key));
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_failed_run_releases_the_key_and_a_conflicting_reuse_is_refused(string store)
    {
        await using var redis = await Eventually.ConnectAsync(stores.ConnectionString(store));
        var idempotency = new RedisIdempotencyStore(redis, TimeProvider.System);
        var key = Guid.NewGuid().ToString("N");

        await Assert.ThrowsAsync<InvalidOperationException>(() => idempotency.RunOnceAsync(key, "f", _ => throw new InvalidOperationException("boom"), Day, Cancel));
        var retry = await idempotency.RunOnceAsync(key, "f", Commit("second", key), Day, Cancel);

        Assert.Equal(new IdempotentResult("second", Replayed: false), retry);
        Assert.Equal(1, await LedgerEntriesAsync(redis, key));
        await Assert.ThrowsAsync<IdempotencyConflictException>(() => idempotency.RunOnceAsync(key, "other", Commit("x", key), Day, Cancel));
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_duplicate_waiting_on_a_run_that_fails_claims_the_key_and_runs_it_itself(string store)
    {
        await using var redis = await Eventually.ConnectAsync(stores.ConnectionString(store));
        var idempotency = new RedisIdempotencyStore(redis, TimeProvider.System);
        var key = Guid.NewGuid().ToString("N");
        var firstStarted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var firstMayFail = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var first = idempotency.RunOnceAsync(key, "f", async _ =>
        {
            firstStarted.SetResult();
            await firstMayFail.Task;
            throw new InvalidOperationException("boom");
        }, Day, Cancel);
        await firstStarted.Task.WaitAsync(Cancel);
        var duplicate = idempotency.RunOnceAsync(key, "f", Commit("duplicate", key), Day, Cancel);
        firstMayFail.SetResult();

        await Assert.ThrowsAsync<InvalidOperationException>(() => first);
        Assert.Equal(new IdempotentResult("duplicate", Replayed: false), await duplicate);
        Assert.Equal(1, await LedgerEntriesAsync(redis, key));
    }

    [Theory]
    [MemberData(nameof(StoreServers.Kinds), MemberType = typeof(StoreServers))]
    public async Task A_runner_whose_claim_was_taken_over_commits_nothing_and_returns_the_new_owners_result(string store)
    {
        await using var redis = await Eventually.ConnectAsync(stores.ConnectionString(store));
        var idempotency = new RedisIdempotencyStore(redis, TimeProvider.System);
        var key = Guid.NewGuid().ToString("N");
        var slowPrepared = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var slowMayCommit = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        var slow = idempotency.RunOnceAsync(key, "f", async _ =>
        {
            slowPrepared.SetResult();
            await slowMayCommit.Task;
            return new IdempotentCommit("slow", $"entry-{key}-slow");
        }, Day, Cancel);
        await slowPrepared.Task.WaitAsync(Cancel);
        // The slow runner's claim expires (as after RedisIdempotencyStore.ClaimTtl), and a retry takes the key over.
        await redis.DeleteAsync($"mcpaspire:idempotency:{key}", Cancel);
        var takeover = await idempotency.RunOnceAsync(key, "f", Commit("takeover", key), Day, Cancel);
        slowMayCommit.SetResult();

        Assert.Equal(new IdempotentResult("takeover", Replayed: false), takeover);
        Assert.Equal(new IdempotentResult("takeover", Replayed: true), await slow);
        var entries = (await redis.ListAllAsync(TransactionLedger.Key, Cancel)).Where(entry => entry.Contains(key, StringComparison.Ordinal)).ToArray();
        Assert.Equal([$"entry-{key}-takeover"], entries);
    }

    [Fact]
    public async Task A_store_without_lua_gets_an_error_that_says_so_and_keeps_nothing()
    {
        await using var server = await StoreServer.StartGarnetAsync(0, null, "--lua", "false");
        await using var redis = await Eventually.ConnectAsync(server.ConnectionString);
        var idempotency = new RedisIdempotencyStore(redis, TimeProvider.System);
        var key = Guid.NewGuid().ToString("N");

        var error = await Assert.ThrowsAsync<RedisServerException>(() => idempotency.RunOnceAsync(key, "f", Commit("never", key), Day, Cancel));

        Assert.Contains("--lua", error.Message, StringComparison.Ordinal);
        Assert.Null(await redis.GetAsync($"mcpaspire:idempotency:{key}", Cancel));
        Assert.Equal(0, await LedgerEntriesAsync(redis, key));
    }

    private static Func<CancellationToken, Task<IdempotentCommit>> Commit(string result, string key) =>
        _ => Task.FromResult(new IdempotentCommit(result, $"entry-{key}-{result}"));

    private static async Task<int> LedgerEntriesAsync(IConnectionMultiplexer redis, string key) =>
        (await redis.ListAllAsync(TransactionLedger.Key, Cancel)).Count(entry => entry.Contains(key, StringComparison.Ordinal));
}
