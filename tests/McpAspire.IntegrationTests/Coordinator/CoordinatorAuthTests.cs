using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using McpAspire.Cluster.Security;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.IntegrationTests.Telemetry;
using McpAspire.McpCoordinator;
using McpAspire.McpCoordinator.Security;
using McpAspire.McpNode.Packs.Files;
using McpAspire.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Microsoft.Extensions.Options;

namespace McpAspire.IntegrationTests.Coordinator;

/// <summary>
/// A coordinator that is an OAuth 2.1 resource server: JWT bearer tokens signed by a test key and configured only
/// through <c>Authentication:Schemes:Bearer:*</c>, API keys, authorization rules by scope, role and pack, per-caller
/// limits, and the caller's identity passed on to a signed node.
/// </summary>
public sealed class CoordinatorAuthTests(CoordinatorAuthTests.Cluster cluster) : IClassFixture<CoordinatorAuthTests.Cluster>, IDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    public sealed class Cluster : CoordinatorCluster
    {
        public const string ApiKey = "mcpk-ci-bot-0b7a4e2f9d1c8a6e5f3b2d1c0a9e8f7d";

        public const string ExpiredApiKey = "mcpk-old-bot-5d4c3b2a1f0e9d8c7b6a5f4e3d2c1b0a";

        public static readonly string ClusterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

        public Cluster() => Keys = new ClusterKeyRing([Convert.FromBase64String(ClusterKey)]);

        public TestTokens Tokens { get; } = new();

        public string Data { get; } = Directory.CreateTempSubdirectory("mcpaspire-auth-").FullName;

        public ServiceHost<McpAspire.McpNode.NodeOptions> Node { get; private set; } = null!;

        /// <summary>The settings every coordinator of these tests has: tokens, API keys, rules, the cluster key.</summary>
        public (string Key, string? Value)[] CoordinatorSettings(params (string Key, string? Value)[] more) =>
        [
            .. Tokens.Settings,
            ("Authentication:Schemes:ApiKey:Keys:ci-bot:Hash", Sha256(ApiKey)),
            ("Authentication:Schemes:ApiKey:Keys:ci-bot:Scopes:0", "tools.read"),
            ("Authentication:Schemes:ApiKey:Keys:old-bot:Hash", Sha256(ExpiredApiKey)),
            ("Authentication:Schemes:ApiKey:Keys:old-bot:Scopes:0", "tools.read"),
            ("Authentication:Schemes:ApiKey:Keys:old-bot:ExpiresAt", "2026-01-01T00:00:00Z"),
            ("Coordinator:Authorization:Rules:readers:Scopes:0", "tools.read"),
            ("Coordinator:Authorization:Rules:readers:Tools:0", "echo"),
            ("Coordinator:Authorization:Rules:readers:Tools:1", "get_*"),
            ("Coordinator:Authorization:Rules:payers:Scopes:0", "payments"),
            ("Coordinator:Authorization:Rules:payers:Packs:0", "transactions"),
            ("Coordinator:Authorization:Rules:archivists:Roles:0", "Archivist"),
            ("Coordinator:Authorization:Rules:archivists:Packs:0", "files"),
            ("Coordinator:ResourceMetadata:AuthorizationServers:0", TestTokens.Issuer),
            ("Coordinator:RateLimits:Tools:list_directory:CallsPerSecond", "1"),
            ("Coordinator:RegistryRefreshInterval", "00:00:00.100"),
            ("Cluster:Key", ClusterKey),
            .. more,
        ];

        protected override async Task StartServicesAsync()
        {
            Node = Own(TestServices.StartNode(
                ("ConnectionStrings:redis", Store.ConnectionString), ("Node:Id", "guarded"), ("Cluster:Key", ClusterKey),
                ("Node:Packs", "core,transactions,files"), ("Node:HeartbeatInterval", "00:00:00.200"),
                ("Files:Roots:0:Name", "data"), ("Files:Roots:0:Path", Data), ("Files:Roots:0:Access", "ReadWrite")));
            Coordinator = Own(TestServices.StartCoordinator(Store.ConnectionString, CoordinatorSettings()));
            await WaitForGuardedAsync(Coordinator);
        }

        /// <summary>Waits until <paramref name="coordinator"/> routes to the node, asking <c>/api/nodes</c> as an admin.</summary>
        public async Task WaitForGuardedAsync(ServiceHost<CoordinatorOptions> coordinator)
        {
            using var http = new HttpClient();
            var admin = Tokens.Mint("admin", "mcpaspire.admin");
            await Eventually.UntilAsync(async () =>
            {
                using var response = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(coordinator.BaseUrl, "/api/nodes")).WithBearer(admin));
                return response.IsSuccessStatusCode && (await response.Content.ReadAsStringAsync()).Contains("\"guarded\"", StringComparison.Ordinal);
            });
        }

        public static string Sha256(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
    }

    private static string Call(string tool, string arguments = "{}", int id = 1) =>
        $$$"""{"jsonrpc":"2.0","id":{{{id}}},"method":"tools/call","params":{"name":"{{{tool}}}","arguments":{{{arguments}}}}}""";

    private const string ListTools = """{"jsonrpc":"2.0","id":1,"method":"tools/list"}""";

    private async Task<(HttpResponseMessage Response, JsonObject? Message)> PostAsync(string body, string? token, Uri? url = null)
    {
        var response = await _http.SendAsync(RawMcp.Post(url ?? cluster.Coordinator.McpUrl, body).WithBearer(token), Cancel);
        var text = await response.Content.ReadAsStringAsync(Cancel);
        return (response, text.Length == 0 ? null : await RawMcp.ReadMessageAsync(response));
    }

    private async Task<string[]> ToolNamesAsync(string? token)
    {
        var (response, message) = await PostAsync(ListTools, token);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return [.. message!["result"]!["tools"]!.AsArray().Select(tool => tool!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
    }

    [Fact]
    public async Task Without_a_token_the_coordinator_answers_401_pointing_at_its_resource_metadata_and_goes_on_serving()
    {
        var (response, message) = await PostAsync(RawMcp.EchoCall, token: null);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        Assert.Equal($"Bearer resource_metadata=\"{cluster.Coordinator.BaseUrl}.well-known/oauth-protected-resource/mcp\"", challenge);
        Assert.Contains("no credentials", RawMcp.ErrorMessage(message!), StringComparison.Ordinal);
        Assert.Equal("still serving", await EchoAsAsync("reader", "tools.read"));
    }

    public static TheoryData<string, string> RejectedTokens() => new()
    {
        { "wrong-audience", "not issued for this resource" },
        { "expired", "expired" },
        { "bad-signature", "signature does not verify" },
        { "not-a-jwt-at-all", "not valid" },
    };

    [Theory]
    [MemberData(nameof(RejectedTokens))]
    public async Task A_token_for_another_audience_expired_or_badly_signed_gets_401_invalid_token(string kind, string reason)
    {
        var token = kind switch
        {
            "wrong-audience" => cluster.Tokens.Mint("mallory", "tools.read", audience: "https://another.example/mcp"),
            "expired" => cluster.Tokens.Mint("mallory", "tools.read", expires: DateTimeOffset.UtcNow.AddHours(-1)),
            "bad-signature" => cluster.Tokens.Mint("mallory", "tools.read", key: RandomNumberGenerator.GetBytes(32)),
            _ => "eyJhbGciOiJIUzI1NiJ9.bm90IGpzb24.c2ln",
        };

        var (response, message) = await PostAsync(RawMcp.EchoCall, token);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.StartsWith("Bearer error=\"invalid_token\", resource_metadata=", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        Assert.Contains(reason, RawMcp.ErrorMessage(message!), StringComparison.Ordinal);
        Assert.Equal("still serving", await EchoAsAsync("reader", "tools.read"));
    }

    [Fact]
    public async Task The_protected_resource_metadata_is_an_rfc_9728_document_for_the_mcp_endpoint()
    {
        var (challenged, _) = await PostAsync(ListTools, token: null);
        var location = challenged.Headers.WwwAuthenticate.ToString().Split('"')[1];

        using var response = await _http.GetAsync(new Uri(location), Cancel);
        var document = JsonNode.Parse(await response.Content.ReadAsStringAsync(Cancel))!.AsObject();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        // RFC 9728 section 3.3: the resource is the URL the metadata's well-known URL was made from.
        Assert.Equal(cluster.Coordinator.McpUrl.ToString(), document["resource"]!.GetValue<string>());
        Assert.Equal([TestTokens.Issuer], document["authorization_servers"]!.AsArray().Select(server => server!.GetValue<string>()));
        Assert.Equal(["header"], document["bearer_methods_supported"]!.AsArray().Select(method => method!.GetValue<string>()));
        Assert.Equal(["mcpaspire.admin", "payments", "tools.read"], document["scopes_supported"]!.AsArray().Select(scope => scope!.GetValue<string>()));
        Assert.Equal("McpAspire coordinator", document["resource_name"]!.GetValue<string>());
    }

    [Fact]
    public async Task Scopes_roles_and_packs_decide_which_tools_a_caller_lists()
    {
        Assert.Equal(["echo", "get_capabilities"], await ToolNamesAsync(cluster.Tokens.Mint("reader", "tools.read")));
        Assert.Equal(["submit_transaction"], await ToolNamesAsync(cluster.Tokens.Mint("payer", "payments")));
        Assert.Equal(["list_directory", "list_roots", "read_file", "write_file"], await ToolNamesAsync(cluster.Tokens.Mint("archivist", roles: ["Archivist"])));
        Assert.Equal(
            ["echo", "get_capabilities", "list_directory", "list_roots", "read_file", "submit_transaction", "write_file"],
            await ToolNamesAsync(cluster.Tokens.Mint("everything", "tools.read payments", roles: ["Archivist"])));
        Assert.Empty(await ToolNamesAsync(cluster.Tokens.Mint("nobody", "unrelated.scope")));
    }

    [Fact]
    public async Task A_call_to_a_tool_the_caller_may_not_use_is_refused_the_same_way_whether_or_not_it_exists()
    {
        var reader = cluster.Tokens.Mint("reader", "tools.read");

        var (_, existing) = await PostAsync(Call("write_file", """{"root":"data","path":"x.txt","content":"no"}"""), reader);
        var (_, missing) = await PostAsync(Call("write_filez", """{"root":"data","path":"x.txt","content":"no"}"""), reader);

        Assert.Equal(-32602, RawMcp.ErrorCode(existing!));
        Assert.Equal(-32602, RawMcp.ErrorCode(missing!));
        Assert.Equal(RawMcp.ErrorMessage(existing!)!.Replace("write_file", "TOOL", StringComparison.Ordinal), RawMcp.ErrorMessage(missing!)!.Replace("write_filez", "TOOL", StringComparison.Ordinal));
        Assert.Contains("not available to this caller", RawMcp.ErrorMessage(existing!), StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(cluster.Data, "x.txt")));
        Assert.Equal("still serving", await EchoAsAsync("reader", "tools.read"));
    }

    [Fact]
    public async Task A_2026_07_28_call_routed_on_its_headers_is_authorized_like_any_other()
    {
        using var request = RawMcp.Post(cluster.Coordinator.McpUrl, """{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"submit_transaction","arguments":{"transaction":{"from":"a","to":"b","amount":1,"currency":"EUR"}},"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}}""")
            .WithBearer(cluster.Tokens.Mint("reader", "tools.read"));
        request.Headers.Add("MCP-Protocol-Version", "2026-07-28");
        request.Headers.Add("Mcp-Method", "tools/call");
        request.Headers.Add("Mcp-Name", "submit_transaction");

        using var response = await _http.SendAsync(request, Cancel);
        var message = await RawMcp.ReadMessageAsync(response);

        Assert.Equal(9, message["id"]!.GetValue<int>());
        Assert.Contains("not available to this caller", RawMcp.ErrorMessage(message), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_cluster_api_needs_an_admin_scope_or_role()
    {
        async Task<HttpStatusCode> GetNodesAsync(string? token)
        {
            using var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.Coordinator.BaseUrl, "/api/nodes")).WithBearer(token), Cancel);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.Unauthorized, await GetNodesAsync(null));
        Assert.Equal(HttpStatusCode.Forbidden, await GetNodesAsync(cluster.Tokens.Mint("reader", "tools.read payments")));
        Assert.Equal(HttpStatusCode.OK, await GetNodesAsync(cluster.Tokens.Mint("operator", "mcpaspire.admin")));
        Assert.Equal(HttpStatusCode.OK, await GetNodesAsync(cluster.Tokens.Mint("entra-app", roles: ["McpAspire.Admin"])));
        using var events = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(cluster.Coordinator.BaseUrl, "/api/events")).WithBearer(cluster.Tokens.Mint("reader", "tools.read")), HttpCompletionOption.ResponseHeadersRead, Cancel);
        Assert.Equal(HttpStatusCode.Forbidden, events.StatusCode);
    }

    [Fact]
    public async Task An_api_key_works_in_its_header_or_as_a_bearer_value_and_a_wrong_or_expired_one_does_not()
    {
        async Task<HttpResponseMessage> EchoWithAsync(Func<HttpRequestMessage, HttpRequestMessage> credential) =>
            await _http.SendAsync(credential(RawMcp.Post(cluster.Coordinator.McpUrl, RawMcp.EchoCall)), Cancel);

        using var header = await EchoWithAsync(request => request.WithApiKey(Cluster.ApiKey));
        using var bearer = await EchoWithAsync(request => request.WithBearer(Cluster.ApiKey));
        using var wrong = await EchoWithAsync(request => request.WithApiKey(Cluster.ApiKey + "x"));
        using var expired = await EchoWithAsync(request => request.WithApiKey(Cluster.ExpiredApiKey));
        using var tooLong = await EchoWithAsync(request => request.WithApiKey(new string('k', 5_000)));
        using var huge = await EchoWithAsync(request => request.WithApiKey(new string('k', 100_000)));

        Assert.Equal("still serving", (await RawMcp.ReadMessageAsync(header))["result"]!["content"]![0]!["text"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, bearer.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("not one this coordinator knows", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(wrong)), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        Assert.Contains("'old-bot' expired", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(expired)), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Unauthorized, tooLong.StatusCode);
        Assert.Contains("longer than 512 characters", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(tooLong)), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, huge.StatusCode);
        Assert.Equal("still serving", await EchoAsAsync("reader", "tools.read"));
        using var submit = await _http.SendAsync(RawMcp.Post(cluster.Coordinator.McpUrl, Call("submit_transaction")).WithApiKey(Cluster.ApiKey), Cancel);
        Assert.Contains("not available to this caller", RawMcp.ErrorMessage(await RawMcp.ReadMessageAsync(submit)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_node_sees_the_real_caller_in_its_audit_records_and_keeps_each_callers_idempotency_keys_apart()
    {
        File.WriteAllText(Path.Combine(cluster.Data, "notes.txt"), "hello");
        var (_, read) = await PostAsync(Call("read_file", """{"root":"data","path":"notes.txt"}"""), cluster.Tokens.Mint("ada", roles: ["Archivist"], client: "vscode"));

        Assert.Null(read!["error"]);
        var audit = cluster.Node.Services.GetRequiredService<FileAuditLog>().Recent;
        Assert.Contains(audit, entry => entry.Who == "ada" && entry.Path == "notes.txt" && entry.Decision == "allowed");

        const string Transfer = """{"transaction":{"from":"acct-1","to":"acct-2","amount":5,"currency":"EUR"},"idempotency_key":"order-42"}""";
        async Task<JsonNode> SubmitAsync(string who)
        {
            var (_, answer) = await PostAsync(Call("submit_transaction", Transfer), cluster.Tokens.Mint(who, "payments"));
            return answer!["result"]!["structuredContent"]!;
        }

        var first = await SubmitAsync("alice");
        var retry = await SubmitAsync("alice");
        var other = await SubmitAsync("bob");

        Assert.Equal(first["transactionId"]!.GetValue<string>(), retry["transactionId"]!.GetValue<string>());
        Assert.True(retry["replayed"]!.GetValue<bool>());
        Assert.NotEqual(first["transactionId"]!.GetValue<string>(), other["transactionId"]!.GetValue<string>());
        Assert.False(other["replayed"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_caller_header_a_client_forges_never_reaches_the_node_and_a_direct_call_with_one_is_refused()
    {
        File.WriteAllText(Path.Combine(cluster.Data, "forged.txt"), "hello");
        using var forged = RawMcp.Post(cluster.Coordinator.McpUrl, Call("read_file", """{"root":"data","path":"forged.txt"}""")).WithBearer(cluster.Tokens.Mint("grace", roles: ["Archivist"]));
        forged.Headers.Add(CallerAssertion.HeaderName, "00000000.1.e30.AAAA");
        using var throughCoordinator = await _http.SendAsync(forged, Cancel);
        using var direct = RawMcp.Post(cluster.Node.McpUrl, RawMcp.EchoCall);
        direct.Headers.Add(CallerAssertion.HeaderName, "00000000.1.e30.AAAA");
        using var atNode = await _http.SendAsync(direct, Cancel);

        Assert.Null((await RawMcp.ReadMessageAsync(throughCoordinator))["error"]);
        Assert.Contains(cluster.Node.Services.GetRequiredService<FileAuditLog>().Recent, entry => entry.Who == "grace" && entry.Path == "forged.txt");
        Assert.Equal(HttpStatusCode.Unauthorized, atNode.StatusCode);
    }

    [Fact]
    public async Task A_tool_limit_answers_429_with_retry_after_and_the_request_id_and_other_callers_are_not_held()
    {
        var hasty = cluster.Tokens.Mint("hasty-archivist", roles: ["Archivist"]);
        const string List = """{"root":"data","path":"."}""";

        var (first, _) = await PostAsync(Call("list_directory", List, id: 1), hasty);
        var (second, refused) = await PostAsync(Call("list_directory", List, id: 2), hasty);
        var (other, _) = await PostAsync(Call("list_directory", List, id: 3), cluster.Tokens.Mint("calm-archivist", roles: ["Archivist"]));

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, second.StatusCode);
        Assert.True(second.Headers.RetryAfter!.Delta >= TimeSpan.FromSeconds(1));
        Assert.Equal(2, refused!["id"]!.GetValue<int>());
        Assert.Contains("its limit on 'list_directory'", RawMcp.ErrorMessage(refused), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }

    [Fact]
    public async Task One_noisy_client_is_held_to_its_limit_while_every_call_of_another_succeeds()
    {
        await using var limited = TestServices.StartCoordinator(cluster.Store.ConnectionString, cluster.CoordinatorSettings(
            ("Coordinator:RateLimits:RequestsPerSecond", "10"), ("Coordinator:RateLimits:Burst", "10"), ("Coordinator:RateLimits:ConcurrentRequests", "4")));
        await cluster.WaitForGuardedAsync(limited);
        var noisy = cluster.Tokens.Mint("noisy", "tools.read");
        var quiet = cluster.Tokens.Mint("quiet", "tools.read");
        var started = DateTimeOffset.UtcNow;

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        var flood = Enumerable.Range(0, 8).Select(async _ =>
        {
            var statuses = new List<(HttpStatusCode Status, TimeSpan? RetryAfter, int? Code)>();
            using var http = new HttpClient();
            while (!stop.IsCancellationRequested)
            {
                using var response = await http.SendAsync(RawMcp.Post(limited.McpUrl, RawMcp.EchoCall).WithBearer(noisy), CancellationToken.None);
                var message = await RawMcp.ReadMessageAsync(response);
                statuses.Add((response.StatusCode, response.Headers.RetryAfter?.Delta, RawMcp.ErrorCode(message)));
            }

            return statuses;
        }).ToArray();

        var quietAnswers = new List<(HttpStatusCode Status, string? Text)>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                using var response = await _http.SendAsync(RawMcp.Post(limited.McpUrl, RawMcp.EchoCall).WithBearer(quiet), Cancel);
                var answer = await RawMcp.ReadMessageAsync(response);
                quietAnswers.Add((response.StatusCode, answer["result"]?["content"]?[0]?["text"]?.GetValue<string>()));
                // Five a second: well within the quiet caller's own limit of ten.
                await Task.Delay(200, Cancel);
            }
        }
        finally
        {
            await stop.CancelAsync();
        }

        var noisyResults = (await Task.WhenAll(flood)).SelectMany(statuses => statuses).ToArray();
        var elapsed = DateTimeOffset.UtcNow - started;

        Assert.All(quietAnswers, answer => Assert.Equal((HttpStatusCode.OK, "still serving"), answer));
        var refused = noisyResults.Where(result => result.Status == HttpStatusCode.TooManyRequests).ToArray();
        Assert.NotEmpty(refused);
        Assert.All(refused, result => Assert.True(result.RetryAfter >= TimeSpan.FromSeconds(1) && result.Code == -32029));
        Assert.All(noisyResults, result => Assert.True(result.Status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"noisy got {result.Status}"));
        // The bucket holds 10 and refills 10 a second: more successes than that cannot have passed the limiter.
        var served = noisyResults.Count(result => result.Status == HttpStatusCode.OK);
        Assert.True(served <= 10 + (10 * Math.Ceiling(elapsed.TotalSeconds + 1)), $"{served} noisy calls served in {elapsed.TotalSeconds:0.0} s");
    }

    [Fact]
    public async Task The_official_typescript_client_completes_a_call_with_a_bearer_token()
    {
        var (seen, _) = await TypeScriptClient.RunAsync(
            Path.Combine(RepositoryRoot.Path, "tests", "interop"),
            new Dictionary<string, string> { ["MCP_BEARER_TOKEN"] = cluster.Tokens.Mint("typescript", "tools.read", client: "ts-sdk") },
            "list-and-echo.mjs", cluster.Coordinator.McpUrl.ToString(), "3");

        Assert.Equal(["echo", "get_capabilities"], seen["tools"]!.AsArray().Select(tool => tool!.GetValue<string>()));
        Assert.Equal("hello from TypeScript", seen["echo"]!.GetValue<string>());
        Assert.Equal(["guarded"], seen["nodes"]!.AsArray().Select(node => node!.GetValue<string>()));
    }

    [Fact]
    public async Task Every_tool_call_leaves_one_audit_record_in_the_otlp_logs_without_its_arguments()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var audited = TestServices.StartCoordinator(cluster.Store.ConnectionString, cluster.CoordinatorSettings(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.Endpoint.ToString()), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")));
        await cluster.WaitForGuardedAsync(audited);
        var auditor = cluster.Tokens.Mint("auditor", "tools.read", client: "audit-client");
        const string Secret = "do-not-log-this-argument";
        var traces = new List<string>();
        (string Tool, string Arguments)[] calls = [("echo", $$"""{"message":"{{Secret}}"}"""), ("get_capabilities", "{}"), ("submit_transaction", "{}"), ("no_such_tool", "{}")];
        foreach (var (tool, arguments) in calls)
        {
            using var request = RawMcp.Post(audited.McpUrl, Call(tool, arguments)).WithBearer(auditor);
            var trace = System.Diagnostics.ActivityTraceId.CreateRandom();
            traces.Add(trace.ToString());
            using var inTrace = TestTrace.Start(trace);
            using var response = await _http.SendAsync(request, Cancel);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        // Stopping the host flushes the batched log records.
        await audited.DisposeAsync();
        var records = await Eventually.WaitForAsync(() => Task.FromResult(receiver.Exports
            .Where(export => export.Path == "/v1/logs")
            .SelectMany(export => OtlpLogs.Read(export.Body))
            .Where(record => record.Scope == "McpAspire.Audit.Calls" && record.Attributes.GetValueOrDefault("Caller") == "auditor")
            .ToArray() is { Length: >= 4 } found ? found : null));

        Assert.Equal(4, records.Length);
        Assert.Equal(["echo", "get_capabilities", "no_such_tool", "submit_transaction"], records.Select(record => record.Attributes["Tool"]).Order(StringComparer.Ordinal));
        Assert.All(records, record => Assert.Equal("audit-client", record.Attributes["Client"]));
        Assert.All(records, record => Assert.Equal(record.TraceId, record.Attributes["TraceId"]));
        Assert.Equal(traces.Order(StringComparer.Ordinal), records.Select(record => record.TraceId).Order(StringComparer.Ordinal));
        var byTool = records.ToDictionary(record => record.Attributes["Tool"]);
        Assert.Equal(("guarded", "completed"), (byTool["echo"].Attributes["NodeId"], byTool["echo"].Attributes["Outcome"]));
        Assert.Equal(("none", "forbidden"), (byTool["submit_transaction"].Attributes["NodeId"], byTool["submit_transaction"].Attributes["Outcome"]));
        Assert.Equal("forbidden", byTool["no_such_tool"].Attributes["Outcome"]);
        var logs = Encoding.UTF8.GetString(receiver.Exports.Where(export => export.Path == "/v1/logs").SelectMany(export => export.Body).ToArray());
        Assert.DoesNotContain(Secret, logs, StringComparison.Ordinal);
    }

    public static TheoryData<string, string, string> BadSettings() => new()
    {
        { "Authentication:Schemes:Bearer:ValidAudiences:0", "", "Authentication:Schemes:Bearer:ValidAudiences is not set" },
        { "Authentication:Schemes:Bearer:ValidateAudience", "false", "Authentication:Schemes:Bearer:ValidateAudience is false" },
        { "Authentication:Schemes:Bearer:SigningKeys:0:Value", "c2hvcnQ=", "Authentication:Schemes:Bearer:SigningKeys:0:Value must be a base64 key of at least 32 bytes" },
        { "Authentication:Schemes:Bearer:SigningKeys:0:Issuer", "someone-else", "Authentication:Schemes:Bearer:SigningKeys:0:Issuer must be ValidIssuer" },
        { "Authentication:Schemes:Bearer:Authority", "http://login.example", "Authentication:Schemes:Bearer:Authority is plain HTTP" },
        { "Authentication:Schemes:Bearer:RequireHttpsMetadata", "maybe", "Authentication:Schemes:Bearer cannot be read" },
        { "Authentication:Schemes:ApiKey:Keys:ci-bot:Hash", "not-a-hash", "Authentication:Schemes:ApiKey:Keys:ci-bot:Hash must be the SHA-256" },
        { "Authentication:Schemes:ApiKey:Keys:ci-bot:ExpiresAt", "next tuesday", "Authentication:Schemes:ApiKey:Keys:ci-bot:ExpiresAt" },
        { "Coordinator:Authorization:Rules:readers:Tools:0", "bad name!", "Coordinator:Authorization:Rules:readers:Tools has 'bad name!'" },
        { "Coordinator:RateLimits:RequestsPerSecond", "0", "Coordinator:RateLimits:RequestsPerSecond must be between" },
        { "Coordinator:RateLimits:Tools:echo:CallsPerSecond", "0", "Coordinator:RateLimits:Tools:echo:CallsPerSecond and Burst" },
        { "Coordinator:Audit:Console", "sometimes", "Coordinator:Audit:Console must be true or false" },
    };

    [Theory]
    [MemberData(nameof(BadSettings))]
    public void A_coordinator_with_a_bad_security_setting_refuses_to_start_naming_it(string key, string value, string message)
    {
        using var coordinator = new ServiceHost<CoordinatorOptions>(cluster.CoordinatorSettings(("ConnectionStrings:redis", cluster.Store.ConnectionString), (key, value))
            .GroupBy(setting => setting.Key).ToDictionary(group => group.Key, group => group.Last().Value));

        var error = Assert.ThrowsAny<Exception>(() => coordinator.Start());

        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(false, null, true)]
    [InlineData(true, null, false)]
    [InlineData(true, "true", true)]
    [InlineData(false, "false", false)]
    public async Task Audit_records_go_to_the_console_only_while_nothing_exports_them_unless_configured(bool exported, string? setting, bool console)
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var coordinator = TestServices.StartCoordinator(cluster.Store.ConnectionString, cluster.CoordinatorSettings(
            ("OTEL_EXPORTER_OTLP_ENDPOINT", exported ? receiver.Endpoint.ToString() : null), ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf"), ("Coordinator:Audit:Console", setting)));

        var rules = coordinator.Services.GetRequiredService<IOptions<LoggerFilterOptions>>().Value.Rules;
        var keptOff = rules.Any(rule => rule.ProviderName == typeof(ConsoleLoggerProvider).FullName && rule.CategoryName == CallAudit.Category && rule.LogLevel == LogLevel.None);

        Assert.Equal(!console, keptOff);
    }

    private async Task<string> EchoAsAsync(string subject, string scopes)
    {
        var (response, message) = await PostAsync(RawMcp.EchoCall, cluster.Tokens.Mint(subject, scopes));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return message!["result"]!["content"]![0]!["text"]!.GetValue<string>();
    }
}
