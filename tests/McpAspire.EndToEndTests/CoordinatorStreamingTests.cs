using System.Text.Json.Nodes;

namespace McpAspire.EndToEndTests;

/// <summary>
/// Progress and cancellation through the coordinator, real processes: events reach the client while the
/// tool runs, and a client that gives up stops the tool on the node.
/// </summary>
public sealed class CoordinatorStreamingTests(CoordinatorStreamingTests.DataCluster fixture) : IClassFixture<CoordinatorStreamingTests.DataCluster>
{
    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    /// <summary>A coordinator and one node with the data pack.</summary>
    public sealed class DataCluster : IAsyncLifetime
    {
        public TestCluster Cluster { get; private set; } = null!;

        public async ValueTask InitializeAsync() =>
            Cluster = await TestCluster.StartAsync(1, ("Node__Packs", "core,data"), ("Node__HeartbeatInterval", "00:00:00.500"));

        public ValueTask DisposeAsync() => Cluster.DisposeAsync();
    }

    [Fact]
    public async Task Progress_reaches_the_client_while_the_tool_still_runs()
    {
        using var http = new HttpClient();
        using var response = await http.SendAsync(ProcessDataset(count: 200, delayMs: 25), HttpCompletionOption.ResponseHeadersRead, Cancel);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));

        var first = await NextEventAsync(reader);
        // Read while the first event is fresh: a buffering gateway would deliver it only after the call ended.
        var inFlightAtFirstEvent = await CoordinatorInFlightAsync(http);
        var events = new List<JsonNode> { first! };
        while (await NextEventAsync(reader) is { } next)
        {
            events.Add(next);
        }

        Assert.Equal("notifications/progress", first!["method"]!.GetValue<string>());
        Assert.Equal(1, inFlightAtFirstEvent);
        Assert.Equal(200, events[^1]["result"]!["structuredContent"]!["count"]!.GetValue<int>());
        Assert.True(events.Count > 2);
    }

    [Fact]
    public async Task A_client_that_cancels_stops_the_tool_on_the_node()
    {
        using var http = new HttpClient();
        // About 1,000 s of work: if it stops, the cancellation stopped it. Leaving the block disposes the
        // response mid-stream, which is how an HTTP client gives up: it closes the connection.
        using (var response = await http.SendAsync(ProcessDataset(count: 100_000, delayMs: 10), HttpCompletionOption.ResponseHeadersRead, Cancel))
        {
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(Cancel));
            Assert.NotNull(await NextEventAsync(reader));
            Assert.Equal(1, await NodeInFlightEventuallyAsync(http, running => running == 1));
        }

        Assert.Equal(0, await NodeInFlightEventuallyAsync(http, running => running == 0));
        Assert.Equal(0, await CoordinatorInFlightAsync(http));
    }

    private HttpRequestMessage ProcessDataset(int count, int delayMs)
    {
        var body = new JsonObject
        {
            ["jsonrpc"] = "2.0",
            ["id"] = 1,
            ["method"] = "tools/call",
            ["params"] = new JsonObject
            {
                ["name"] = "process_dataset",
                ["arguments"] = new JsonObject { ["count"] = count, ["delayMs"] = delayMs },
                ["_meta"] = new JsonObject { ["progressToken"] = "p1" },
            },
        }.ToJsonString();
        return McpPost.To(fixture.Cluster.CoordinatorMcpUrl, body);
    }

    private static async Task<JsonNode?> NextEventAsync(StreamReader reader)
    {
        while (await reader.ReadLineAsync(Cancel) is { } line)
        {
            if (line.StartsWith("data:", StringComparison.Ordinal))
            {
                return JsonNode.Parse(line[5..]);
            }
        }

        return null;
    }

    private async Task<int> CoordinatorInFlightAsync(HttpClient http) => (await NodeViewAsync(http))["coordinatorInFlight"]!.GetValue<int>();

    /// <summary>The calls the node reports running (in its heartbeat), once <paramref name="condition"/> holds; fails after 30 s.</summary>
    private async Task<int> NodeInFlightEventuallyAsync(HttpClient http, Func<int, bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var running = (await NodeViewAsync(http))["inFlight"]!.GetValue<int>();
            if (condition(running) || DateTime.UtcNow > deadline)
            {
                return running;
            }

            await Task.Delay(100, Cancel);
        }
    }

    private async Task<JsonNode> NodeViewAsync(HttpClient http)
    {
        var body = JsonNode.Parse(await http.GetStringAsync(new Uri(fixture.Cluster.CoordinatorUrl, "/api/nodes"), Cancel))!;
        return body["nodes"]!.AsArray().Single()!;
    }
}
