using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using McpAspire.IntegrationTests.Infrastructure;

namespace McpAspire.IntegrationTests.Node;

/// <summary>A node with room for 10 running and 20 waiting calls, sent 200 slow calls at once.</summary>
public sealed class BackpressureTests
{
    private const string SlowCall = """{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"process_dataset","arguments":{"count":1,"delayMs":3000}}}""";

    [Fact]
    public async Task Calls_beyond_the_limit_and_the_queue_get_503_at_once_and_the_accepted_ones_complete()
    {
        await using var node = TestServices.StartNode(("Node:Id", "pressure-1"), ("Node:Packs", "core,data"), ("Node:MaxConcurrentCalls", "10"), ("Node:MaxQueuedCalls", "20"));
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        var clock = Stopwatch.StartNew();
        var answers = new ConcurrentQueue<(HttpStatusCode Status, TimeSpan At, string? RetryAfter, string Body)>();

        await Task.WhenAll(Enumerable.Range(0, 200).Select(async _ =>
        {
            using var response = await http.SendAsync(RawMcp.Post(node.McpUrl, SlowCall), TestContext.Current.CancellationToken);
            var body = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
            answers.Enqueue((response.StatusCode, clock.Elapsed, response.Headers.RetryAfter?.ToString(), body));
        }));

        var accepted = answers.Where(answer => answer.Status == HttpStatusCode.OK).ToArray();
        var refused = answers.Where(answer => answer.Status == HttpStatusCode.ServiceUnavailable).ToArray();
        Assert.Equal(30, accepted.Length);
        Assert.Equal(170, refused.Length);
        Assert.All(accepted, answer => Assert.Contains("\"count\":1", answer.Body, StringComparison.Ordinal));
        Assert.All(refused, answer => Assert.Equal("1", answer.RetryAfter));
        Assert.All(refused, answer => Assert.Contains("Server overloaded", answer.Body, StringComparison.Ordinal));
        Assert.All(refused, answer => Assert.Contains("-32000", answer.Body, StringComparison.Ordinal));
        // Refusals do not wait for a slot: every one came back before the first accepted call (3 s of work) finished.
        Assert.True(refused.Max(answer => answer.At) < accepted.Min(answer => answer.At), "A refusal waited behind the running calls.");
    }
}
