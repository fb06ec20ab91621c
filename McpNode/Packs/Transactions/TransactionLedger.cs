using System.Collections.Concurrent;
using System.Text.Json;
using StackExchange.Redis;

namespace McpAspire.McpNode.Packs.Transactions;

/// <summary>
/// Where committed transfers are written: the side effect that idempotency protects. In Redis
/// (<c>mcpaspire:ledger</c>) when the node has one, so the entries of every node can be counted;
/// otherwise in this process.
/// </summary>
public sealed class TransactionLedger(IConnectionMultiplexer? redis)
{
    /// <summary>The Redis list that holds the ledger.</summary>
    public const string Key = "mcpaspire:ledger";

    private readonly ConcurrentQueue<string> _local = new();

    /// <summary>The ledger entry of one transfer.</summary>
    public static string EntryFor(string transactionId, TransactionRequest transaction)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        return JsonSerializer.Serialize(new { transactionId, transaction.From, transaction.To, transaction.Amount, transaction.Currency });
    }

    /// <summary>Appends one committed transfer.</summary>
    public async Task AppendAsync(string entry, CancellationToken cancellationToken)
    {
        if (redis is null)
        {
            _local.Enqueue(entry);
            return;
        }

        await redis.GetDatabase().ListRightPushAsync(Key, entry).WaitAsync(cancellationToken);
    }

    /// <summary>Appends an entry to the in-process ledger; the in-memory idempotency store commits with it.</summary>
    internal void AppendLocal(string entry) => _local.Enqueue(entry);

    /// <summary>Every entry, oldest first.</summary>
    public async Task<IReadOnlyList<string>> EntriesAsync(CancellationToken cancellationToken) =>
        redis is null ? [.. _local] : [.. (await redis.GetDatabase().ListRangeAsync(Key).WaitAsync(cancellationToken)).Select(entry => entry.ToString())];
}
