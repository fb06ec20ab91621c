using McpAspire.AppHost.Hosting;

namespace McpAspire.EndToEndTests;

/// <summary>The dashboard's Drain and Resume commands on a node, run through Aspire's command service against real processes.</summary>
public sealed class DrainCommandTests
{
    private const string Echo = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo","arguments":{"message":"routed"}}}""";

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Drain_keeps_calls_away_from_a_running_node_and_resume_brings_it_back()
    {
        await using var cluster = await TestCluster.StartAsync(2, ("Node__HeartbeatInterval", "00:00:00.500"));
        using var http = new HttpClient();

        var drained = await cluster.ExecuteCommandAsync("node-1", NodeDrainCommands.Drain);
        Assert.True(drained.Success, drained.Message);
        await WaitForStatusAsync(http, cluster, "node-1", "draining");
        var before = await ClusterApiProbe.RoutedCallsAsync(http, cluster);
        for (var i = 0; i < 20; i++)
        {
            using var response = await http.SendAsync(McpPost.To(cluster.CoordinatorMcpUrl, Echo), Cancel);
            Assert.Contains("routed", (await McpPost.LastMessageAsync(response)).ToJsonString(), StringComparison.Ordinal);
        }

        var during = await ClusterApiProbe.RoutedCallsAsync(http, cluster);
        Assert.Equal(before["node-1"], during["node-1"]);
        Assert.Equal(before["node-2"] + 20, during["node-2"]);
        Assert.Null(cluster.ExitCodeOrNull("node-1"));

        var resumed = await cluster.ExecuteCommandAsync("node-1", NodeDrainCommands.Resume);
        Assert.True(resumed.Success, resumed.Message);
        await WaitForStatusAsync(http, cluster, "node-1", "ready");
        var resumedCalls = 0;
        while ((await ClusterApiProbe.RoutedCallsAsync(http, cluster))["node-1"] == during["node-1"])
        {
            Assert.True(++resumedCalls <= 100, "no call reached node-1 in 100 calls after it resumed");
            using var response = await http.SendAsync(McpPost.To(cluster.CoordinatorMcpUrl, Echo), Cancel);
            Assert.Contains("routed", (await McpPost.LastMessageAsync(response)).ToJsonString(), StringComparison.Ordinal);
        }

        // The AppHost gives the cluster a key, so a node takes calls only through the coordinator.
        using var direct = await http.SendAsync(McpPost.To(cluster.McpUrlOf("node-1"), Echo), Cancel);
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, direct.StatusCode);
    }

    private static async Task WaitForStatusAsync(HttpClient http, TestCluster cluster, string node, string status)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await ClusterApiProbe.StatusesAsync(http, cluster)).GetValueOrDefault(node) != status)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{node} was not '{status}' within 30 s");
            await Task.Delay(100, Cancel);
        }
    }
}
