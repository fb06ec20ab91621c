using System.Net;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode;
using McpAspire.McpNode.Services;
using Microsoft.Extensions.DependencyInjection;
using ModelContextProtocol.Protocol;

namespace McpAspire.IntegrationTests.Node;

/// <summary>A node with <c>Mcp:Stateless=false</c>: sessions, their errors, GET streams and DELETE.</summary>
public sealed class NodeStatefulTests : IClassFixture<NodeStatefulTests.StatefulNode>, IDisposable
{
    private readonly ServiceHost<NodeOptions> _node;
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    public NodeStatefulTests(StatefulNode fixture) => _node = fixture.Host;

    public sealed class StatefulNode() : NodeFixture(TestServices.AddStubbornTool, ("Mcp:Stateless", "false"));

    [Fact]
    public async Task The_official_client_gets_a_session_and_calls_tools_in_it()
    {
        await using var client = await OfficialClient.ConnectAsync(_node.McpUrl);

        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "in a session" }, cancellationToken: TestContext.Current.CancellationToken);

        Assert.False(string.IsNullOrEmpty(client.SessionId));
        Assert.Equal("in a session", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }

    [Fact]
    public async Task The_official_client_asking_for_2026_07_28_falls_back_to_a_session_version_by_itself()
    {
        await using var client = await OfficialClient.ConnectAsync(_node.McpUrl, new ModelContextProtocol.Client.McpClientOptions());

        Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
        Assert.False(string.IsNullOrEmpty(client.SessionId));
    }

    [Fact]
    public async Task A_2026_07_28_request_is_refused_with_the_versions_that_have_sessions()
    {
        var request = RawMcp.Post(_node.McpUrl, """{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}""");
        request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        request.Headers.Add("Mcp-Method", "server/discover");

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await RawMcp.ReadMessageAsync(response))["error"]!;
        Assert.Equal(-32022, error["code"]!.GetValue<int>());
        Assert.Equal(["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"], error["data"]!["supported"]!.AsArray().Select(version => version!.GetValue<string>()));
    }

    [Theory]
    [InlineData("GET", "2026-07-28", HttpStatusCode.MethodNotAllowed, "2026-07-28 has no server-to-client stream")]
    [InlineData("DELETE", "2026-07-28", HttpStatusCode.MethodNotAllowed, "2026-07-28 has no sessions to end")]
    [InlineData("GET", "2030-01-01", HttpStatusCode.BadRequest, "unsupported MCP-Protocol-Version '2030-01-01'")]
    [InlineData("DELETE", "nonsense", HttpStatusCode.BadRequest, "unsupported MCP-Protocol-Version 'nonsense'")]
    public async Task Get_and_delete_check_the_protocol_version_too(string method, string version, HttpStatusCode expected, string message)
    {
        var session = await StartSessionAsync();
        var request = RawMcp.InSession(new HttpRequestMessage(new HttpMethod(method), _node.McpUrl), session);
        request.Headers.Add("Accept", "text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", version);

        using var response = await _http.SendAsync(request, TestContext.Current.CancellationToken);

        Assert.Equal(expected, response.StatusCode);
        Assert.Contains(message, RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Initialize_returns_a_random_visible_ascii_session_id()
    {
        var first = await StartSessionAsync();
        var second = await StartSessionAsync();

        Assert.NotEqual(first, second);
        Assert.True(first.Length >= 16);
        Assert.All(first, c => Assert.InRange(c, '!', '~'));
    }

    [Fact]
    public async Task A_request_without_a_session_id_is_400()
    {
        using var response = await _http.SendAsync(RawMcp.Post(_node.McpUrl, RawMcp.EchoCall), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Mcp-Session-Id header is required", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_session_is_404_with_the_session_error()
    {
        using var response = await _http.SendAsync(RawMcp.InSession(RawMcp.Post(_node.McpUrl, RawMcp.EchoCall), "no-such-session"), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(-32001, RawMcp.ErrorCode(await RawMcp.ReadMessageAsync(response)));
    }

    [Fact]
    public async Task Delete_ends_the_session_and_later_requests_get_404()
    {
        var session = await StartSessionAsync();
        Assert.Equal("still serving", await EchoInSessionAsync(session));

        using var delete = await _http.SendAsync(RawMcp.InSession(new HttpRequestMessage(HttpMethod.Delete, _node.McpUrl), session), TestContext.Current.CancellationToken);
        using var after = await _http.SendAsync(RawMcp.InSession(RawMcp.Post(_node.McpUrl, RawMcp.EchoCall), session), TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    [Fact]
    public async Task Get_opens_the_sessions_one_event_stream_and_a_second_is_refused()
    {
        var session = await StartSessionAsync();

        using var first = await _http.SendAsync(OpenStream(session), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);
        using var second = await _http.SendAsync(OpenStream(session), HttpCompletionOption.ResponseHeadersRead, TestContext.Current.CancellationToken);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("text/event-stream", first.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
    }

    private HttpRequestMessage OpenStream(string session)
    {
        var get = RawMcp.InSession(new HttpRequestMessage(HttpMethod.Get, _node.McpUrl), session);
        get.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        return get;
    }

    private Task<string> StartSessionAsync() => RawMcp.StartSessionAsync(_http, _node.McpUrl);

    private async Task<string> EchoInSessionAsync(string session)
    {
        using var response = await _http.SendAsync(RawMcp.InSession(RawMcp.Post(_node.McpUrl, RawMcp.EchoCall), session), TestContext.Current.CancellationToken);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await RawMcp.ReadMessageAsync(response))["result"]!["content"]![0]!["text"]!.GetValue<string>();
    }

    [Fact]
    public async Task A_call_keeps_its_slot_after_its_client_goes_away_until_the_tool_ends()
    {
        var load = _node.Services.GetRequiredService<NodeLoad>();
        var gate = _node.Services.GetRequiredService<StubbornGate>();
        var requests = _node.Services.GetRequiredService<ActiveRequests>();
        var session = await StartSessionAsync();
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);

        var call = _http.SendAsync(
            RawMcp.InSession(RawMcp.Post(_node.McpUrl, """{"jsonrpc":"2.0","id":4,"method":"tools/call","params":{"name":"stubborn","arguments":{}}}"""), session),
            abandon.Token);
        await gate.Started.WaitAsync(TestContext.Current.CancellationToken);
        await abandon.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        // The POST is over on the server too; in a session the tool runs on, and so must its lease.
        await Eventually.UntilAsync(() => Task.FromResult(requests.Count == 0));
        var afterThePostEnded = load.InFlight;
        gate.Finish.Release();

        Assert.Equal(1, afterThePostEnded);
        await Eventually.UntilAsync(() => Task.FromResult(load.InFlight == 0));
    }
}
