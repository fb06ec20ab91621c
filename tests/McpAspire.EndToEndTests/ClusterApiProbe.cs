using System.Text.Json.Nodes;

namespace McpAspire.EndToEndTests;

/// <summary>Reads the coordinator's <c>/api/nodes</c>.</summary>
internal static class ClusterApiProbe
{
    /// <summary>Calls routed per node, by node id.</summary>
    public static Task<Dictionary<string, long>> RoutedCallsAsync(HttpClient http, TestCluster cluster) => RoutedCallsAsync(http, cluster.CoordinatorUrl);

    /// <summary>Calls routed per node, by node id, as the coordinator at <paramref name="coordinator"/> counts them.</summary>
    public static async Task<Dictionary<string, long>> RoutedCallsAsync(HttpClient http, Uri coordinator)
    {
        var body = JsonNode.Parse(await http.GetStringAsync(new Uri(coordinator, "/api/nodes"), TestContext.Current.CancellationToken))!;
        return body["nodes"]!.AsArray().ToDictionary(node => node!["id"]!.GetValue<string>(), node => node!["callsRouted"]!.GetValue<long>());
    }

    /// <summary>Waits until the coordinator's registry lists at least <paramref name="expected"/> nodes, failing after 30 s.</summary>
    public static Task WaitForNodesAsync(HttpClient http, TestCluster cluster, int expected) => WaitForNodesAsync(http, cluster.CoordinatorUrl, expected);

    /// <summary>Waits until the coordinator at <paramref name="coordinator"/> lists at least <paramref name="expected"/> nodes, failing after 30 s.</summary>
    public static Task WaitForNodesAsync(HttpClient http, Uri coordinator, int expected) =>
        WaitForNodeCountAsync(http, coordinator, count => count >= expected, $"at least {expected} nodes");

    /// <summary>Waits until the number of nodes the coordinator lists satisfies <paramref name="condition"/>, failing after 30 s.</summary>
    public static Task WaitForNodeCountAsync(HttpClient http, TestCluster cluster, Func<int, bool> condition, string description) =>
        WaitForNodeCountAsync(http, cluster.CoordinatorUrl, condition, description);

    private static async Task WaitForNodeCountAsync(HttpClient http, Uri coordinator, Func<int, bool> condition, string description)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition((await RoutedCallsAsync(http, coordinator)).Count))
        {
            Assert.True(DateTime.UtcNow < deadline, $"The coordinator at {coordinator} did not list {description} within 30 s.");
            await Task.Delay(100, TestContext.Current.CancellationToken);
        }
    }

    /// <summary>Each listed node's status, by node id.</summary>
    public static async Task<Dictionary<string, string>> StatusesAsync(HttpClient http, TestCluster cluster)
    {
        var body = JsonNode.Parse(await http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/api/nodes"), TestContext.Current.CancellationToken))!;
        return body["nodes"]!.AsArray().ToDictionary(node => node!["id"]!.GetValue<string>(), node => node!["status"]!.GetValue<string>());
    }
}
