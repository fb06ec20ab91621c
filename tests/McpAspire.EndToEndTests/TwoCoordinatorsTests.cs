using System.Net;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using McpAspire.AppHost.Hosting;

namespace McpAspire.EndToEndTests;

/// <summary>
/// Two coordinator processes on one Redis, sharing a session key, in front of stateful nodes: any replica
/// serves any client, and a session opened on one goes on through the other.
/// </summary>
public sealed class TwoCoordinatorsTests
{
    private const string Initialize = """{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_replicas_list_the_same_tools_and_a_session_opened_on_one_continues_on_the_other()
    {
        var sink = new TestLogSink();
        var options = new ClusterOptions { Nodes = 2, CoordinatorPort = 0 };
        options.Environment["Mcp__Stateless"] = "false";
        options.Environment["Node__Packs"] = "core,data";
        options.Environment["Coordinator__SessionKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        await using var cluster = await McpCluster.StartAsync(options, sink, Cancel);
        await using var second = await StartSecondCoordinatorAsync(cluster, options, sink);
        using var http = new HttpClient();
        await ClusterApiProbe.WaitForNodesAsync(http, cluster, 2);
        var secondMcp = new Uri(second.Url!);

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

    /// <summary>Starts another coordinator process exactly as the cluster's own, on a port of its own.</summary>
    private static async Task<ResourceProcess> StartSecondCoordinatorAsync(McpCluster cluster, ClusterOptions options, TestLogSink sink)
    {
        var assembly = ServiceProjects.Assemblies["McpAspire.McpCoordinator"];
        var baseUrl = new Uri($"http://127.0.0.1:{PortAllocator.GetFreePort()}");
        var environment = new Dictionary<string, string>(options.Environment)
        {
            ["ASPNETCORE_URLS"] = baseUrl.ToString().TrimEnd('/'),
            ["ConnectionStrings__redis"] = cluster.StoreConnectionString,
        };
        var coordinator = ResourceProcess.Start("coordinator-2", "project", "dotnet", [assembly], environment, Path.GetDirectoryName(assembly)!, sink);
        coordinator.Url = new Uri(baseUrl, "/mcp").ToString();
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            try
            {
                var nodes = JsonNode.Parse(await http.GetStringAsync(new Uri(baseUrl, "/api/nodes"), Cancel))!["nodes"]!.AsArray();
                if (nodes.Count == options.Nodes)
                {
                    return coordinator;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            Assert.False(coordinator.Exited.IsCompleted, $"the second coordinator exited: {string.Join('\n', coordinator.RecentOutput)}");
            Assert.True(DateTime.UtcNow < deadline, "the second coordinator did not list the nodes within 60 s");
            await Task.Delay(100, Cancel);
        }
    }

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
