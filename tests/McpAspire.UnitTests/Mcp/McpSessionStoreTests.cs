using McpAspire.Mcp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Server;

namespace McpAspire.UnitTests.Mcp;

public sealed class McpSessionStoreTests : IAsyncDisposable
{
    private readonly ManualClock _clock = new();
    private readonly ServiceProvider _services = new ServiceCollection().BuildServiceProvider();
    private readonly McpSessionStore _store;

    public McpSessionStoreTests()
    {
        var options = new McpEndpointOptions { SessionIdleTimeout = TimeSpan.FromMinutes(10), MaxIdleSessions = 100 };
        _store = new McpSessionStore(Options.Create(options), _clock, NullLogger<McpSessionStore>.Instance);
    }

    public async ValueTask DisposeAsync()
    {
        await _store.DisposeAsync();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task A_session_idle_past_the_timeout_is_ended_and_busy_or_streaming_ones_are_kept()
    {
        var idle = await AddAsync("idle");
        var streaming = await AddAsync("streaming");
        var busy = await AddAsync("busy");
        Assert.True(streaming.TryOpenGetStream());
        var work = busy.Use();

        _clock.Advance(TimeSpan.FromMinutes(11));
        await _store.SweepAsync();

        Assert.False(_store.TryGet(idle.Id, out _));
        Assert.True(_store.TryGet(streaming.Id, out _));
        Assert.True(_store.TryGet(busy.Id, out _));

        // Both turn idle now, and the timeout counts from here.
        streaming.CloseGetStream();
        work.Dispose();
        _clock.Advance(TimeSpan.FromMinutes(9));
        await _store.SweepAsync();
        Assert.Equal(2, _store.Count);

        _clock.Advance(TimeSpan.FromMinutes(2));
        await _store.SweepAsync();
        Assert.Equal(0, _store.Count);
    }

    [Fact]
    public async Task Ending_a_session_twice_is_harmless()
    {
        var session = await AddAsync("once");

        var first = await _store.EndAsync(session.Id);
        var second = await _store.EndAsync(session.Id);

        Assert.True(first);
        Assert.False(second);
    }

    private async Task<McpSession> AddAsync(string id)
    {
        var session = new McpSession(id, owner: null, new McpServerOptions(), NullLoggerFactory.Instance, _services, _clock);
        await _store.AddAsync(session);
        _clock.Advance(TimeSpan.FromSeconds(1));
        return session;
    }
}
