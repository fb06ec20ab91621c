using System.Net;
using McpAspire.IntegrationTests.Infrastructure;

namespace McpAspire.IntegrationTests.Node;

/// <summary>Beyond the cap on idle sessions, the longest idle are ended first (the idle timeout is covered by McpSessionStoreTests).</summary>
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

    private async Task<HttpStatusCode> EchoStatusAsync(Uri url, string session)
    {
        using var response = await _http.SendAsync(RawMcp.InSession(RawMcp.Post(url, RawMcp.EchoCall), session), Cancel);
        return response.StatusCode;
    }
}
