using System.Security.Cryptography;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.Tests.Shared;

namespace McpAspire.IntegrationTests.Coordinator;

/// <summary>
/// The official MCP conformance suite against a stateful coordinator with authentication on, every request carrying a
/// real token: the suite's CLI sends no headers of its own, so a loopback hop adds the token.
/// </summary>
public sealed class ConformanceWithTokenTests
{
    [Fact]
    public async Task Every_active_scenario_passes_through_a_coordinator_that_requires_tokens()
    {
        var clusterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var tokens = new TestTokens();
        await using var store = await StoreServer.StartGarnetAsync();
        await using var node = TestServices.StartNode(
            ("ConnectionStrings:redis", store.ConnectionString), ("Node:Id", "conformance"), ("Node:HeartbeatInterval", "00:00:00.200"),
            ("Node:Packs", "core,conformance"), ("Mcp:Stateless", "false"), ("Cluster:Key", clusterKey));
        await using var coordinator = TestServices.StartCoordinator(
            store.ConnectionString,
            [
                .. tokens.Settings,
                ("Mcp:Stateless", "false"), ("Coordinator:SessionKey", Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))),
                ("Coordinator:RegistryRefreshInterval", "00:00:00.100"), ("Cluster:Key", clusterKey),
            ]);
        await using var proxy = await TokenProxy.StartAsync(coordinator.McpUrl, tokens.Mint("conformance-suite", "mcpaspire.admin"));
        using var http = new HttpClient();
        await Eventually.UntilAsync(async () =>
        {
            using var nodes = await http.SendAsync(new HttpRequestMessage(HttpMethod.Get, new Uri(coordinator.BaseUrl, "/api/nodes")).WithBearer(tokens.Mint("admin", "mcpaspire.admin")));
            return (await nodes.Content.ReadAsStringAsync()).Contains("\"conformance\"", StringComparison.Ordinal);
        });
        using var anonymous = await http.SendAsync(RawMcp.Post(coordinator.McpUrl, RawMcp.EchoCall), TestContext.Current.CancellationToken);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, anonymous.StatusCode);

        await ConformanceSuite.RequirePassAsync(Path.Combine(RepositoryRoot.Path, "tests", "interop"), proxy.McpUrl);
    }
}
