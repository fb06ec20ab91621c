using Microsoft.Extensions.Logging;
using ModelContextProtocol.Server;

namespace McpAspire.Mcp;

/// <summary>One stateful MCP session: the SDK's transport and server, running until the session ends.</summary>
internal sealed partial class McpSession : IAsyncDisposable
{
    private readonly CancellationTokenSource _ending = new();
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private Task? _running;
    private int _getStreamOpen;
    private int _busy;
    private long _lastActive;

    public McpSession(string id, McpSessionOwner? owner, McpServerOptions options, ILoggerFactory loggerFactory, IServiceProvider services, TimeProvider time)
    {
        Id = id;
        Owner = owner;
        _time = time;
        _lastActive = time.GetTimestamp();
        _logger = loggerFactory.CreateLogger<McpSession>();
        // Handlers run in the execution context of the POST that carried their request: its trace, its HttpContext.
        Transport = new StreamableHttpServerTransport(loggerFactory) { SessionId = id, Stateless = false, FlowExecutionContextFromRequests = true };
        Server = McpServer.Create(Transport, options, loggerFactory, services);
    }

    public string Id { get; }

    /// <summary>The user who opened the session, or <see langword="null"/> when it was opened anonymously.</summary>
    public McpSessionOwner? Owner { get; }

    public StreamableHttpServerTransport Transport { get; }

    public McpServer Server { get; }

    /// <summary>Idle: no request is being handled and no GET stream is open.</summary>
    public bool IsIdle => Volatile.Read(ref _busy) == 0 && Volatile.Read(ref _getStreamOpen) == 0;

    /// <summary>How long ago the session last finished a request or closed its stream.</summary>
    public TimeSpan IdleFor => _time.GetElapsedTime(Interlocked.Read(ref _lastActive));

    public void Start() => _running = Server.RunAsync(_ending.Token);

    /// <summary>Marks the session busy until the returned scope is disposed, so it is not ended as idle meanwhile.</summary>
    public BusyScope Use()
    {
        Interlocked.Increment(ref _busy);
        return new BusyScope(this);
    }

    /// <summary>Claims the session's single GET stream; <see langword="false"/> if one is open already.</summary>
    public bool TryOpenGetStream() => Interlocked.Exchange(ref _getStreamOpen, 1) == 0;

    public void CloseGetStream()
    {
        Interlocked.Exchange(ref _lastActive, _time.GetTimestamp());
        Volatile.Write(ref _getStreamOpen, 0);
    }

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

    /// <summary>Ends a <see cref="Use"/>: the session is active now, and idle from here unless something else uses it.</summary>
    public readonly struct BusyScope(McpSession session) : IDisposable
    {
        public void Dispose()
        {
            Interlocked.Exchange(ref session._lastActive, session._time.GetTimestamp());
            Interlocked.Decrement(ref session._busy);
        }
    }

    [LoggerMessage(EventId = 1200, Level = LogLevel.Warning, Message = "MCP session {SessionId} ended with an error")]
    private partial void LogSessionFailed(string sessionId, Exception exception);
}
