using McpAspire.AppHost.Hosting;

/// <summary>A cluster of real processes for <c>--target gateway</c>: Garnet, the coordinator and one node.</summary>
internal static class Gateway
{
    public static async Task<McpCluster> StartClusterAsync()
    {
        var options = new ClusterOptions { Nodes = 1, CoordinatorPort = 0 };
        options.Environment["Node__MaxConcurrentCalls"] = "1024";
        options.Environment["Logging__LogLevel__Default"] = "Warning";
        var cluster = await McpCluster.StartAsync(options, new QuietSink());
        using var http = new HttpClient();
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!(await http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/api/nodes"))).Contains("\"id\":\"node-1\"", StringComparison.Ordinal))
        {
            if (DateTime.UtcNow > deadline)
            {
                await cluster.DisposeAsync();
                throw new TimeoutException("The coordinator did not list node-1 within 60 s.");
            }

            await Task.Delay(100);
        }

        return cluster;
    }

    public static Uri NodeUrl(McpCluster cluster) => new(cluster.Resources.Single(resource => resource.Name == "node-1").Url!);

    /// <summary>
    /// The coordinator's, the bare proxy's, the node's and the load generator's CPU time: all on one machine, they
    /// share its cores.
    /// </summary>
    public static IReadOnlyList<CpuProbe> CpuProbes(McpCluster cluster, BareProxy proxy) =>
    [
        CpuProbe.Of("coordinator", cluster.Resources.Single(resource => resource.Name == "coordinator").ProcessId),
        CpuProbe.Of("proxy", proxy.ProcessId),
        CpuProbe.Of("node", cluster.Resources.Single(resource => resource.Name == "node-1").ProcessId),
        CpuProbe.Of("load", Environment.ProcessId),
    ];

    /// <summary>Shows only what the services write to stderr.</summary>
    private sealed class QuietSink : IResourceLogSink
    {
        public void WriteLine(string resource, string line, bool isError)
        {
            if (isError)
            {
                Console.Error.WriteLine($"[{resource}] {line}");
            }
        }
    }
}
