using System.ComponentModel;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using McpAspire.Cluster;
using McpAspire.McpNode.Security;
using McpAspire.McpNode.Services;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs.Transactions;

/// <summary>
/// The <c>transactions</c> pack: a tool with a side effect, made safe to retry. With an idempotency
/// key, the first call's receipt is stored (in Redis, so every node sees it) and any retry, on any
/// node, gets that receipt without the transaction running again; duplicates that arrive while it
/// runs wait for it and share its receipt.
/// </summary>
[McpServerToolType]
public sealed class TransactionTools(IIdempotencyStore store, TransactionLedger ledger, NodeDescriptor node, IOptions<TransactionOptions> options, TimeProvider time)
{
    /// <summary>Submits a transfer between two accounts.</summary>
    [McpServerTool(Name = "submit_transaction", ReadOnly = false, Idempotent = false, Destructive = false, OpenWorld = false, UseStructuredContent = true)]
    [Description("Submits a transfer of an amount between two accounts and returns its receipt. Not idempotent by itself: " +
        "pass an idempotency_key (any unique string per intended transfer) and every retry with the same key, on any node, " +
        "returns the first receipt without transferring again.")]
    [SuppressMessage("Naming", "CA1707:Identifiers should not contain underscores", Justification = "The argument name is the tool's public contract.")]
    public async Task<TransactionReceipt> SubmitTransactionAsync(
        [Description("The transfer to make.")] TransactionRequest transaction,
        RequestContext<CallToolRequestParams> request,
        [Description("A unique key for this intended transfer, 1 to 200 characters. Retries with the same key return the first receipt.")] string? idempotency_key = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transaction);
        ArgumentNullException.ThrowIfNull(request);
        Validate(transaction);
        if (idempotency_key is null)
        {
            await SettleAsync(cancellationToken);
            var receipt = NewReceipt(transaction);
            await ledger.AppendAsync(TransactionLedger.EntryFor(receipt.TransactionId, transaction), cancellationToken);
            return receipt;
        }

        if (idempotency_key.Length is 0 or > 200)
        {
            throw new McpException("'idempotency_key' must be 1 to 200 characters.");
        }

        try
        {
            // Each caller has keys of their own: the same key from another caller is another transfer.
            var scope = NodeCallers.ScopeOf(request.User) is { } caller ? $"caller/{caller}" : "anonymous";
            var outcome = await store.RunOnceAsync(
                $"{scope}:{idempotency_key}",
                Fingerprint(transaction),
                async token =>
                {
                    await SettleAsync(token);
                    return Prepare(transaction);
                },
                options.Value.IdempotencyRetention,
                cancellationToken);
            return JsonSerializer.Deserialize<TransactionReceipt>(outcome.Result)! with { Replayed = outcome.Replayed };
        }
        catch (IdempotencyConflictException ex)
        {
            throw new McpException($"The idempotency key '{idempotency_key}' was already used for a different transfer. Use a new key for a new transfer.", ex);
        }
        catch (Exception ex) when (ClusterStore.IsStoreFailure(ex, cancellationToken))
        {
            throw new McpException($"The transfer could not be committed: {ex.Message} Retry with the same idempotency_key: the transfer happens once at most.", ex);
        }
    }

    /// <summary>Waits <see cref="TransactionOptions.SettlementDelay"/>, as a payment provider would take to answer.</summary>
    private Task SettleAsync(CancellationToken cancellationToken) =>
        options.Value.SettlementDelay > TimeSpan.Zero ? Task.Delay(options.Value.SettlementDelay, time, cancellationToken) : Task.CompletedTask;

    /// <summary>The receipt and the ledger entry of a transfer, which the idempotency store commits together.</summary>
    private IdempotentCommit Prepare(TransactionRequest transaction)
    {
        var receipt = NewReceipt(transaction);
        return new IdempotentCommit(JsonSerializer.Serialize(receipt), TransactionLedger.EntryFor(receipt.TransactionId, transaction));
    }

    private TransactionReceipt NewReceipt(TransactionRequest transaction) =>
        new($"tx_{Guid.NewGuid():N}", "committed", transaction.From, transaction.To, transaction.Amount, transaction.Currency, node.Id, time.GetUtcNow(), Replayed: false);

    private static void Validate(TransactionRequest transaction)
    {
        if (transaction.Amount <= 0)
        {
            throw new McpException($"'transaction.amount' must be greater than 0, not {transaction.Amount.ToString(CultureInfo.InvariantCulture)}.");
        }

        if (string.Equals(transaction.From, transaction.To, StringComparison.Ordinal))
        {
            throw new McpException("'transaction.from' and 'transaction.to' must be different accounts.");
        }

        if (transaction.Currency is not { Length: 3 } || !transaction.Currency.All(char.IsAsciiLetterUpper))
        {
            throw new McpException($"'transaction.currency' must be a three-letter ISO 4217 code such as EUR, not '{transaction.Currency}'.");
        }
    }

    /// <summary>A hash of the request, so a key reused for a different transfer is caught.</summary>
    private static string Fingerprint(TransactionRequest transaction) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(transaction))));
}

/// <summary>A transfer.</summary>
/// <param name="From">The account debited.</param>
/// <param name="To">The account credited.</param>
/// <param name="Amount">The amount, greater than 0.</param>
/// <param name="Currency">A three-letter ISO 4217 code.</param>
public sealed record TransactionRequest(
    [property: Description("The account debited.")] string From,
    [property: Description("The account credited.")] string To,
    [property: Description("The amount, greater than 0.")] decimal Amount,
    [property: Description("A three-letter ISO 4217 currency code, e.g. EUR.")] string Currency);

/// <summary>The receipt of a committed transfer.</summary>
/// <param name="TransactionId">The transfer's id.</param>
/// <param name="Status">Always <c>committed</c>.</param>
/// <param name="From">The account debited.</param>
/// <param name="To">The account credited.</param>
/// <param name="Amount">The amount.</param>
/// <param name="Currency">The currency.</param>
/// <param name="ProcessedBy">The node that ran the transfer.</param>
/// <param name="ProcessedAt">When it ran.</param>
/// <param name="Replayed">Whether this answer is the stored receipt of an earlier call with the same key.</param>
public sealed record TransactionReceipt(string TransactionId, string Status, string From, string To, decimal Amount, string Currency, string ProcessedBy, DateTimeOffset ProcessedAt, bool Replayed);

/// <summary>Settings of the <c>transactions</c> pack, from the <c>Transactions</c> section.</summary>
public sealed class TransactionOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Transactions";

    /// <summary>How long a receipt is kept for retries with its key (default 24 h).</summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:01", "30.00:00:00", ErrorMessage = "Transactions:IdempotencyRetention must be between 1 second and 30 days.")]
    public TimeSpan IdempotencyRetention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// How long a transfer takes before it commits (default none): a stand-in for a payment provider's latency,
    /// for demos and failure drills, such as stopping a node while transfers are in flight.
    /// </summary>
    [System.ComponentModel.DataAnnotations.Range(typeof(TimeSpan), "00:00:00", "00:10:00", ErrorMessage = "Transactions:SettlementDelay must be between 0 and 10 minutes.")]
    public TimeSpan SettlementDelay { get; set; } = TimeSpan.Zero;
}
