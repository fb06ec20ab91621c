using McpAspire.AppHost.Hosting;

namespace McpAspire.EndToEndTests;

/// <summary>Starts clusters of real processes for a test, ready to route.</summary>
internal static class ReadyClusters
{
    /// <summary>
    /// Starts <paramref name="nodes"/> nodes and a coordinator on a free port, with <paramref name="environment"/> for
    /// every service, and waits until the coordinator lists them all.
    /// </summary>
    public static async Task<McpCluster> StartAsync(int nodes, TestLogSink sink, params (string Key, string Value)[] environment)
    {
        var options = new ClusterOptions { Nodes = nodes, CoordinatorPort = 0 };
        foreach (var (key, value) in environment)
        {
            options.Environment[key] = value;
        }

        var cluster = await McpCluster.StartAsync(options, sink, TestContext.Current.CancellationToken);
        using var http = new HttpClient();
        await ClusterApiProbe.WaitForNodesAsync(http, cluster, nodes);
        return cluster;
    }
}
