using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using McpAspire.Cluster.Security;
using McpAspire.IntegrationTests.Infrastructure;

namespace McpAspire.IntegrationTests.Coordinator;

/// <summary>
/// A stateful coordinator with real tokens: each session is bound to the user who opened it, every request in it is
/// authorized again with the token it carries, and each caller's sessions and streams are capped.
/// </summary>
public sealed class CoordinatorSessionAuthTests(CoordinatorSessionAuthTests.Cluster cluster) : IClassFixture<CoordinatorSessionAuthTests.Cluster>, IDisposable
{
    private const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";

    private const string ListTools = """{"jsonrpc":"2.0","id":2,"method":"tools/list"}""";

    private const string Submit = """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"submit_transaction","arguments":{"transaction":{"from":"a","to":"b","amount":1,"currency":"EUR"}}}}""";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    public sealed class Cluster : CoordinatorCluster
    {
        public static readonly string ClusterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

        public Cluster() => Keys = new ClusterKeyRing([Convert.FromBase64String(ClusterKey)]);

        public TestTokens Tokens { get; } = new();

        protected override async Task StartServicesAsync()
        {
            Own(TestServices.StartNode(
                ("ConnectionStrings:redis", Store.ConnectionString), ("Node:Id", "sessions"), ("Node:HeartbeatInterval", "00:00:00.200"),
                ("Node:Packs", "core,transactions"), ("Mcp:Stateless", "false"), ("Cluster:Key", ClusterKey)));
            Coordinator = Own(TestServices.StartCoordinator(
                Store.ConnectionString,
                [
                    .. Tokens.Settings,
                    ("Mcp:Stateless", "false"), ("Coordinator:SessionKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
                    ("Coordinator:Authorization:Rules:readers:Scopes:0", "tools.read"), ("Coordinator:Authorization:Rules:readers:Tools:0", "echo"),
                    ("Coordinator:Authorization:Rules:payers:Scopes:0", "payments"), ("Coordinator:Authorization:Rules:payers:Packs:0", "transactions"),
                    ("Coordinator:RateLimits:MaxSessions", "2"), ("Coordinator:RateLimits:MaxStreams", "1"),
                    ("Coordinator:RegistryRefreshInterval", "00:00:00.100"), ("Cluster:Key", ClusterKey),
                ]));
            var admin = Tokens.Mint("admin", "mcpaspire.admin");
            using var http = new HttpClient();
            await Eventually.UntilAsync(async () =>
            {
                using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(Coordinator.BaseUrl, "/api/nodes")).WithBearer(admin));
                return (await response.Content.ReadAsStringAsync()).Contains("\"sessions\"", StringComparison.Ordinal);
            });
        }
    }

    private Uri McpUrl => cluster.Coordinator.McpUrl;

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string? body, string token, string? session)
    {
        var request = body is null ? new HttpRequestMessage(method, McpUrl) : RawMcp.Post(McpUrl, body);
        request.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        if (session is not null)
        {
            RawMcp.InSession(request, session);
        }

        using (request)
        {
            return await _http.SendAsync(request.WithBearer(token), HttpCompletionOption.ResponseHeadersRead, Cancel);
        }
    }

    private async Task<string> OpenAsync(string token)
    {
        using var response = await SendAsync(HttpMethod.Post, Initialize, token, session: null);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var session = response.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = await SendAsync(HttpMethod.Post, """{"jsonrpc":"2.0","method":"notifications/initialized"}""", token, session);
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        return session;
    }

    private async Task<JsonObject> RpcAsync(string body, string token, string session)
    {
        using var response = await SendAsync(HttpMethod.Post, body, token, session);
        return await RawMcp.ReadMessageAsync(response);
    }

    private async Task EndAsync(string token, string session)
    {
        using var response = await SendAsync(HttpMethod.Delete, body: null, token, session);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Fact]
    public async Task Another_users_token_on_a_session_gets_403_and_the_owner_carries_on()
    {
        var alice = cluster.Tokens.Mint("alice", "tools.read");
        var session = await OpenAsync(alice);

        using var stolen = await SendAsync(HttpMethod.Post, RawMcp.EchoCall, cluster.Tokens.Mint("bob", "tools.read"), session);
        var owner = await RpcAsync(RawMcp.EchoCall, alice, session);

        Assert.Equal(HttpStatusCode.Forbidden, stolen.StatusCode);
        Assert.Contains("does not match the user who initiated the session", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(stolen)), StringComparison.Ordinal);
        Assert.Equal("still serving", owner["result"]!["content"]![0]!["text"]!.GetValue<string>());
        await EndAsync(alice, session);
    }

    [Fact]
    public async Task A_scope_taken_away_takes_effect_on_the_sessions_next_request()
    {
        var before = cluster.Tokens.Mint("payer", "tools.read payments");
        var session = await OpenAsync(before);
        var listedBefore = await RpcAsync(ListTools, before, session);
        var paid = await RpcAsync(Submit, before, session);

        var after = cluster.Tokens.Mint("payer", "tools.read");
        var listedAfter = await RpcAsync(ListTools, after, session);
        var refused = await RpcAsync(Submit, after, session);
        var echoed = await RpcAsync(RawMcp.EchoCall, after, session);

        Assert.Equal(["echo", "submit_transaction"], Names(listedBefore));
        Assert.Null(paid["error"]);
        Assert.Equal(["echo"], Names(listedAfter));
        Assert.Contains("not available to this caller", RawMcp.ErrorMessage(refused), StringComparison.Ordinal);
        Assert.Null(echoed["error"]);
        await EndAsync(after, session);
    }

    [Fact]
    public async Task A_caller_holds_at_most_its_cap_of_sessions_until_it_ends_one_and_others_are_not_held()
    {
        var carol = cluster.Tokens.Mint("carol", "tools.read");
        var first = await OpenAsync(carol);
        var second = await OpenAsync(carol);

        using var third = await SendAsync(HttpMethod.Post, Initialize, carol, session: null);
        var refusal = await RawMcp.ReadMessageAsync(third);
        var dave = await OpenAsync(cluster.Tokens.Mint("dave", "tools.read"));
        await EndAsync(carol, first);
        var again = await OpenAsync(carol);

        Assert.Equal(HttpStatusCode.TooManyRequests, third.StatusCode);
        Assert.NotNull(third.Headers.RetryAfter);
        Assert.Equal(1, refusal["id"]!.GetValue<int>());
        Assert.Contains("its limit of open sessions", RawMcp.ErrorMessage(refusal), StringComparison.Ordinal);
        Assert.NotEqual(first, again);
        foreach (var session in (string[])[second, again])
        {
            await EndAsync(carol, session);
        }

        await EndAsync(cluster.Tokens.Mint("dave", "tools.read"), dave);
    }

    [Fact]
    public async Task A_caller_holds_at_most_its_cap_of_streams()
    {
        var erin = cluster.Tokens.Mint("erin", "tools.read");
        var session = await OpenAsync(erin);

        using (var stream = await SendAsync(HttpMethod.Get, body: null, erin, session))
        {
            using var second = await SendAsync(HttpMethod.Get, body: null, erin, session);

            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
            Assert.Contains("its limit of open streams", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(second)), StringComparison.Ordinal);
        }

        await EndAsync(erin, session);
    }

    private static string[] Names(JsonObject list) =>
        [.. list["result"]!["tools"]!.AsArray().Select(tool => tool!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
}
