using System.Collections.Concurrent;
using System.Text.Json;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode;
using McpAspire.McpNode.Services;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAspire.IntegrationTests.Node;

/// <summary>The <c>data</c> pack over real HTTP with the official C# client: results, progress, cancellation, bad arguments.</summary>
public sealed class DataPackTests : IClassFixture<DataPackTests.DataNode>
{
    private readonly ServiceHost<NodeOptions> _node;

    public DataPackTests(DataNode fixture) => _node = fixture.Host;

    public sealed class DataNode() : NodeFixture(("Node:Id", "data-1"), ("Node:Packs", "core,data"));

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private Task<McpClient> ConnectAsync() => OfficialClient.ConnectAsync(_node.McpUrl);

    [Fact]
    public async Task Inline_records_are_aggregated_with_progress_per_record()
    {
        await using var client = await ConnectAsync();
        var progress = new ConcurrentQueue<ProgressNotificationValue>();
        var records = new[] { new { id = "a", value = 2.0 }, new { id = "b", value = 10.0 }, new { id = "c", value = 6.0 } };

        var result = await client.CallToolAsync(
            "process_dataset",
            new Dictionary<string, object?> { ["records"] = records, ["delayMs"] = 100 },
            new SynchronousProgress(progress.Enqueue),
            cancellationToken: Cancel);

        Assert.NotEqual(true, result.IsError);
        var summary = result.StructuredContent!.Value;
        Assert.Equal(3, summary.GetProperty("count").GetInt64());
        Assert.Equal(18, summary.GetProperty("sum").GetDouble());
        Assert.Equal(2, summary.GetProperty("min").GetDouble());
        Assert.Equal(10, summary.GetProperty("max").GetDouble());
        Assert.Equal(6, summary.GetProperty("mean").GetDouble());
        // The C# client hands notifications to their handlers on other tasks and stops listening when the
        // result arrives, so the last one, sent just before the result, can be lost there. The ones 100 ms
        // earlier always arrive. The full sequence, in order, is checked on the wire below.
        await Eventually.UntilAsync(() => Task.FromResult(progress.Count >= 2));
        Assert.Subset(new HashSet<double> { 1, 2, 3 }, progress.Select(value => (double)value.Progress).ToHashSet());
        Assert.Contains(progress, value => value.Progress == 1);
        Assert.Contains(progress, value => value.Progress == 2);
        Assert.All(progress, value => Assert.Equal(3, value.Total));
    }

    [Theory]
    [InlineData(40, 40)]
    [InlineData(50_000, 100)]
    public async Task On_the_wire_progress_comes_in_order_then_the_result(int count, int expectedNotifications)
    {
        using var http = new HttpClient();
        var body = """{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"process_dataset","arguments":{"count":COUNT,"seed":7},"_meta":{"progressToken":"p-1"}}}"""
            .Replace("COUNT", count.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
        using var response = await http.SendAsync(RawMcp.Post(_node.McpUrl, body), Cancel);
        var events = await RawMcp.ReadEventsAsync(response);

        var notifications = events[..^1];
        Assert.Equal(expectedNotifications, notifications.Length);
        Assert.All(notifications, message => Assert.Equal("notifications/progress", message["method"]!.GetValue<string>()));
        Assert.All(notifications, message => Assert.Equal("p-1", message["params"]!["progressToken"]!.GetValue<string>()));
        var steps = notifications.Select(message => message["params"]!["progress"]!.GetValue<double>()).ToArray();
        Assert.Equal(steps.Order(), steps);
        Assert.Equal(count, steps[^1]);
        Assert.Equal(9, events[^1]["id"]!.GetValue<int>());
        Assert.Equal(count, events[^1]["result"]!["structuredContent"]!["count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Cancelling_a_call_stops_the_tool_within_a_record()
    {
        var load = _node.Services.GetRequiredService<NodeLoad>();
        await using var client = await ConnectAsync();
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);

        // 1,000 records of 100 ms each would run for 100 s.
        var call = client.CallToolAsync(
            "process_dataset",
            new Dictionary<string, object?> { ["count"] = 1000, ["delayMs"] = 100 },
            new SynchronousProgress(_ => started.TrySetResult()),
            cancellationToken: cancel.Token).AsTask();
        await started.Task.WaitAsync(Cancel);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        await Eventually.UntilAsync(() => Task.FromResult(load.Load == 0));
    }

    [Theory]
    [InlineData("""{"count":5,"records":[]}""", "exactly one of 'records'")]
    [InlineData("""{}""", "exactly one of 'records'")]
    [InlineData("""{"count":0}""", "'count' must be between 1 and 10000000")]
    [InlineData("""{"count":5,"delayMs":-1}""", "'delayMs' must be between 0 and 10000")]
    public async Task Bad_arguments_get_an_error_result_that_names_the_argument(string arguments, string fragment)
    {
        await using var client = await ConnectAsync();

        var result = await client.CallToolAsync(
            "process_dataset",
            JsonSerializer.Deserialize<Dictionary<string, object?>>(arguments),
            cancellationToken: Cancel);

        Assert.True(result.IsError);
        Assert.Contains(fragment, Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text, StringComparison.Ordinal);
    }

    /// <summary>Reports on the caller's thread, so the order of reports is the order of arrival.</summary>
    private sealed class SynchronousProgress(Action<ProgressNotificationValue> report) : IProgress<ProgressNotificationValue>
    {
        public void Report(ProgressNotificationValue value) => report(value);
    }
}
