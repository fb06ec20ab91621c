using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text.Json;
using McpAspire.Cluster;
using StackExchange.Redis;

namespace McpAspire.McpNode.Packs.Transactions;

/// <summary>
/// Runs an operation at most once per idempotency key and hands every caller with that key the first
/// run's result. A key is bound to a fingerprint of its request: reusing it for a different request is
/// refused. A run only prepares its result and the ledger entry of its effect; the store commits both
/// in one atomic step, so an effect is never recorded without its result or the reverse. A failed run
/// commits nothing, so a retry runs again.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>Whether results are shared across nodes (Redis) or kept in this process only.</summary>
    bool IsShared { get; }

    /// <summary>
    /// Returns the stored result for <paramref name="key"/>, waiting while another caller runs it;
    /// otherwise runs <paramref name="prepare"/> and commits what it returns, the result kept for <paramref name="retention"/>.
    /// </summary>
    /// <exception cref="IdempotencyConflictException">The key was used for a request with another fingerprint.</exception>
    Task<IdempotentResult> RunOnceAsync(string key, string fingerprint, Func<CancellationToken, Task<IdempotentCommit>> prepare, TimeSpan retention, CancellationToken cancellationToken);
}

/// <summary>What a run commits: its result, and the ledger entry that records its effect. Both are written, or neither.</summary>
/// <param name="Result">The result every caller with the key gets.</param>
/// <param name="LedgerEntry">The entry appended to the <see cref="TransactionLedger"/>.</param>
public sealed record IdempotentCommit(string Result, string LedgerEntry);

/// <summary>A result and whether it came from an earlier run.</summary>
/// <param name="Result">The stored result.</param>
/// <param name="Replayed">Whether this call reused an earlier run's result.</param>
public sealed record IdempotentResult(string Result, bool Replayed);

/// <summary>An idempotency key was reused for a different request.</summary>
public sealed class IdempotencyConflictException : Exception
{
    /// <summary>Creates the exception.</summary>
    public IdempotencyConflictException()
    {
    }

    /// <summary>Creates the exception with a message.</summary>
    public IdempotencyConflictException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and its cause.</summary>
    public IdempotencyConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// Idempotency in Redis, shared by every node. The first caller claims the key with <c>SET NX</c>: a
/// pending record with a random owner token that expires, so a crashed runner does not block the key
/// for good. It prepares its result, then one Lua script appends the ledger entry and replaces the
/// claim with the result, only if the claim is still its own. A runner whose claim expired and was
/// taken over commits nothing and returns the new owner's result, so no effect is ever committed twice.
/// Others poll until the result appears, or the claim vanishes and they may claim it themselves.
/// </summary>
public sealed class RedisIdempotencyStore(IConnectionMultiplexer redis, TimeProvider time) : IIdempotencyStore
{
    /// <summary>How long a claim holds before another caller may take over a run that never finished.</summary>
    public static readonly TimeSpan ClaimTtl = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    // KEYS: the key's record, the ledger. ARGV: our claim, the ledger entry, the finished record, its retention in ms.
    private const string CommitScript = """
        if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
        redis.call('RPUSH', KEYS[2], ARGV[2])
        redis.call('SET', KEYS[1], ARGV[3], 'PX', ARGV[4])
        return 1
        """;

    // KEYS: the key's record. ARGV: our claim. Deletes the claim only if it is still ours.
    private const string ReleaseScript = """
        if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
        return 0
        """;

    private volatile bool _scriptsWork;

    private IDatabase Database => redis.GetDatabase();

    /// <inheritdoc/>
    public bool IsShared => true;

    /// <inheritdoc/>
    public async Task<IdempotentResult> RunOnceAsync(string key, string fingerprint, Func<CancellationToken, Task<IdempotentCommit>> prepare, TimeSpan retention, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prepare);
        await EnsureScriptsWorkAsync(cancellationToken);
        var redisKey = $"mcpaspire:idempotency:{key}";
        while (true)
        {
            var claim = JsonSerializer.Serialize(new StoredRecord(fingerprint, Convert.ToHexString(RandomNumberGenerator.GetBytes(16)), null));
            // Not cancellable: a claim the server took but the caller never heard of would block retries for ClaimTtl.
            cancellationToken.ThrowIfCancellationRequested();
            if (await Database.StringSetAsync(redisKey, claim, ClaimTtl, When.NotExists))
            {
                var committed = await PrepareAndCommitAsync(redisKey, claim, fingerprint, prepare, retention, cancellationToken);
                if (committed is not null)
                {
                    return new IdempotentResult(committed, Replayed: false);
                }

                // The claim expired while this run prepared, and another caller took the key over: its run counts.
            }

            while ((string?)await Database.StringGetAsync(redisKey).WaitAsync(cancellationToken) is { } stored)
            {
                var record = JsonSerializer.Deserialize<StoredRecord>(stored)!;
                if (record.Fingerprint != fingerprint)
                {
                    throw new IdempotencyConflictException($"The idempotency key '{key}' was already used for a different request.");
                }

                if (record.Result is not null)
                {
                    return new IdempotentResult(record.Result, Replayed: true);
                }

                await Task.Delay(PollInterval, time, cancellationToken);
            }
        }
    }

    /// <summary>Runs <paramref name="prepare"/> and commits it; the result, or <see langword="null"/> if the claim was lost first.</summary>
    private async Task<string?> PrepareAndCommitAsync(string redisKey, string claim, string fingerprint, Func<CancellationToken, Task<IdempotentCommit>> prepare, TimeSpan retention, CancellationToken cancellationToken)
    {
        try
        {
            var work = await prepare(cancellationToken);
            var finished = JsonSerializer.Serialize(new StoredRecord(fingerprint, null, work.Result));
            var milliseconds = Math.Max(1, (long)Math.Ceiling(retention.TotalMilliseconds));

            // Once prepared, the commit goes ahead even if this caller has gone: duplicates are waiting for it.
            var reply = await Database.ScriptEvaluateAsync(CommitScript, [redisKey, TransactionLedger.Key], [claim, work.LedgerEntry, finished, milliseconds]);
            return (long)reply == 1 ? work.Result : null;
        }
        catch
        {
            // Nothing was committed, or the reply was lost after the commit: the release only removes a claim still pending.
            await ReleaseAsync(redisKey, claim);
            throw;
        }
    }

    /// <summary>Checks once that the store runs scripts, before any key is claimed; the error says how to fix it.</summary>
    private async Task EnsureScriptsWorkAsync(CancellationToken cancellationToken)
    {
        if (_scriptsWork)
        {
            return;
        }

        try
        {
            await Database.ScriptEvaluateAsync("return 1").WaitAsync(cancellationToken);
            _scriptsWork = true;
        }
        catch (RedisServerException ex)
        {
            throw new RedisServerException(
                $"The store does not run Lua scripts ({ex.Message}), and idempotent transfers commit with one. Start Garnet with --lua, or allow EVAL on Redis.");
        }
    }

    private async Task ReleaseAsync(string redisKey, string claim)
    {
        try
        {
            await Database.ScriptEvaluateAsync(ReleaseScript, [redisKey], [claim]);
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex))
        {
            // The claim expires on its own after ClaimTtl; until then duplicates wait for it.
        }
    }

    private sealed record StoredRecord(string Fingerprint, string? Owner, string? Result);
}

/// <summary>
/// Idempotency in this process only, for a node without Redis. Duplicates on this node share one run;
/// another node would run the request again, which <c>get_capabilities</c> reports.
/// </summary>
public sealed class InMemoryIdempotencyStore(TransactionLedger ledger, TimeProvider time) : IIdempotencyStore
{
    /// <summary>Above this many keys, finished entries past their retention are swept on the next call.</summary>
    private const int SweepAbove = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public bool IsShared => false;

    /// <inheritdoc/>
    public async Task<IdempotentResult> RunOnceAsync(string key, string fingerprint, Func<CancellationToken, Task<IdempotentCommit>> prepare, TimeSpan retention, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(prepare);
        if (_entries.Count > SweepAbove)
        {
            Sweep(time.GetUtcNow());
        }

        while (true)
        {
            var now = time.GetUtcNow();
            var mine = new Entry(fingerprint, now + retention);
            var entry = _entries.GetOrAdd(key, mine);
            // Only a finished entry expires: one still running must not let a second run start.
            if (entry.Result.Task.IsCompletedSuccessfully && entry.ExpiresAt <= now)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
                continue;
            }

            if (entry.Fingerprint != fingerprint)
            {
                throw new IdempotencyConflictException($"The idempotency key '{key}' was already used for a different request.");
            }

            if (!ReferenceEquals(entry, mine))
            {
                try
                {
                    return new IdempotentResult(await entry.Result.Task.WaitAsync(cancellationToken), Replayed: true);
                }
                catch (IdempotentRunFailedException)
                {
                    // The first run failed and its entry is gone: try to run it ourselves.
                    continue;
                }
            }

            try
            {
                var work = await prepare(cancellationToken);
                ledger.AppendLocal(work.LedgerEntry);
                mine.Result.SetResult(work.Result);
                return new IdempotentResult(work.Result, Replayed: false);
            }
            catch (Exception ex)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(key, mine));
                mine.Result.SetException(new IdempotentRunFailedException(ex));
                _ = mine.Result.Task.Exception; // Observed here, whether or not a duplicate was waiting.
                throw;
            }
        }
    }

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, entry) in _entries)
        {
            if (entry.Result.Task.IsCompletedSuccessfully && entry.ExpiresAt <= now)
            {
                _entries.TryRemove(new KeyValuePair<string, Entry>(key, entry));
            }
        }
    }

    private sealed class Entry(string fingerprint, DateTimeOffset expiresAt)
    {
        public string Fingerprint { get; } = fingerprint;

        public DateTimeOffset ExpiresAt { get; } = expiresAt;

        public TaskCompletionSource<string> Result { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    private sealed class IdempotentRunFailedException(Exception inner) : Exception("The first run failed.", inner);
}
