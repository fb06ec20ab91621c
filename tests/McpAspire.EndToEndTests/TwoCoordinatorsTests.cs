using System.Net;
using System.Text.Json.Nodes;
using Aspire.Hosting;
using Aspire.Hosting.ApplicationModel;
using McpAspire.AppHost.Hosting;

namespace McpAspire.EndToEndTests;

/// <summary>
/// Two coordinator processes on one Redis, sharing the AppHost's generated cluster and session keys, in front of stateful
/// nodes: any replica serves any client, and a session opened on one goes on through the other.
/// </summary>
public sealed class TwoCoordinatorsTests
{
    private const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_replicas_list_the_same_tools_and_a_session_opened_on_one_continues_on_the_other()
    {
        await using var cluster = await TestCluster.StartAsync(
            2,
            [],
            // A second replica, added to the application model as a user would: the same store and keys.
            builder => builder.AddCoordinator(
                "coordinator-2",
                port: 0,
                builder.CreateResourceBuilder<IResourceWithConnectionString>("redis"),
                builder.CreateResourceBuilder<ParameterResource>("cluster-key"),
                builder.CreateResourceBuilder<ParameterResource>("session-key")),
            ("Mcp__Stateless", "false"),
            ("Node__Packs", "core,data"));
        using var http = new HttpClient();
        var secondMcp = cluster.McpUrlOf("coordinator-2");
        await ClusterApiProbe.WaitForNodesAsync(http, cluster.UrlOf("coordinator-2"), 2);

        var session = await OpenSessionAsync(http, cluster.CoordinatorMcpUrl);
        var toolsOnFirst = await ToolNamesAsync(http, cluster.CoordinatorMcpUrl, session);
        var toolsOnSecond = await ToolNamesAsync(http, secondMcp, session);
        var nodeOnFirst = await NodeOfCallAsync(http, cluster.CoordinatorMcpUrl, session);
        var nodeOnSecond = await NodeOfCallAsync(http, secondMcp, session);
        using var deleteRequest = new HttpRequestMessage(HttpMethod.Delete, secondMcp);
        deleteRequest.Headers.Add("Mcp-Session-Id", session);
        using var end = await http.SendAsync(deleteRequest, Cancel);
        using var after = await http.SendAsync(McpPost.To(cluster.CoordinatorMcpUrl, ToolsList, session), Cancel);

        Assert.Equal(await RegistryToolsAsync(http, cluster.CoordinatorUrl), await RegistryToolsAsync(http, new Uri(secondMcp, "/")));
        Assert.Equal(["echo", "get_capabilities", "process_dataset"], toolsOnFirst);
        Assert.Equal(toolsOnFirst, toolsOnSecond);
        Assert.Equal(nodeOnFirst, nodeOnSecond);
        Assert.Equal(HttpStatusCode.OK, end.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, after.StatusCode);
    }

    private const string ToolsList = """{"jsonrpc":"2.0","id":2,"method":"tools/list","params":{}}""";

    /// <summary>Each node and its tools, as a replica's registry has them.</summary>
    private static async Task<string[]> RegistryToolsAsync(HttpClient http, Uri coordinator)
    {
        var nodes = JsonNode.Parse(await http.GetStringAsync(new Uri(coordinator, "/api/nodes"), Cancel))!["nodes"]!.AsArray();
        return [.. nodes.Select(node => $"{node!["id"]}: {string.Join(',', node!["tools"]!.AsArray().Select(tool => tool!.GetValue<string>()))}").Order(StringComparer.Ordinal)];
    }

    private static async Task<string> OpenSessionAsync(HttpClient http, Uri url)
    {
        using var response = await http.SendAsync(McpPost.To(url, Initialize), Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var session = response.Headers.GetValues("Mcp-Session-Id").Single();
        using var initialized = await http.SendAsync(McpPost.To(url, """{"jsonrpc":"2.0","method":"notifications/initialized"}""", session), Cancel);
        Assert.Equal(HttpStatusCode.Accepted, initialized.StatusCode);
        return session;
    }

    private static async Task<string[]> ToolNamesAsync(HttpClient http, Uri url, string session)
    {
        var result = await ResultAsync(http, url, session, ToolsList);
        return [.. result["tools"]!.AsArray().Select(tool => tool!["name"]!.GetValue<string>()).Order(StringComparer.Ordinal)];
    }

    private static async Task<string> NodeOfCallAsync(HttpClient http, Uri url, string session)
    {
        var result = await ResultAsync(http, url, session, """{"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"get_capabilities","arguments":{}}}""");
        return result["structuredContent"]!["nodeId"]!.GetValue<string>();
    }

    private static async Task<JsonNode> ResultAsync(HttpClient http, Uri url, string session, string body)
    {
        using var response = await http.SendAsync(McpPost.To(url, body, session), Cancel);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await McpPost.LastMessageAsync(response))["result"]!;
    }
}
