using System.Text.Json.Nodes;
using McpAspire.AppHost.Hosting;

namespace McpAspire.EndToEndTests;

/// <summary>Reads the coordinator's <c>/api/nodes</c>.</summary>
internal static class ClusterApiProbe
{
    /// <summary>Calls routed per node, by node id.</summary>
    public static async Task<Dictionary<string, long>> RoutedCallsAsync(HttpClient http, McpCluster cluster)
    {
        var body = JsonNode.Parse(await http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/api/nodes"), TestContext.Current.CancellationToken))!;
        return body["nodes"]!.AsArray().ToDictionary(node => node!["id"]!.GetValue<string>(), node => node!["callsRouted"]!.GetValue<long>());
    }

    /// <summary>Waits until the coordinator's registry lists <paramref name="expected"/> nodes, failing after 30 s.</summary>
    public static async Task WaitForNodesAsync(HttpClient http, McpCluster cluster, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await RoutedCallsAsync(http, cluster)).Count < expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"The coordinator did not see {expected} nodes within 30 s.");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }
}
