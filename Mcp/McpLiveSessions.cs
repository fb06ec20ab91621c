using System.Collections.Concurrent;
using ModelContextProtocol.Server;

namespace McpAspire.Mcp;

/// <summary>
/// The ids of the SDK's sessions that are running in this process. The SDK keeps its session table to
/// itself, and its DELETE answers 200 for any id, known or not; the spec wants 404 for a session that has
/// ended. The transport runs every session through <see cref="RunAsync"/>, which notes its id for as long
/// as the session runs, so the gate can answer DELETE of an unknown id itself.
/// </summary>
internal sealed class McpLiveSessions
{
    private readonly ConcurrentDictionary<string, byte> _running = new(StringComparer.Ordinal);

    /// <summary>Whether a session with this id is running.</summary>
    public bool Contains(string sessionId) => _running.ContainsKey(sessionId);

    /// <summary>Runs a server as the SDK would, noting its session id (if it has one) while it runs.</summary>
    public Task RunAsync(McpServer server, CancellationToken cancellationToken) =>
        server.SessionId is { Length: > 0 } id ? RunSessionAsync(id, server, cancellationToken) : server.RunAsync(cancellationToken);

    private async Task RunSessionAsync(string id, McpServer server, CancellationToken cancellationToken)
    {
        _running[id] = 0;
        try
        {
            await server.RunAsync(cancellationToken);
        }
        finally
        {
            _running.TryRemove(id, out _);
        }
    }
}
