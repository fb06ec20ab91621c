using System.Net;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAspire.IntegrationTests.Infrastructure;

/// <summary>
/// What every stateful <c>/mcp</c> endpoint must do, whether it keeps the sessions (a node) or routes them to
/// the node that does (the coordinator): session ids, their errors, owners, GET streams and DELETE. Each
/// endpoint's test class derives from it; its fixture must add <see cref="HeaderUser"/> authentication.
/// </summary>
public abstract class StatefulEndpointContract : IDisposable
{
    protected HttpClient Http { get; } = new();

    /// <summary>The endpoint under test.</summary>
    protected abstract Uri McpUrl { get; }

    protected static CancellationToken Cancel => TestContext.Current.CancellationToken;

    public void Dispose()
    {
        Http.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public async Task The_official_client_gets_a_session_and_calls_tools_in_it()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl);

        var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "in a session" }, cancellationToken: Cancel);

        Assert.False(string.IsNullOrEmpty(client.SessionId));
        Assert.Equal("in a session", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
    }

    [Fact]
    public async Task The_official_client_asking_for_2026_07_28_falls_back_to_a_session_version_by_itself()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl, new McpClientOptions());

        Assert.Equal("2025-11-25", client.NegotiatedProtocolVersion);
        Assert.False(string.IsNullOrEmpty(client.SessionId));
    }

    [Fact]
    public async Task A_2026_07_28_request_is_refused_with_the_versions_that_have_sessions()
    {
        var request = RawMcp.Post(McpUrl, """{"jsonrpc":"2.0","id":1,"method":"server/discover","params":{"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}""");
        request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        request.Headers.Add("Mcp-Method", "server/discover");

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var error = (await RawMcp.ReadMessageAsync(response))["error"]!;
        Assert.Equal(-32022, error["code"]!.GetValue<int>());
        Assert.Equal(["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"], error["data"]!["supported"]!.AsArray().Select(version => version!.GetValue<string>()));
    }

    [Theory]
    [InlineData("GET", "2026-07-28", HttpStatusCode.MethodNotAllowed, "2026-07-28")]
    [InlineData("DELETE", "2026-07-28", HttpStatusCode.MethodNotAllowed, "2026-07-28")]
    [InlineData("GET", "2030-01-01", HttpStatusCode.BadRequest, "MCP-Protocol-Version")]
    [InlineData("DELETE", "nonsense", HttpStatusCode.BadRequest, "MCP-Protocol-Version")]
    public async Task Get_and_delete_check_the_protocol_version_too(string method, string version, HttpStatusCode expected, string message)
    {
        var session = await StartSessionAsync();
        var request = RawMcp.InSession(new HttpRequestMessage(new HttpMethod(method), McpUrl), session);
        request.Headers.Add("Accept", "text/event-stream");
        request.Headers.Add("MCP-Protocol-Version", version);

        using var response = await Http.SendAsync(request, Cancel);

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

    [Theory]
    [InlineData("POST")]
    [InlineData("GET")]
    [InlineData("DELETE")]
    public async Task A_request_without_a_session_id_is_400(string method)
    {
        using var request = method == "POST" ? RawMcp.Post(McpUrl, RawMcp.EchoCall) : new HttpRequestMessage(new HttpMethod(method), McpUrl);
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");

        using var response = await Http.SendAsync(request, Cancel);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("Mcp-Session-Id header", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(response)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_unknown_session_is_404_with_the_session_error()
    {
        using var response = await Http.SendAsync(RawMcp.InSession(RawMcp.Post(McpUrl, RawMcp.EchoCall), "no-such-session"), Cancel);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal(-32001, RawMcp.ErrorCode(await RawMcp.ReadMessageAsync(response)));
    }

    [Fact]
    public async Task Delete_ends_the_session_and_later_requests_get_404()
    {
        var session = await StartSessionAsync();
        Assert.Equal("still serving", await EchoInSessionAsync(session));

        using var delete = await Http.SendAsync(RawMcp.InSession(new HttpRequestMessage(HttpMethod.Delete, McpUrl), session), Cancel);
        using var after = await Http.SendAsync(RawMcp.InSession(RawMcp.Post(McpUrl, RawMcp.EchoCall), session), Cancel);

        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
        Assert.Equal(-32001, RawMcp.ErrorCode(await RawMcp.ReadMessageAsync(after)));
    }

    [Fact]
    public async Task Get_opens_the_sessions_one_event_stream_and_a_second_is_refused()
    {
        var session = await StartSessionAsync();

        using var first = await Http.SendAsync(OpenStream(session), HttpCompletionOption.ResponseHeadersRead, Cancel);
        using var second = await Http.SendAsync(OpenStream(session), HttpCompletionOption.ResponseHeadersRead, Cancel);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("text/event-stream", first.Content.Headers.ContentType!.MediaType);
        Assert.Equal(session, first.Headers.GetValues("Mcp-Session-Id").Single());
        Assert.Equal(HttpStatusCode.BadRequest, second.StatusCode);
        Assert.Contains("multiple GET requests", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(second)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("alice", "alice", HttpStatusCode.OK)]
    [InlineData("alice", "mallory", HttpStatusCode.Forbidden)]
    [InlineData("alice", null, HttpStatusCode.Forbidden)]
    [InlineData(null, "mallory", HttpStatusCode.Forbidden)]
    [InlineData(null, null, HttpStatusCode.OK)]
    public async Task Only_the_user_who_opened_a_session_can_use_it(string? opener, string? caller, HttpStatusCode expected)
    {
        var session = await StartSessionAsync(opener);

        using var call = await Http.SendAsync(HeaderUser.As(caller, RawMcp.InSession(RawMcp.Post(McpUrl, RawMcp.EchoCall), session)), Cancel);
        using var end = await Http.SendAsync(HeaderUser.As(caller, RawMcp.InSession(new HttpRequestMessage(HttpMethod.Delete, McpUrl), session)), Cancel);

        Assert.Equal(expected, call.StatusCode);
        Assert.Equal(expected, end.StatusCode);
        if (expected == HttpStatusCode.Forbidden)
        {
            Assert.Contains("does not match the user who initiated the session", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(call)), StringComparison.Ordinal);
            // The refusal did not end the session: its owner still has it.
            using var owner = await Http.SendAsync(HeaderUser.As(opener, RawMcp.InSession(RawMcp.Post(McpUrl, RawMcp.EchoCall), session)), Cancel);
            Assert.Equal(HttpStatusCode.OK, owner.StatusCode);
        }
    }

    protected HttpRequestMessage OpenStream(string session)
    {
        var get = RawMcp.InSession(new HttpRequestMessage(HttpMethod.Get, McpUrl), session);
        get.Headers.TryAddWithoutValidation("Accept", "text/event-stream");
        return get;
    }

    protected Task<string> StartSessionAsync(string? user = null) => RawMcp.StartSessionAsync(Http, McpUrl, user);

    /// <summary>Calls echo in the session and returns its text.</summary>
    protected async Task<string> EchoInSessionAsync(string session)
    {
        using var response = await Http.SendAsync(RawMcp.InSession(RawMcp.Post(McpUrl, RawMcp.EchoCall), session), Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await RawMcp.ReadMessageAsync(response))["result"]!["content"]![0]!["text"]!.GetValue<string>();
    }
}
