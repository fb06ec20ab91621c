using System.Text.Json.Nodes;

namespace McpAspire.EndToEndTests;

/// <summary>
/// The coordinator under load while nodes fail, all real processes: 16 clients call echo without pause,
/// and every call must succeed while a node is killed, stopped, or full.
/// </summary>
public sealed class FailoverTests
{
    private static readonly TimeSpan LoadDuration = TimeSpan.FromSeconds(20);

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Killing_a_node_under_load_fails_no_call_and_none_is_routed_to_it_once_its_breaker_opens()
    {
        // A break longer than the test, so an open breaker admits no trial call while it runs; a short sampling
        // window, so the dead node's earlier successes age out and its breaker opens well before its heartbeat expires.
        await using var cluster = await TestCluster.StartAsync(
            3, ("Coordinator__BreakerBreakDuration", "00:01:00"), ("Coordinator__BreakerSamplingDuration", "00:00:01"));
        using var http = new HttpClient();
        var watch = WatchAsync(http, cluster, "node-2");

        var load = await CallLoad.RunAsync(cluster.CoordinatorMcpUrl, clients: 16, CallLoad.Echo, CallLoad.AtHalfTime(LoadDuration, () => cluster.SignalAsync("node-2", "KILL")));
        var samples = await watch.StopAsync();

        Assert.Empty(load.Failures);
        Assert.True(load.Succeeded > 100, $"only {load.Succeeded} calls completed");
        var opened = samples.FindIndex(sample => sample.Breaker == "open");
        Assert.True(opened >= 0, "node-2's breaker never showed as open before the node left the registry");
        Assert.All(samples.Skip(opened).Where(sample => sample.Present), sample => Assert.Equal(samples[opened].Routed, sample.Routed));

        // The dead node's heartbeat expires (6 s TTL), and the registry drops it.
        await ClusterApiProbe.WaitForNodeCountAsync(http, cluster, count => count == 2, "only the 2 live nodes");
    }

    [Fact]
    public async Task Stopping_a_node_under_load_with_SIGTERM_fails_no_call()
    {
        await using var cluster = await TestCluster.StartAsync(3);

        var load = await CallLoad.RunAsync(cluster.CoordinatorMcpUrl, clients: 16, CallLoad.Echo, CallLoad.AtHalfTime(LoadDuration, () => cluster.SignalAsync("node-2", "TERM")));

        Assert.Empty(load.Failures);
        Assert.True(load.Succeeded > 100, $"only {load.Succeeded} calls completed");
        Assert.Equal(0, await cluster.ExitCodeAsync("node-2", TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task Nodes_at_their_concurrency_limit_shed_calls_to_the_others_and_none_fails()
    {
        // Three nodes of two slots each and no queue: four clients always fit, but often not on the node chosen first.
        await using var cluster = await TestCluster.StartAsync(3, ("Node__Packs", "core,data"), ("Node__MaxConcurrentCalls", "2"), ("Node__MaxQueuedCalls", "0"));

        var load = await CallLoad.RunAsync(cluster.CoordinatorMcpUrl, clients: 4, static (client, call) =>
            (CallLoad.ToolCall(call, "process_dataset", """{"count":4,"delayMs":25}"""), "\"count\":4"), () => Task.Delay(TimeSpan.FromSeconds(10), Cancel));

        Assert.Empty(load.Failures);
        Assert.True(load.Succeeded > 20, $"only {load.Succeeded} calls completed");
        Assert.Contains(cluster.LinesOf("coordinator"), line => line.Contains("did not complete (Refused", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_transfer_whose_node_dies_mid_flight_is_reported_as_maybe_run_and_not_retried()
    {
        // Each transfer takes 30 s to settle, so it is surely in flight when its node is killed.
        await using var cluster = await TestCluster.StartAsync(3, ("Node__Packs", "core,transactions"), ("Transactions__SettlementDelay", "00:00:30"));
        using var http = new HttpClient();
        using var request = McpPost.To(
            cluster.CoordinatorMcpUrl, CallLoad.ToolCall(7, "submit_transaction", """{"transaction":{"from":"acct-1","to":"acct-2","amount":10,"currency":"EUR"}}"""));

        var call = http.SendAsync(request, Cancel);
        var runningOn = await InFlightNodeAsync(http, cluster);
        var routedBefore = await ClusterApiProbe.RoutedCallsAsync(http, cluster);
        await cluster.SignalAsync(runningOn, "KILL");

        using var response = await call;
        var result = (await McpPost.LastMessageAsync(response))["result"]!;
        var routedAfter = await ClusterApiProbe.RoutedCallsAsync(http, cluster);

        Assert.True(result["isError"]!.GetValue<bool>());
        var text = result["content"]![0]!["text"]!.GetValue<string>();
        Assert.Contains($"'submit_transaction' on node {runningOn} failed after it was sent", text, StringComparison.Ordinal);
        Assert.Contains("may or may not have run", text, StringComparison.Ordinal);
        Assert.All(routedAfter.Where(node => node.Key != runningOn), node => Assert.Equal(routedBefore[node.Key], node.Value));
    }

    /// <summary>The node whose heartbeat reports a call running, once one does: the tool has started there.</summary>
    private static async Task<string> InFlightNodeAsync(HttpClient http, TestCluster cluster)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var body = JsonNode.Parse(await http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/api/nodes"), Cancel))!;
            if (body["nodes"]!.AsArray().FirstOrDefault(node => node!["inFlight"]!.GetValue<int>() > 0) is { } busy)
            {
                return busy["id"]!.GetValue<string>();
            }

            Assert.True(DateTime.UtcNow < deadline, "no node reported the call running");
            await Task.Delay(50, Cancel);
        }
    }

    private sealed record Sample(bool Present, string? Breaker, long Routed);

    /// <summary>Samples one node's entry in <c>/api/nodes</c> every 100 ms until stopped.</summary>
    private static Watcher WatchAsync(HttpClient http, TestCluster cluster, string nodeId) => new(http, cluster, nodeId);

    private sealed class Watcher
    {
        private readonly CancellationTokenSource _stop = CancellationTokenSource.CreateLinkedTokenSource(Cancel);
        private readonly List<Sample> _samples = [];
        private readonly Task _running;

        public Watcher(HttpClient http, TestCluster cluster, string nodeId) => _running = Task.Run(async () =>
        {
            while (!_stop.IsCancellationRequested)
            {
                var body = JsonNode.Parse(await http.GetStringAsync(new Uri(cluster.CoordinatorUrl, "/api/nodes"), Cancel))!;
                var node = body["nodes"]!.AsArray().SingleOrDefault(entry => entry!["id"]!.GetValue<string>() == nodeId);
                _samples.Add(node is null
                    ? new Sample(false, null, 0)
                    : new Sample(true, node["breaker"]!.GetValue<string>(), node["callsRouted"]!.GetValue<long>()));
                await Task.Delay(100, Cancel);
            }
        });

        public async Task<List<Sample>> StopAsync()
        {
            await _stop.CancelAsync();
            await _running;
            _stop.Dispose();
            return _samples;
        }
    }
}
