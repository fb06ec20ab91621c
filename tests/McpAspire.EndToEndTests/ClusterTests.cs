using System.Text.Json.Nodes;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAspire.EndToEndTests;

/// <summary>The AppHost's whole system as real processes under DCP, started through Aspire.Hosting.Testing.</summary>
public sealed class ClusterTests
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_official_client_lists_tools_and_echo_runs_on_every_node_then_no_process_is_left()
    {
        int[] pids;
        await using (var cluster = await TestCluster.StartAsync(3, ("Node__MaxConcurrentCalls", "32")))
        {
            Assert.Equal(["redis", "coordinator", "node-1", "node-2", "node-3"], cluster.ResourceNames);
            pids = await Task.WhenAll(cluster.ResourceNames.Select(cluster.ProcessIdAsync));
            Assert.All(pids, pid => Assert.True(ProcessProbe.IsRunning(pid)));
            using var http = new HttpClient();

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

        await ProcessProbe.WaitUntilGoneAsync(pids, TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task The_store_gets_a_password_and_a_client_without_it_is_refused()
    {
        await using var cluster = await TestCluster.StartAsync(1);
        var connectionString = await cluster.ConnectionStringAsync("redis");

        Assert.Matches(@"^127\.0\.0\.1:\d+,password=[A-Za-z0-9]{32,}$", connectionString);
        var port = int.Parse(connectionString[(connectionString.IndexOf(':', StringComparison.Ordinal) + 1)..connectionString.IndexOf(',', StringComparison.Ordinal)], System.Globalization.CultureInfo.InvariantCulture);
        Assert.StartsWith("-NOAUTH", await RespProbe.SendAsync(port, "PING"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Five_nodes_run_on_redis_server_from_PATH()
    {
        ProcessProbe.RequireProgram("redis-server", "apt-get install redis-server");

        await using var cluster = await TestCluster.StartAsync(5, ["--store", "redis"], null);

        var store = await cluster.ProcessIdAsync("redis");
        Assert.StartsWith("redis-server", await File.ReadAllTextAsync($"/proc/{store}/comm", Cancel), StringComparison.Ordinal);
        using var http = new HttpClient();
        Assert.Equal(["node-1", "node-2", "node-3", "node-4", "node-5"], (await ClusterApiProbe.RoutedCallsAsync(http, cluster)).Keys.Order());
    }

    [Fact]
    public async Task An_external_store_given_as_a_connection_string_is_used_and_checked()
    {
        await using var external = await ExternalGarnet.StartAsync("s3cret-for-the-test");

        await using var cluster = await TestCluster.StartAsync(1, ["--store", external.ConnectionString], null);

        Assert.Equal(["coordinator", "node-1"], cluster.ResourceNames);
        Assert.Equal(external.ConnectionString, await cluster.ConnectionStringAsync("redis"));
        Assert.Contains("node:node-1", await RespProbe.SendAsync(external.Port, "AUTH s3cret-for-the-test", "KEYS *"), StringComparison.Ordinal);
    }
}
