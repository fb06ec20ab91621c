using System.Net;
using McpAspire.IntegrationTests.Infrastructure;

namespace McpAspire.IntegrationTests.Node;

[CollectionDefinition(nameof(EndpointMemoryTests), DisableParallelization = true)]
public sealed class EndpointMemoryTestsRunAlone;

/// <summary>
/// Leaks show as a managed heap that keeps growing while the same work repeats. These tests measure the
/// heap after a full collection, so they run alone: nothing else in the process allocates meanwhile.
/// </summary>
[Collection(nameof(EndpointMemoryTests))]
public sealed class EndpointMemoryTests : IDisposable
{
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_small_bad_input_thirty_times_over_leaves_the_heap_where_it_was()
    {
        await using var node = TestServices.StartNode();
        await SendEveryBadInputAsync(node.McpUrl, rounds: 3);
        var before = HeapAfterFullCollection();

        await SendEveryBadInputAsync(node.McpUrl, rounds: 30);
        var after = HeapAfterFullCollection();

        // 30 rounds are over 1,200 bad requests: a retained kilobyte each would already show.
        Assert.True(after - before < 8 * 1024 * 1024, $"The heap grew from {before:N0} to {after:N0} bytes.");
        Assert.Equal("still serving", await RawMcp.EchoAsync(_http, node.McpUrl));
    }

    [Fact]
    public async Task Ten_thousand_sessions_keep_only_the_newest_within_the_cap_and_free_the_rest()
    {
        const int Cap = 1000;
        await using var node = TestServices.StartNode(("Mcp:Stateless", "false"), ("Mcp:MaxIdleSessions", Cap.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var sessions = new string[10_000];
        await OpenAsync(node.McpUrl, sessions, 0, 2 * Cap);
        var atCap = HeapAfterFullCollection();

        await OpenAsync(node.McpUrl, sessions, 2 * Cap, sessions.Length);
        var atEnd = HeapAfterFullCollection();

        // Sessions past the cap were ended longest idle first: the oldest are gone, the newest serve.
        Assert.All(await Task.WhenAll(sessions[..50].Select(session => EchoStatusAsync(node.McpUrl, session))), status => Assert.Equal(HttpStatusCode.NotFound, status));
        Assert.All(await Task.WhenAll(sessions[^50..].Select(session => EchoStatusAsync(node.McpUrl, session))), status => Assert.Equal(HttpStatusCode.OK, status));
        // 8,000 more sessions opened and ended: the heap holds the same 1,000 as before.
        Assert.True(atEnd < atCap * 1.25 + (8 * 1024 * 1024), $"The heap grew from {atCap:N0} bytes at the cap to {atEnd:N0} after 10,000 sessions.");
    }

    /// <summary>
    /// Sends each bad input whose body is under 64 KiB. The larger ones are left out: their buffers come from
    /// shared array pools (ours, the SDK's, Kestrel's), which keep arrays per thread and per core, so the heap
    /// after them depends on which threads served them, not on what the endpoint holds on to.
    /// </summary>
    private async Task SendEveryBadInputAsync(Uri url, int rounds)
    {
        for (var round = 0; round < rounds; round++)
        {
            foreach (var input in BadInputs.All.Where(input => !input.GatewayOnly))
            {
                using var request = input.Build(url);
                if (request.Content?.Headers.ContentLength is not < 64 * 1024)
                {
                    continue;
                }

                using var response = await _http.SendAsync(request, Cancel);
                Assert.Equal(input.Status, response.StatusCode);
            }
        }
    }

    private async Task OpenAsync(Uri url, string[] sessions, int from, int to)
    {
        // One at a time. With several initializes at once, the SDK 2.4.0 can let the idle count pass its cap,
        // and its next pruning then ends recent sessions before older ones (docs/protocol.md, deviations).
        for (var i = from; i < to; i++)
        {
            sessions[i] = await RawMcp.StartSessionAsync(_http, url);
        }
    }

    private async Task<HttpStatusCode> EchoStatusAsync(Uri url, string session)
    {
        using var response = await _http.SendAsync(RawMcp.InSession(RawMcp.Post(url, RawMcp.EchoCall), session), Cancel);
        return response.StatusCode;
    }

    private static long HeapAfterFullCollection()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        return GC.GetTotalMemory(forceFullCollection: true);
    }
}
