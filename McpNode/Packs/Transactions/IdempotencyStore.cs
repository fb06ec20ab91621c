using System.Collections.Concurrent;
using System.Text.Json;
using McpAspire.ServiceDefaults.Redis;

namespace McpAspire.McpNode.Packs.Transactions;

/// <summary>
/// Runs an operation at most once per idempotency key and hands every caller with that key the first
/// run's result. A key is bound to a fingerprint of its request: reusing it for a different request is
/// refused. A failed run stores nothing, so a retry runs again.
/// </summary>
public interface IIdempotencyStore
{
    /// <summary>Whether results are shared across nodes (Redis) or kept in this process only.</summary>
    bool IsShared { get; }

    /// <summary>
    /// Returns the stored result for <paramref name="key"/>, waiting while another caller runs it;
    /// otherwise runs <paramref name="run"/> and stores its result for <paramref name="retention"/>.
    /// </summary>
    /// <exception cref="IdempotencyConflictException">The key was used for a request with another fingerprint.</exception>
    Task<IdempotentResult> RunOnceAsync(string key, string fingerprint, Func<CancellationToken, Task<string>> run, TimeSpan retention, CancellationToken cancellationToken);
}

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
/// Idempotency in Redis, shared by every node. The first caller claims the key with <c>SET NX</c> (a
/// pending record that expires, so a crashed runner does not block the key for good), runs, and
/// overwrites the claim with the result. Others poll until the result appears, or the claim vanishes and
/// they may claim it themselves.
/// </summary>
public sealed class RedisIdempotencyStore(RedisClient redis, TimeProvider time) : IIdempotencyStore
{
    /// <summary>How long a claim holds before another caller may take over a run that never finished.</summary>
    public static readonly TimeSpan ClaimTtl = TimeSpan.FromMinutes(2);

    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(50);

    /// <inheritdoc/>
    public bool IsShared => true;

    /// <inheritdoc/>
    public async Task<IdempotentResult> RunOnceAsync(string key, string fingerprint, Func<CancellationToken, Task<string>> run, TimeSpan retention, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
        var redisKey = $"mcpaspire:idempotency:{key}";
        while (true)
        {
            var claim = JsonSerializer.Serialize(new StoredRecord(fingerprint, null));
            if (await redis.SetIfAbsentAsync(redisKey, claim, ClaimTtl, cancellationToken))
            {
                string result;
                try
                {
                    result = await run(cancellationToken);
                }
                catch
                {
                    // Nothing is stored for a failed run, so a retry runs again.
                    await redis.DeleteAsync(redisKey, CancellationToken.None);
                    throw;
                }

                // The run has happened: its result must be stored even if this caller has gone.
                await redis.SetAsync(redisKey, JsonSerializer.Serialize(new StoredRecord(fingerprint, result)), retention, CancellationToken.None);
                return new IdempotentResult(result, Replayed: false);
            }

            while (await redis.GetAsync(redisKey, cancellationToken) is { } stored)
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

    private sealed record StoredRecord(string Fingerprint, string? Result);
}

/// <summary>
/// Idempotency in this process only, for a node without Redis. Duplicates on this node share one run;
/// another node would run the request again, which <c>get_capabilities</c> reports.
/// </summary>
public sealed class InMemoryIdempotencyStore(TimeProvider time) : IIdempotencyStore
{
    /// <summary>Above this many keys, finished entries past their retention are swept on the next call.</summary>
    private const int SweepAbove = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <inheritdoc/>
    public bool IsShared => false;

    /// <inheritdoc/>
    public async Task<IdempotentResult> RunOnceAsync(string key, string fingerprint, Func<CancellationToken, Task<string>> run, TimeSpan retention, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(run);
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
                var result = await run(cancellationToken);
                mine.Result.SetResult(result);
                return new IdempotentResult(result, Replayed: false);
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
