using System.Net;
using McpAspire.IntegrationTests.Infrastructure;

namespace McpAspire.IntegrationTests.Node;

/// <summary>
/// The limits on a stateful node's sessions, kept by the SDK's transport from the <c>Mcp</c> keys: the cap on idle
/// sessions, the idle timeout, and what DELETE answers for sessions that are gone.
/// </summary>
public sealed class SessionLimitsTests : IDisposable
{
    private readonly HttpClient _http = new();

    public void Dispose() => _http.Dispose();

    private static CancellationToken Cancel => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Beyond_the_cap_the_longest_idle_sessions_are_ended_first()
    {
        await using var node = TestServices.StartNode(("Mcp:Stateless", "false"), ("Mcp:MaxIdleSessions", "3"));
        var sessions = new List<string>();
        for (var i = 0; i < 5; i++)
        {
            sessions.Add(await RawMcp.StartSessionAsync(_http, node.McpUrl));
        }

        Assert.Equal([HttpStatusCode.NotFound, HttpStatusCode.NotFound, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK],
            await Task.WhenAll(sessions.Select(session => EchoStatusAsync(node.McpUrl, session))));
    }

    [Fact]
    public async Task A_session_idle_past_the_timeout_is_ended_and_a_busy_one_is_kept()
    {
        await using var node = TestServices.StartNode(("Mcp:Stateless", "false"), ("Mcp:SessionIdleTimeout", "00:00:02"));
        var idle = await RawMcp.StartSessionAsync(_http, node.McpUrl);
        var busy = await RawMcp.StartSessionAsync(_http, node.McpUrl);

        // The SDK looks for idle sessions every 5 s, so in 12 s it has looked at least once after the idle one's
        // 2 s ran out. Meanwhile the busy session is used every half second. Probing the idle one would use it.
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(12))
        {
            Assert.Equal(HttpStatusCode.OK, await EchoStatusAsync(node.McpUrl, busy));
            await Task.Delay(500, Cancel);
        }

        Assert.Equal(HttpStatusCode.NotFound, await EchoStatusAsync(node.McpUrl, idle));
        Assert.Equal(HttpStatusCode.OK, await EchoStatusAsync(node.McpUrl, busy));
    }

    [Fact]
    public async Task Delete_of_an_ended_or_unknown_session_is_404_and_without_an_id_400()
    {
        await using var node = TestServices.StartNode(("Mcp:Stateless", "false"));
        var session = await RawMcp.StartSessionAsync(_http, node.McpUrl);

        Assert.Equal(HttpStatusCode.OK, await DeleteStatusAsync(node.McpUrl, session));
        await Eventually.UntilAsync(async () => await DeleteStatusAsync(node.McpUrl, session) == HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.NotFound, await DeleteStatusAsync(node.McpUrl, "never-issued"));
        Assert.Equal(HttpStatusCode.BadRequest, await DeleteStatusAsync(node.McpUrl, null));
        Assert.Equal(HttpStatusCode.OK, await EchoStatusAsync(node.McpUrl, await RawMcp.StartSessionAsync(_http, node.McpUrl)));
    }

    private async Task<HttpStatusCode> EchoStatusAsync(Uri url, string session)
    {
        using var response = await _http.SendAsync(RawMcp.InSession(RawMcp.Post(url, RawMcp.EchoCall), session), Cancel);
        return response.StatusCode;
    }

    private async Task<HttpStatusCode> DeleteStatusAsync(Uri url, string? session)
    {
        using var request = new HttpRequestMessage(HttpMethod.Delete, url);
        if (session is not null)
        {
            RawMcp.InSession(request, session);
        }

        using var response = await _http.SendAsync(request, Cancel);
        return response.StatusCode;
    }
}
