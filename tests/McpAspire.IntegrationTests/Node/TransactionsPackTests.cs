using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode;
using McpAspire.McpNode.Packs.Transactions;
using ModelContextProtocol.Protocol;

namespace McpAspire.IntegrationTests.Node;

/// <summary>Two nodes sharing one Garnet: a transfer with an idempotency key runs once, whichever node each retry reaches.</summary>
public sealed class TransactionsPackTests : IClassFixture<TransactionsPackTests.TwoNodes>
{
    private readonly TwoNodes _nodes;

    public TransactionsPackTests(TwoNodes nodes) => _nodes = nodes;

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public sealed class TwoNodes : IAsyncLifetime
    {
        public StoreServer Store { get; private set; } = null!;

        public ServiceHost<NodeOptions> A { get; private set; } = null!;

        public ServiceHost<NodeOptions> B { get; private set; } = null!;

        public async ValueTask InitializeAsync()
        {
            Store = await StoreServer.StartGarnetAsync();
            A = TestServices.StartNode(("ConnectionStrings:redis", Store.ConnectionString), ("Node:Id", "tx-a"), ("Node:Packs", "core,transactions"));
            B = TestServices.StartNode(("ConnectionStrings:redis", Store.ConnectionString), ("Node:Id", "tx-b"), ("Node:Packs", "core,transactions"));
        }

        public async ValueTask DisposeAsync()
        {
            await A.DisposeAsync();
            await B.DisposeAsync();
            await Store.DisposeAsync();
        }
    }

    private static async Task<CallToolResult> SubmitAsync(ServiceHost<NodeOptions> node, object transaction, string? key)
    {
        await using var client = await OfficialClient.ConnectAsync(node.McpUrl);
        var arguments = new Dictionary<string, object?> { ["transaction"] = transaction };
        if (key is not null)
        {
            arguments["idempotency_key"] = key;
        }

        return await client.CallToolAsync("submit_transaction", arguments, cancellationToken: Cancel);
    }

    private static JsonElement Receipt(CallToolResult result)
    {
        Assert.NotEqual(true, result.IsError);
        return result.StructuredContent!.Value;
    }

    private static object Transfer(decimal amount = 25.50m) => new { from = "acct-1", to = "acct-2", amount, currency = "EUR" };

    private async Task<int> LedgerEntriesAsync(string transactionId)
    {
        await using var redis = await Eventually.ConnectAsync(_nodes.Store.ConnectionString);
        return (await redis.ListAllAsync(TransactionLedger.Key, Cancel)).Count(entry => entry.Contains(transactionId, StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_retry_on_the_other_node_returns_the_first_receipt_without_running_again()
    {
        var key = $"order-{Guid.NewGuid():N}";

        var first = Receipt(await SubmitAsync(_nodes.A, Transfer(), key));
        var retry = Receipt(await SubmitAsync(_nodes.B, Transfer(), key));

        var id = first.GetProperty("transactionId").GetString()!;
        Assert.Equal(id, retry.GetProperty("transactionId").GetString());
        Assert.Equal("tx-a", retry.GetProperty("processedBy").GetString());
        Assert.False(first.GetProperty("replayed").GetBoolean());
        Assert.True(retry.GetProperty("replayed").GetBoolean());
        Assert.Equal(1, await LedgerEntriesAsync(id));
    }

    [Fact]
    public async Task Concurrent_duplicates_on_both_nodes_share_one_run()
    {
        var key = $"order-{Guid.NewGuid():N}";

        var results = await Task.WhenAll(Enumerable.Range(0, 10).Select(i => SubmitAsync(i % 2 == 0 ? _nodes.A : _nodes.B, Transfer(), key)));

        var ids = results.Select(result => Receipt(result).GetProperty("transactionId").GetString()!).Distinct().ToArray();
        var id = Assert.Single(ids);
        Assert.Equal(1, await LedgerEntriesAsync(id));
        Assert.Equal(9, results.Count(result => Receipt(result).GetProperty("replayed").GetBoolean()));
    }

    [Fact]
    public async Task Without_a_key_every_call_is_a_new_transfer()
    {
        var first = Receipt(await SubmitAsync(_nodes.A, Transfer(), key: null)).GetProperty("transactionId").GetString();
        var second = Receipt(await SubmitAsync(_nodes.A, Transfer(), key: null)).GetProperty("transactionId").GetString();

        Assert.NotEqual(first, second);
    }

    [Fact]
    public async Task A_key_reused_for_a_different_transfer_is_refused()
    {
        var key = $"order-{Guid.NewGuid():N}";
        Receipt(await SubmitAsync(_nodes.A, Transfer(10m), key));

        var reused = await SubmitAsync(_nodes.B, Transfer(99m), key);

        Assert.True(reused.IsError);
        Assert.Contains("already used for a different transfer", Assert.IsType<TextContentBlock>(Assert.Single(reused.Content)).Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"from":"a","to":"b","amount":0,"currency":"EUR"}""", "'transaction.amount' must be greater than 0")]
    [InlineData("""{"from":"a","to":"a","amount":5,"currency":"EUR"}""", "must be different accounts")]
    [InlineData("""{"from":"a","to":"b","amount":5,"currency":"euro"}""", "'transaction.currency' must be a three-letter ISO 4217 code")]
    [InlineData("""{"from":"a","to":"b","amount":5}""", "'transaction.currency' is required")]
    public async Task A_bad_transfer_is_refused_with_the_field_named(string transaction, string fragment)
    {
        var result = await SubmitAsync(_nodes.A, JsonNode.Parse(transaction)!, key: null);

        Assert.True(result.IsError);
        Assert.Contains(fragment, Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_capabilities_says_idempotency_is_shared_through_redis()
    {
        await using var client = await OfficialClient.ConnectAsync(_nodes.A.McpUrl);

        var result = await client.CallToolAsync("get_capabilities", cancellationToken: Cancel);

        Assert.Equal("redis", result.StructuredContent!.Value.GetProperty("features").GetProperty("idempotency").GetString());
    }
}
