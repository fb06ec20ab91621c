using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace McpAspire.ServiceDefaults.Mcp;

/// <summary>The stateful sessions of this process, by id. Ends them all when the host stops.</summary>
internal sealed class McpSessionStore : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, McpSession> _sessions = new(StringComparer.Ordinal);

    /// <summary>A new session id: 128 random bits, URL-safe base64 (visible ASCII, as the spec requires).</summary>
    public static string NewId() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16))
        .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    public void Add(McpSession session) => _sessions[session.Id] = session;

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

    public async ValueTask DisposeAsync()
    {
        foreach (var id in _sessions.Keys)
        {
            await EndAsync(id);
        }
    }
}
