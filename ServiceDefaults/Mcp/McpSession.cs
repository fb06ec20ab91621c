using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace McpAspire.ServiceDefaults.Mcp;

/// <summary>One stateful MCP session: the SDK's transport and server, running until the session ends.</summary>
internal sealed partial class McpSession : IAsyncDisposable
{
    private readonly CancellationTokenSource _ending = new();
    private readonly ILogger _logger;
    private Task? _running;
    private int _getStreamOpen;

    public McpSession(string id, McpServerOptions options, ILoggerFactory loggerFactory, IServiceProvider services)
    {
        Id = id;
        _logger = loggerFactory.CreateLogger<McpSession>();
        // Handlers run in the execution context of the POST that carried their request: its trace, its HttpContext.
        Transport = new StreamableHttpServerTransport(loggerFactory) { SessionId = id, Stateless = false, FlowExecutionContextFromRequests = true };
        Server = McpServer.Create(Transport, options, loggerFactory, services);
    }

    public string Id { get; }

    public StreamableHttpServerTransport Transport { get; }

    public McpServer Server { get; }

    public void Start() => _running = Server.RunAsync(_ending.Token);

    /// <summary>Claims the session's single GET stream; <see langword="false"/> if one is open already.</summary>
    public bool TryOpenGetStream() => Interlocked.Exchange(ref _getStreamOpen, 1) == 0;

    public void CloseGetStream() => Volatile.Write(ref _getStreamOpen, 0);

    public async ValueTask DisposeAsync()
    {
        await _ending.CancelAsync();
        await Transport.DisposeAsync();
        if (_running is not null)
        {
            try
            {
                await _running;
            }
            catch (OperationCanceledException)
            {
                // The session was ended on purpose.
            }
#pragma warning disable CA1031 // A session's failure must not stop the others from closing.
            catch (Exception ex)
#pragma warning restore CA1031
            {
                LogSessionFailed(Id, ex);
            }
        }

        await Server.DisposeAsync();
        _ending.Dispose();
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "MCP session {SessionId} ended with an error")]
    private partial void LogSessionFailed(string sessionId, Exception exception);
}
