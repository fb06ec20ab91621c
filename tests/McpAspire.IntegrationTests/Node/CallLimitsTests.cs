using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode;
using McpAspire.McpNode.Services;
using Microsoft.Extensions.DependencyInjection;

namespace McpAspire.IntegrationTests.Node;

/// <summary>Arguments are checked against the tool's schema before it runs, and a call past its time limit is cancelled.</summary>
public sealed class CallLimitsTests : IClassFixture<CallLimitsTests.LimitedNode>
{
    private readonly ServiceHost<NodeOptions> _node;

    public CallLimitsTests(LimitedNode fixture) => _node = fixture.Host;

    // A 1 s default, a 1 s limit for get_capabilities by configuration; process_dataset keeps its own 1 h.
    public sealed class LimitedNode() : NodeFixture(
        TestServices.AddStubbornTool,
        ("Node:Id", "limits-1"), ("Node:Packs", "core,data"), ("Node:CallTimeout", "00:00:01"), ("Node:ToolTimeouts:process_dataset", "00:00:02"));

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private async Task<string> CallForErrorAsync(string tool, string argumentsJson)
    {
        using var http = new HttpClient();
        var body = """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"TOOL","arguments":ARGS}}"""
            .Replace("TOOL", tool, StringComparison.Ordinal).Replace("ARGS", argumentsJson, StringComparison.Ordinal);
        using var response = await http.SendAsync(RawMcp.Post(_node.McpUrl, body), Cancel);
        var message = await RawMcp.ReadMessageAsync(response);
        Assert.True(message["result"]!["isError"]!.GetValue<bool>(), message.ToJsonString());
        return message["result"]!["content"]![0]!["text"]!.GetValue<string>();
    }

    [Theory]
    [InlineData("echo", "{}", "'message' is required")]
    [InlineData("echo", """{"message":42}""", "'message' must be a string, not a number")]
    [InlineData("process_dataset", """{"count":"five"}""", "'count' must be an integer or null, not a string")]
    [InlineData("process_dataset", """{"count":2.5}""", "'count' must be an integer or null, not a number")]
    [InlineData("process_dataset", """{"records":[{"id":"a"}]}""", "'records[0].value' is required")]
    [InlineData("process_dataset", """{"records":[{"id":"a","value":"high"}]}""", "'records[0].value' must be a number, not a string")]
    [InlineData("process_dataset", """{"records":{"id":"a"}}""", "'records' must be an array or null, not an object")]
    public async Task Arguments_that_break_the_schema_get_an_error_naming_the_argument_and_the_rule(string tool, string arguments, string fragment)
    {
        var text = await CallForErrorAsync(tool, arguments);

        Assert.StartsWith($"Invalid arguments for '{tool}':", text, StringComparison.Ordinal);
        Assert.Contains(fragment, text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_call_past_its_configured_limit_is_cancelled_with_an_error_that_says_so()
    {
        // 20 records of 500 ms would take 10 s; the configured limit for process_dataset is 2 s.
        var text = await CallForErrorAsync("process_dataset", """{"count":20,"delayMs":500}""");

        Assert.Contains("did not finish within 2 s", text, StringComparison.Ordinal);
        Assert.Contains("Node:ToolTimeouts:process_dataset", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_tool_that_ignores_cancellation_is_answered_at_its_limit_and_keeps_its_slot_until_it_ends()
    {
        var load = _node.Services.GetRequiredService<NodeLoad>();
        var gate = _node.Services.GetRequiredService<StubbornGate>();

        var text = await CallForErrorAsync("stubborn", "{}");
        await gate.Started.WaitAsync(Cancel);
        var whileStillRunning = load.InFlight;
        gate.Finish.Release();

        Assert.Contains("'stubborn' did not finish within 1 s", text, StringComparison.Ordinal);
        Assert.Equal(1, whileStillRunning);
        await Eventually.UntilAsync(() => Task.FromResult(load.InFlight == 0));
    }

    [Fact]
    public async Task A_tool_within_its_limit_is_not_cut_by_a_shorter_default()
    {
        await using var client = await OfficialClient.ConnectAsync(_node.McpUrl);

        // 1.5 s of work: longer than the 1 s default, within process_dataset's 2 s.
        var result = await client.CallToolAsync("process_dataset", new Dictionary<string, object?> { ["count"] = 3, ["delayMs"] = 500 }, cancellationToken: Cancel);

        Assert.NotEqual(true, result.IsError);
        Assert.Equal(3, result.StructuredContent!.Value.GetProperty("count").GetInt64());
        Assert.Equal("still serving", await RawMcp.EchoAsync(new HttpClient(), _node.McpUrl));
    }
}
