using McpAspire.McpNode.Packs.Transactions;

namespace McpAspire.UnitTests.Node;

public sealed class InMemoryIdempotencyStoreTests
{
    private static readonly TimeSpan Day = TimeSpan.FromDays(1);

    private readonly TransactionLedger _ledger = new(null);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Duplicates_that_arrive_while_the_first_runs_wait_and_share_its_result()
    {
        var store = new InMemoryIdempotencyStore(_ledger, TimeProvider.System);
        var release = new TaskCompletionSource<IdempotentCommit>(TaskCreationOptions.RunContinuationsAsynchronously);
        var runs = 0;
        Task<IdempotentCommit> Run(CancellationToken _)
        {
            Interlocked.Increment(ref runs);
            return release.Task;
        }

        var calls = Enumerable.Range(0, 5).Select(_ => store.RunOnceAsync("k", "f", Run, Day, Cancel)).ToArray();
        Assert.All(calls, call => Assert.False(call.IsCompleted));
        release.SetResult(new IdempotentCommit("receipt", "entry"));
        var results = await Task.WhenAll(calls);

        Assert.Equal(1, runs);
        Assert.Equal(["entry"], await _ledger.EntriesAsync(Cancel));
        Assert.All(results, result => Assert.Equal("receipt", result.Result));
        Assert.Single(results, result => !result.Replayed);
    }

    [Fact]
    public async Task A_failed_run_stores_nothing_so_a_retry_runs_again()
    {
        var store = new InMemoryIdempotencyStore(_ledger, TimeProvider.System);

        await Assert.ThrowsAsync<InvalidOperationException>(() => store.RunOnceAsync("k", "f", _ => throw new InvalidOperationException("boom"), Day, Cancel));
        var retry = await store.RunOnceAsync("k", "f", Commit("second"), Day, Cancel);

        Assert.Equal("second", retry.Result);
        Assert.False(retry.Replayed);
        Assert.Equal(["ledger:second"], await _ledger.EntriesAsync(Cancel));
    }

    [Fact]
    public async Task A_key_used_for_another_request_is_a_conflict()
    {
        var store = new InMemoryIdempotencyStore(_ledger, TimeProvider.System);
        await store.RunOnceAsync("k", "f1", Commit("one"), Day, Cancel);

        await Assert.ThrowsAsync<IdempotencyConflictException>(() => store.RunOnceAsync("k", "f2", Commit("two"), Day, Cancel));
    }

    [Fact]
    public async Task A_result_past_its_retention_is_forgotten()
    {
        var clock = new ManualClock();
        var store = new InMemoryIdempotencyStore(_ledger, clock);
        await store.RunOnceAsync("k", "f", Commit("old"), TimeSpan.FromMinutes(1), Cancel);

        clock.Advance(TimeSpan.FromMinutes(2));
        var later = await store.RunOnceAsync("k", "f", Commit("new"), TimeSpan.FromMinutes(1), Cancel);

        Assert.Equal("new", later.Result);
    }

    private static Func<CancellationToken, Task<IdempotentCommit>> Commit(string result) =>
        _ => Task.FromResult(new IdempotentCommit(result, $"ledger:{result}"));

    private sealed class ManualClock : TimeProvider
    {
        private DateTimeOffset _now = DateTimeOffset.UnixEpoch;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
