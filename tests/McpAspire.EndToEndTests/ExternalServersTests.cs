using System.Globalization;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using McpAspire.Tests.Shared;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAspire.EndToEndTests;

/// <summary>
/// Servers nobody here wrote, put behind the coordinator by the AppHost from its own configuration, as a user would:
/// <c>@modelcontextprotocol/server-everything</c> over Streamable HTTP (prefixed <c>everything_</c>, its tool
/// <c>echo</c> clashing with the nodes') and the stdio-only <c>@modelcontextprotocol/server-memory</c> in a bridge
/// node. DCP runs them as resources with health, next to the store, the coordinator and two nodes.
/// </summary>
public sealed class ExternalServersTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Third_party_servers_are_resources_with_health_and_their_tools_resources_and_prompts_are_served_next_to_the_nodes()
    {
        TypeScriptClient.Require(Repository.InteropDirectory, "@modelcontextprotocol/server-everything");
        TypeScriptClient.Require(Repository.InteropDirectory, "@modelcontextprotocol/server-memory");
        var port = FreePort();
        var memoryFile = Path.Combine(Path.GetTempPath(), $"mcpaspire-e2e-memory-{Guid.NewGuid():N}.jsonl");
        var packages = Path.Combine(Repository.InteropDirectory, "node_modules", "@modelcontextprotocol");
        try
        {
            await using var cluster = await TestCluster.StartAsync(
                2,
                [
                    "--McpServers:everything:Command=node",
                    "--McpServers:everything:Args:0=--require",
                    $"--McpServers:everything:Args:1={Path.Combine(Repository.InteropDirectory, "loopback.cjs")}",
                    $"--McpServers:everything:Args:2={Path.Combine(packages, "server-everything", "dist", "index.js")}",
                    "--McpServers:everything:Args:3=streamableHttp",
                    $"--McpServers:everything:Port={port.ToString(CultureInfo.InvariantCulture)}",
                    "--McpServers:everything:Prefix=everything_",
                    "--McpServers:memory:Transport=stdio",
                    "--McpServers:memory:Command=node",
                    $"--McpServers:memory:Args:0={Path.Combine(packages, "server-memory", "dist", "index.js")}",
                    $"--McpServers:memory:Env:MEMORY_FILE_PATH={memoryFile}",
                ],
                model: null,
                ("Coordinator__Servers__everything__HealthInterval", "00:00:01"));

            // The dashboard's view: both are resources, and healthy.
            Assert.Contains("memory", cluster.ResourceNames);
            await cluster.WaitForHealthyAsync("everything");
            await cluster.WaitForHealthyAsync("memory");

            await using var client = await McpClient.CreateAsync(
                new HttpClientTransport(new HttpClientTransportOptions { Endpoint = cluster.CoordinatorMcpUrl, TransportMode = HttpTransportMode.StreamableHttp }),
                cancellationToken: Cancel);
            var names = await WaitForToolsAsync(client, present: ["everything_echo", "read_graph", "echo"]);
            Assert.Contains("get_capabilities", names);
            Assert.DoesNotContain(names, name => name == "get-sum");

            // Calls go to each: the prefixed name to the HTTP server under its own, the clash to the nodes.
            var theirs = await client.CallToolAsync("everything_echo", new Dictionary<string, object?> { ["message"] = "from the e2e" }, cancellationToken: Cancel);
            var ours = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = "from the e2e" }, cancellationToken: Cancel);
            var graph = await client.CallToolAsync("read_graph", cancellationToken: Cancel);
            Assert.Equal("Echo: from the e2e", Assert.IsType<TextContentBlock>(Assert.Single(theirs.Content)).Text);
            Assert.DoesNotContain("Echo: ", Assert.IsType<TextContentBlock>(Assert.Single(ours.Content)).Text, StringComparison.Ordinal);
            Assert.NotEqual(true, graph.IsError);

            // Beyond tools, through the stateless coordinator.
            var resources = await client.ListResourcesAsync(cancellationToken: Cancel);
            var prompts = await client.ListPromptsAsync(cancellationToken: Cancel);
            Assert.Contains(resources, resource => resource.Uri == "demo://resource/static/document/architecture.md");
            Assert.Contains(prompts, prompt => prompt.Name == "everything_simple-prompt");
            var read = await client.ReadResourceAsync("demo://resource/dynamic/text/3", cancellationToken: Cancel);
            Assert.StartsWith("Resource 3:", Assert.IsType<TextResourceContents>(Assert.Single(read.Contents)).Text, StringComparison.Ordinal);

            // A killed server leaves when its probe (every second here) finds it gone, and comes back when it runs again.
            await cluster.SignalAsync("everything", "KILL");
            await WaitForToolsAsync(client, present: ["read_graph", "echo"], absent: "everything_echo");
            using (var http = new HttpClient())
            {
                var nodes = JsonNode.Parse(await http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/api/nodes"), Cancel))!;
                var everything = nodes["servers"]!.AsArray().Single(server => server!["name"]!.GetValue<string>() == "everything")!;
                Assert.False(everything["up"]!.GetValue<bool>());
                Assert.Contains("refused", everything["reason"]!.GetValue<string>(), StringComparison.OrdinalIgnoreCase);
            }

            await cluster.ExecuteCommandAsync("everything", Aspire.Hosting.ApplicationModel.KnownResourceCommands.StartCommand);
            await WaitForToolsAsync(client, present: ["everything_echo"]);
            var back = await client.CallToolAsync("everything_echo", new Dictionary<string, object?> { ["message"] = "back" }, cancellationToken: Cancel);
            Assert.Equal("Echo: back", Assert.IsType<TextContentBlock>(Assert.Single(back.Content)).Text);
        }
        finally
        {
            File.Delete(memoryFile);
        }
    }

    /// <summary>Lists the tools until every one of <paramref name="present"/> is there and <paramref name="absent"/> is not, failing after 30 s.</summary>
    private static async Task<List<string>> WaitForToolsAsync(McpClient client, string[] present, string? absent = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var names = (await client.ListToolsAsync(cancellationToken: Cancel)).Select(tool => tool.Name).ToList();
            if (present.All(names.Contains) && (absent is null || !names.Contains(absent)))
            {
                return names;
            }

            Assert.True(DateTime.UtcNow < deadline, $"After 30 s the coordinator lists {string.Join(", ", names)}; expected {string.Join(", ", present)}{(absent is null ? string.Empty : $" and not {absent}")}.");
            await Task.Delay(200, Cancel);
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
