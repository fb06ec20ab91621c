using System.Diagnostics;
using System.Net;
using StackExchange.Redis;

namespace McpAspire.EndToEndTests;

/// <summary>
/// The store dies under load, all real processes: 16 clients call echo through the coordinator while the store is
/// killed with SIGKILL for 20 s, over three heartbeat TTLs (6 s), and a node dies meanwhile. While the registry
/// cannot be read, no heartbeat's age is taken for death, so every call still succeeds.
/// </summary>
public sealed class StoreOutageTests
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(20);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_the_store_for_20_s_fails_no_call_routes_around_a_node_that_dies_meanwhile_and_the_nodes_are_back_within_5_s()
    {
        ExternalGarnet? restarted = null;
        try
        {
            TimeSpan? backAfter = null;
            await using (var cluster = await TestCluster.StartAsync(3))
            {
                var store = ConfigurationOptions.Parse(await cluster.ConnectionStringAsync("redis"));
                var port = ((IPEndPoint)store.EndPoints.Single()).Port;

                var load = await CallLoad.RunAsync(cluster.CoordinatorMcpUrl, clients: 16, CallLoad.Echo, async () =>
                {
                    await Task.Delay(TimeSpan.FromSeconds(3), Cancel);
                    await cluster.SignalAsync("redis", "KILL");
                    await Task.Delay(Outage / 2, Cancel);
                    await cluster.SignalAsync("node-2", "KILL");
                    await Task.Delay(Outage / 2, Cancel);

                    // The store comes back empty on its port, with its password, as a restarted Garnet does.
                    restarted = await ExternalGarnet.StartAsync(store.Password!, port);
                    var back = Stopwatch.StartNew();
                    await using var redis = await ConnectionMultiplexer.ConnectAsync(restarted.ConnectionString);
                    await WaitUntilRegisteredAsync(redis.GetDatabase(), "node-1", "node-3");
                    backAfter = back.Elapsed;

                    // Calls go on while the coordinator reads the registry again.
                    await Task.Delay(TimeSpan.FromSeconds(5), Cancel);
                });

                Assert.Empty(load.Failures);
                Assert.True(load.Succeeded > 100, $"only {load.Succeeded} calls completed");
                Assert.True(backAfter < TimeSpan.FromSeconds(5), $"the live nodes were back in the registry only {backAfter?.TotalSeconds:0.0} s after the store returned");

                // The dead node never heartbeats again, and leaves the coordinator's view.
                using var http = new HttpClient();
                await ClusterApiProbe.WaitForNodeCountAsync(http, cluster, count => count == 2, "only the 2 live nodes");
            }
        }
        finally
        {
            if (restarted is not null)
            {
                await restarted.DisposeAsync();
            }
        }
    }

    /// <summary>Waits until each of <paramref name="nodes"/> has a heartbeat and is in the node set again.</summary>
    private static async Task WaitUntilRegisteredAsync(IDatabase redis, params string[] nodes)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                var members = (await redis.SetMembersAsync("mcpaspire:nodes")).Select(member => member.ToString()).ToHashSet();
                var heartbeats = await redis.StringGetAsync([.. nodes.Select(node => (RedisKey)$"mcpaspire:node:{node}")]);
                if (nodes.All(members.Contains) && heartbeats.All(heartbeat => !heartbeat.IsNull))
                {
                    return;
                }
            }
            catch (RedisConnectionException)
            {
                // Still connecting.
            }

            Assert.True(DateTime.UtcNow < deadline, $"nodes {string.Join(", ", nodes)} did not register again within 30 s");
            await Task.Delay(50, Cancel);
        }
    }
}
