using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using McpAspire.IntegrationTests.Infrastructure;
using McpAspire.McpNode.Packs.Stdio;
using McpAspire.Tests.Shared;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;

namespace McpAspire.IntegrationTests.Coordinator;

/// <summary>
/// A stdio-only MCP server nobody here wrote, <c>@modelcontextprotocol/server-memory</c> from npm, run by two bridge
/// nodes (<c>Node:Packs=stdio</c>) behind a coordinator, on a real store. Its tools are served through the cluster,
/// calls are shared between the replicas, and a child that is killed is started again while the other replica serves.
/// </summary>
public sealed class StdioBridgeTests(StdioBridgeTests.Cluster cluster) : IClassFixture<StdioBridgeTests.Cluster>, IDisposable
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    public sealed class Cluster : CoordinatorCluster
    {
        private static readonly string Interop = Path.Combine(RepositoryRoot.Path, "tests", "interop");

        public string MemoryFile { get; } = Path.Combine(Path.GetTempPath(), $"mcpaspire-memory-{Guid.NewGuid():N}.jsonl");

        public CollectedLog FirstLog { get; } = new(LogLevel.Information);

        public ServiceHost<McpAspire.McpNode.NodeOptions> First { get; private set; } = null!;

        public ServiceHost<McpAspire.McpNode.NodeOptions> Second { get; private set; } = null!;

        protected override async Task StartServicesAsync()
        {
            TypeScriptClient.Require(Interop, "@modelcontextprotocol/server-memory");
            First = Own(StartBridge("bridge-1", services => services.AddSingleton<ILoggerProvider>(FirstLog)));
            Second = Own(StartBridge("bridge-2", services: null));
            Coordinator = Own(TestServices.StartCoordinator(Store.ConnectionString, ("Coordinator:RegistryRefreshInterval", "00:00:00.200")));
            await WaitForNodesAsync("bridge-1", "bridge-2");

            // A bridge registers before its child has started; the tests begin once both serve its tools.
            using var http = new HttpClient();
            await Eventually.UntilAsync(async () =>
            {
                var nodes = JsonNode.Parse(await http.GetStringAsync(new Uri(Coordinator.BaseUrl, "/api/nodes")))!["nodes"]!.AsArray();
                return nodes.Count(node => node!["tools"]!.AsArray().Any(tool => tool!.GetValue<string>() == "read_graph")) == 2;
            });
        }

        /// <summary>The marker in the command line of a bridge's child, to find its process.</summary>
        public static string Marker(string id) => $"mcpaspire-test-{id}";

        private ServiceHost<McpAspire.McpNode.NodeOptions> StartBridge(string id, Action<IServiceCollection>? services) => TestServices.StartNode(
            services,
            ("ConnectionStrings:redis", Store.ConnectionString),
            ("Node:Id", id),
            ("Node:Packs", "stdio"),
            ("Node:HeartbeatInterval", "00:00:00.200"),
            ("Stdio:Command", "node"),
            ("Stdio:Args:0", Path.Combine(Interop, "node_modules", "@modelcontextprotocol", "server-memory", "dist", "index.js")),
            ("Stdio:Args:1", Marker(id)),
            ("Stdio:Env:MEMORY_FILE_PATH", MemoryFile),
            ("Stdio:RestartDelay", "00:00:00.200"),
            ("Logging:LogLevel:McpAspire.McpNode.Packs.Stdio", "Information"));

        public override async ValueTask DisposeAsync()
        {
            await base.DisposeAsync();
            File.Delete(MemoryFile);
        }
    }

    private static readonly string[] Observations = ["wrote the first program"];

    private Uri McpUrl => new(cluster.Coordinator.BaseUrl, "/mcp");

    [Fact]
    public async Task The_stdio_servers_tools_are_served_through_the_coordinator_in_the_stdio_pack()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl);

        var tools = await client.ListToolsAsync(cancellationToken: Cancel);

        Assert.Contains(tools, tool => tool.Name == "create_entities");
        var readGraph = Assert.Single(tools, tool => tool.Name == "read_graph");
        Assert.Equal(StdioPack.Name, readGraph.ProtocolTool.Meta?[McpAspire.Cluster.ToolCatalog.PackMetaKey]?.GetValue<string>());
    }

    [Fact]
    public async Task What_one_call_writes_the_next_reads_through_either_replica()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl);
        var entity = $"Ada-{Guid.NewGuid():N}";

        var created = await client.CallToolAsync("create_entities", new Dictionary<string, object?>
        {
            ["entities"] = new[] { new { name = entity, entityType = "person", observations = Observations } },
        }, cancellationToken: Cancel);
        var found = await client.CallToolAsync("search_nodes", new Dictionary<string, object?> { ["query"] = entity }, cancellationToken: Cancel);

        Assert.NotEqual(true, created.IsError);
        Assert.Contains("wrote the first program", Assert.IsType<TextContentBlock>(found.Content[0]).Text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Calls_are_shared_between_the_replicas()
    {
        await using var client = await OfficialClient.ConnectAsync(McpUrl);
        var before = await RoutedAsync();

        for (var i = 0; i < 40; i++)
        {
            Assert.NotEqual(true, (await client.CallToolAsync("read_graph", cancellationToken: Cancel)).IsError);
        }

        var after = await RoutedAsync();
        Assert.True(after["bridge-1"] > before["bridge-1"], "bridge-1 got none of 40 calls");
        Assert.True(after["bridge-2"] > before["bridge-2"], "bridge-2 got none of 40 calls");
    }

    [Fact]
    public async Task The_childs_stderr_is_in_the_nodes_log() =>
        await Eventually.UntilAsync(() => Task.FromResult(cluster.FirstLog.Messages.Any(message =>
            message.StartsWith("stderr: ", StringComparison.Ordinal) && message.Contains("Knowledge Graph MCP Server", StringComparison.Ordinal))));

    [Fact]
    public async Task A_killed_child_is_started_again_while_the_other_replica_serves()
    {
        var bridge = cluster.First.Services.GetRequiredService<StdioBridge>();
        var restarts = bridge.Restarts;
        await using var client = await OfficialClient.ConnectAsync(McpUrl);

        await KillChildAsync("bridge-1");

        // While bridge-1 is down, its tools leave it, and every call goes to bridge-2.
        await Eventually.UntilAsync(async () => bridge.Restarts > restarts || (await ToolsOfAsync("bridge-1")).Count == 0);
        for (var i = 0; i < 10; i++)
        {
            Assert.NotEqual(true, (await client.CallToolAsync("read_graph", cancellationToken: Cancel)).IsError);
        }

        await Eventually.UntilAsync(async () => bridge.Restarts > restarts && (await ToolsOfAsync("bridge-1")).Contains("read_graph"));
        using var health = await _http.GetAsync(new Uri(cluster.First.BaseUrl, "/health"), Cancel);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Contains(cluster.FirstLog.Messages, message => message.Contains("is down", StringComparison.Ordinal) && message.Contains("its tools are withdrawn", StringComparison.Ordinal));
    }

    private static async Task KillChildAsync(string id)
    {
        using var find = Process.Start(new ProcessStartInfo("pgrep", ["-f", Cluster.Marker(id)]) { RedirectStandardOutput = true })!;
        var pids = (await find.StandardOutput.ReadToEndAsync(Cancel)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        await find.WaitForExitAsync(Cancel);
        var pid = Assert.Single(pids);
        using var kill = Process.Start("kill", ["-KILL", pid]);
        await kill.WaitForExitAsync(Cancel);
        Assert.Equal(0, kill.ExitCode);
    }

    private async Task<List<string>> ToolsOfAsync(string id)
    {
        var nodes = JsonNode.Parse(await _http.GetStringAsync(new Uri(cluster.Coordinator.BaseUrl, "/api/nodes"), Cancel))!;
        var node = nodes["nodes"]!.AsArray().SingleOrDefault(item => item!["id"]!.GetValue<string>() == id);
        return node is null ? [] : [.. node["tools"]!.AsArray().Select(tool => tool!.GetValue<string>())];
    }

    private async Task<Dictionary<string, long>> RoutedAsync()
    {
        var nodes = JsonNode.Parse(await _http.GetStringAsync(new Uri(cluster.Coordinator.BaseUrl, "/api/nodes"), Cancel))!;
        return nodes["nodes"]!.AsArray().ToDictionary(node => node!["id"]!.GetValue<string>(), node => node!["callsRouted"]!.GetValue<long>());
    }
}
