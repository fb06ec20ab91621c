using System.Collections.Concurrent;
using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace McpAspire.Mcp;

/// <summary>
/// The stateful sessions of this process, by id. A session idle for <see cref="McpEndpointOptions.SessionIdleTimeout"/>
/// is ended, and beyond <see cref="McpEndpointOptions.MaxIdleSessions"/> idle sessions the oldest are ended first,
/// so clients that never send DELETE cannot fill the memory. Ends them all when the host stops.
/// </summary>
internal sealed partial class McpSessionStore : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, McpSession> _sessions = new(StringComparer.Ordinal);
    private readonly IOptions<McpEndpointOptions> _options;
    private readonly TimeProvider _time;
    private readonly ILogger<McpSessionStore> _logger;
    private readonly SemaphoreSlim _sweeping = new(1, 1);
    private ITimer? _sweeper;

    public McpSessionStore(IOptions<McpEndpointOptions> options, TimeProvider time, ILogger<McpSessionStore> logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
    }

    /// <summary>How many sessions are open.</summary>
    public int Count => _sessions.Count;

    /// <summary>A new session id: 128 random bits, URL-safe base64 (visible ASCII, as the spec requires).</summary>
    public static string NewId() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>Adds a session, then ends the oldest idle sessions beyond the cap.</summary>
    public async Task AddAsync(McpSession session)
    {
        _sessions[session.Id] = session;
        if (_sweeper is null)
        {
            var period = TimeSpan.FromTicks(Math.Clamp(_options.Value.SessionIdleTimeout.Ticks / 4, TimeSpan.TicksPerSecond, TimeSpan.TicksPerMinute));
            var timer = _time.CreateTimer(static store => _ = ((McpSessionStore)store!).SweepAsync(), this, period, period);
            if (Interlocked.CompareExchange(ref _sweeper, timer, null) is not null)
            {
                // Another request started the sweeper first.
                timer.Dispose();
            }
        }

        if (_sessions.Count > _options.Value.MaxIdleSessions)
        {
            // The new session turns idle when its first answer is sent: make room for it now.
            await SweepAsync(reserve: 1);
        }
    }

    public bool TryGet(string id, out McpSession? session) => _sessions.TryGetValue(id, out session);

    public async Task<bool> EndAsync(string id)
    {
        if (!_sessions.TryRemove(id, out var session))
        {
            return false;
        }

        await session.DisposeAsync();
        return true;
    }

    /// <summary>
    /// Ends the sessions idle for longer than the timeout, then the longest idle ones beyond the cap, less
    /// <paramref name="reserve"/> places kept for sessions about to turn idle.
    /// </summary>
    public async Task SweepAsync(int reserve = 0)
    {
        if (!await _sweeping.WaitAsync(0))
        {
            return;
        }

        try
        {
            var options = _options.Value;
            var idle = _sessions.Values.Where(session => session.IsIdle).OrderByDescending(session => session.IdleFor).ToList();
            var expired = idle.TakeWhile(session => session.IdleFor >= options.SessionIdleTimeout).ToList();
            var excess = Math.Max(0, idle.Count - expired.Count - Math.Max(0, options.MaxIdleSessions - reserve));
            foreach (var session in expired.Concat(idle.Skip(expired.Count).Take(excess)))
            {
                if (session.IsIdle && await EndAsync(session.Id))
                {
                    LogSessionEnded(session.Id, session.IdleFor.TotalSeconds);
                }
            }
        }
        finally
        {
            _sweeping.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _sweeper?.Dispose();
        foreach (var id in _sessions.Keys)
        {
            await EndAsync(id);
        }

        _sweeping.Dispose();
    }

    [LoggerMessage(EventId = 1201, Level = LogLevel.Information, Message = "MCP session {SessionId} ended after {IdleSeconds} s idle (Mcp:SessionIdleTimeout, Mcp:MaxIdleSessions)")]
    private partial void LogSessionEnded(string sessionId, double idleSeconds);
}
