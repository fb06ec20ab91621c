using System.Text.Json.Nodes;
using McpAspire.AppHost.Hosting;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAspire.EndToEndTests;

/// <summary>The whole system as real processes, started through the AppHost's library.</summary>
public sealed class ClusterTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_official_client_lists_tools_and_echo_runs_on_every_node_then_no_process_is_left()
    {
        var options = new ClusterOptions { Nodes = 3, CoordinatorPort = 0 };
        options.Environment["Node__MaxConcurrentCalls"] = "32";
        var cluster = await McpCluster.StartAsync(options, new TestLogSink(), Cancel);
        int[] pids;
        try
        {
            pids = [.. cluster.Resources.Select(resource => resource.ProcessId)];
            Assert.Equal(5, pids.Length);
            Assert.All(cluster.Resources, resource => Assert.Equal(ResourceState.Healthy, resource.State));
            using var http = new HttpClient();
            await ClusterApiProbe.WaitForNodesAsync(http, cluster, 3);

            await using var client = await McpClient.CreateAsync(
                new HttpClientTransport(new HttpClientTransportOptions { Endpoint = cluster.CoordinatorMcpUrl, TransportMode = HttpTransportMode.StreamableHttp }),
                cancellationToken: Cancel);
            var tools = await client.ListToolsAsync(cancellationToken: Cancel);
            Assert.Equal(["echo", "get_capabilities"], tools.Select(tool => tool.Name));

            // Routing is randomised, so call until every node has served echo (200 calls leave no real chance of missing one).
            var calls = 0;
            while (calls < 200 && (await ClusterApiProbe.RoutedCallsAsync(http, cluster)).Values.Any(count => count == 0))
            {
                var result = await client.CallToolAsync("echo", new Dictionary<string, object?> { ["message"] = $"call {calls}" }, cancellationToken: Cancel);
                Assert.Equal($"call {calls}", Assert.IsType<TextContentBlock>(Assert.Single(result.Content)).Text);
                calls++;
            }

            var counts = await ClusterApiProbe.RoutedCallsAsync(http, cluster);
            Assert.Equal(["node-1", "node-2", "node-3"], counts.Keys.Order());
            Assert.All(counts.Values, count => Assert.True(count > 0, "every node must have served echo"));
            var nodes = JsonNode.Parse(await http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/api/nodes"), Cancel))!["nodes"]!.AsArray();
            Assert.All(nodes, node => Assert.Equal(32, node!["maxConcurrency"]!.GetValue<int>()));
        }
        finally
        {
            await cluster.DisposeAsync();
        }

        Assert.All(pids, pid => Assert.False(ProcessProbe.IsRunning(pid), $"process {pid} outlived the cluster"));
        Assert.All(cluster.Resources, resource => Assert.Equal(ResourceState.Stopped, resource.State));
    }

    [Fact]
    public async Task An_unreachable_external_store_fails_the_start_with_the_reason()
    {
        var port = PortAllocator.GetFreePort();

        var error = await Assert.ThrowsAsync<ClusterStartException>(() =>
            McpCluster.StartAsync(new ClusterOptions { Store = $"127.0.0.1:{port}", StartupTimeout = TimeSpan.FromSeconds(2) }, new TestLogSink(), Cancel));

        Assert.Contains($"The store at 127.0.0.1:{port} did not answer within 2 s", error.Message, StringComparison.Ordinal);
        Assert.Contains("Connection refused", error.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_resource_that_cannot_start_fails_the_start_with_its_output_and_leaves_nothing_running()
    {
        var before = ProcessProbe.ChildrenOf(Environment.ProcessId);
        using var blocker = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        blocker.Start();
        var takenPort = ((System.Net.IPEndPoint)blocker.LocalEndpoint).Port;

        var error = await Assert.ThrowsAsync<ClusterStartException>(() =>
            McpCluster.StartAsync(new ClusterOptions { Nodes = 1, CoordinatorPort = takenPort }, new TestLogSink(), Cancel));

        Assert.Contains("coordinator exited before it became healthy", error.Message, StringComparison.Ordinal);
        Assert.Contains("address already in use", error.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(ProcessProbe.ChildrenOf(Environment.ProcessId).Except(before));
    }
}
