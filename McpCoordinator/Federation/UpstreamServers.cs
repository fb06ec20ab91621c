using System.Collections.Concurrent;
using System.Net;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.Mcp;
using McpAspire.McpCoordinator.Routing;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Federation;

/// <summary>
/// This replica's connections to the external MCP servers (<see cref="ExternalServersOptions"/>): one MCP client
/// session per server, opened with the SDK's client (<c>server/discover</c>, or <c>initialize</c> for a server
/// that predates 2026-07-28) when first needed and shared by every call this replica sends there. A session that
/// fails is dropped and the next call opens another. Nothing of the cluster's goes to these servers: neither the
/// cluster credential nor the signed caller, only the headers configured for each.
/// </summary>
public sealed partial class UpstreamServers : IAsyncDisposable
{
    /// <summary>How long opening a session with a server may take.</summary>
    public static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    private static readonly Implementation ClientInfo = new()
    {
        Name = "McpAspire.McpCoordinator",
        Version = typeof(UpstreamServers).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
    };

    private static readonly string ClientVersion =
        typeof(UpstreamServers).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    private readonly Dictionary<string, Upstream> _servers;
    private readonly HttpClient _http;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stopping = new();

    /// <summary>Creates the connections' settings; no session opens before it is needed.</summary>
    public UpstreamServers(IOptions<ExternalServersOptions> options, IOptions<CoordinatorOptions> coordinator, ILoggerFactory loggers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(coordinator);
        ArgumentNullException.ThrowIfNull(loggers);
        _loggers = loggers;
        _logger = loggers.CreateLogger<UpstreamServers>();

        // A handler of its own: no retries (a tool call must not be sent twice behind the gateway's back) and no
        // overall timeout (a server's stream of notifications stays open as long as its session).
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = coordinator.Value.ConnectTimeout,
            PooledConnectionLifetime = coordinator.Value.PooledConnectionLifetime,
            AllowAutoRedirect = false,
            UseCookies = false,
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _servers = options.Value.Servers.ToDictionary(pair => pair.Key, pair => new Upstream(pair.Key, pair.Value), StringComparer.Ordinal);
    }

    /// <summary>
    /// Raised with a server's name when it says its tools, resources or prompts changed
    /// (<c>notifications/tools/list_changed</c> and the like).
    /// </summary>
    public event Action<string>? ListsChanged;

    /// <summary>The configured servers' names.</summary>
    public IEnumerable<string> Names => _servers.Keys;

    /// <summary>The registry id of the server named <paramref name="server"/>.</summary>
    public static string NodeIdOf(string server) => $"server.{server}";

    /// <summary>The settings of <paramref name="server"/>, if this replica has it configured.</summary>
    public ExternalServerOptions? Settings(string server) => _servers.TryGetValue(server, out var upstream) ? upstream.Settings : null;

    /// <summary>
    /// This replica's session with <paramref name="server"/>, opened if there is none or the last one failed.
    /// </summary>
    /// <exception cref="InvalidOperationException"><paramref name="server"/> is not configured here.</exception>
    public Task<McpClient> ClientAsync(string server, CancellationToken cancellationToken)
    {
        var upstream = _servers.GetValueOrDefault(server) ?? throw new InvalidOperationException($"Coordinator:Servers:{server} is not configured on this coordinator.");
        lock (upstream)
        {
            if (upstream.Session is not { } session || session.IsFaulted || session.IsCanceled || (session.IsCompletedSuccessfully && session.Result.Completion.IsCompleted))
            {
                upstream.Session = session = ConnectAsync(upstream);
            }

            return session.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Drops <paramref name="client"/>, which failed, if it is still the server's session: the next call opens another.</summary>
    public void Reset(string server, McpClient client)
    {
        if (!_servers.TryGetValue(server, out var upstream))
        {
            return;
        }

        lock (upstream)
        {
            if (upstream.Session is { IsCompletedSuccessfully: true } session && session.Result == client)
            {
                upstream.Session = null;
            }
        }

        _ = client.DisposeAsync().AsTask().ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    /// <summary>
    /// A <c>ping</c> through the server's session: <see cref="ForwardOutcome.Forwarded"/> when it answered, and why
    /// not otherwise (a failed session is dropped).
    /// </summary>
    public async Task<ForwardOutcome> PingAsync(string server, CancellationToken cancellationToken)
    {
        McpClient client;
        try
        {
            client = await ClientAsync(server, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return ForwardOutcome.NotConnected(Describe(ex));
        }

        try
        {
            await client.PingAsync(cancellationToken: cancellationToken);
            return ForwardOutcome.Forwarded;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Reset(server, client);
            return ForwardOutcome.FailedAfterSend(Describe(ex));
        }
    }

    /// <summary>
    /// Sends the client's request (<c>tools/call</c>, <c>resources/read</c>, <c>prompts/get</c> or
    /// <c>completion/complete</c>) to <paramref name="server"/>, with the tool or prompt it names under the server's own
    /// name, and writes its answer to the client: the server's result or JSON-RPC error, under the client's request id,
    /// with the server's progress notifications streamed ahead of it when the client asked for progress. A request the
    /// server never received (no session could be opened, the server refused it before running anything, or this
    /// replica already has <see cref="ExternalServerOptions.MaxConcurrentCalls"/> requests there) is answered by
    /// nothing and says so, so the gateway may try elsewhere.
    /// </summary>
    public async Task<ForwardOutcome> ForwardAsync(HttpContext context, JsonRpcRequest rpc, string server, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(rpc);
        if (!_servers.TryGetValue(server, out var upstream))
        {
            return ForwardOutcome.NotConnected($"Coordinator:Servers:{server} is not configured on this coordinator");
        }

        if (!upstream.Calls.Wait(0, CancellationToken.None))
        {
            return ForwardOutcome.Refused(
                $"this coordinator has {upstream.Settings.MaxConcurrentCalls} calls in flight to server '{server}' (Coordinator:Servers:{server}:MaxConcurrentCalls)", TimeSpan.FromSeconds(1));
        }

        try
        {
            // A session the server has forgotten is refused before anything runs: one more try, on a new session.
            for (var attempt = 1; ; attempt++)
            {
                McpClient client;
                try
                {
                    client = await ClientAsync(server, cancellationToken);
                }
                catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
                {
                    return ForwardOutcome.NotConnected(Describe(ex));
                }

                var outcome = await SendAsync(context, rpc, upstream, client, cancellationToken);
                if (outcome is not null)
                {
                    return outcome;
                }

                Reset(server, client);
                if (attempt == 2)
                {
                    return ForwardOutcome.NotConnected("the server forgot two sessions in a row");
                }
            }
        }
        finally
        {
            upstream.Calls.Release();
        }
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        foreach (var upstream in _servers.Values)
        {
            Task<McpClient>? session;
            lock (upstream)
            {
                session = upstream.Session;
                upstream.Session = null;
            }

            if (session is { IsCompletedSuccessfully: true })
            {
                await session.Result.DisposeAsync();
            }
        }

        _http.Dispose();
        _stopping.Dispose();
    }

    /// <summary>
    /// One try of a call on <paramref name="client"/>'s session: the outcome, or <see langword="null"/> when the server
    /// no longer knows the session (HTTP 404, or the 400 some servers give), so nothing ran and a new session may try.
    /// </summary>
    private async Task<ForwardOutcome?> SendAsync(HttpContext context, JsonRpcRequest rpc, Upstream upstream, McpClient client, CancellationToken cancellationToken)
    {
        var (parameters, progressToken) = UpstreamParams(rpc, upstream.Settings);
        await using var progress = progressToken is not null && AcceptsEventStream(context.Request)
            ? new ProgressRelay(context, upstream, progressToken.Value, parameters)
            : null;
        try
        {
            var response = await client.SendRequestAsync(new JsonRpcRequest { Method = rpc.Method, Params = parameters }, cancellationToken);
            await AnswerAsync(context, progress, new JsonRpcResponse { Id = rpc.Id, Result = response.Result }, cancellationToken);
            return ForwardOutcome.Forwarded;
        }
        catch (McpProtocolException ex)
        {
            // The server answered with a JSON-RPC error: that is its answer to the client.
            await AnswerAsync(context, progress, new JsonRpcError { Id = rpc.Id, Error = new JsonRpcErrorDetail { Code = (int)ex.ErrorCode, Message = ex.Message } }, cancellationToken);
            return ForwardOutcome.Forwarded;
        }
        catch (HttpRequestException ex) when (ex.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.BadRequest && client.SessionId is not null && progress?.Started != true)
        {
            return null;
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is HttpRequestException or IOException or McpException or JsonException)
        {
            Reset(upstream.Name, client);
            return progress?.Started == true ? ForwardOutcome.BrokenMidStream(Describe(ex)) : FailureOf(ex);
        }
    }

    /// <summary>
    /// What a failed send means for the call: a server that could not be reached, or refused the request with a
    /// client error, ran nothing; one that said it is busy (429, 503) asks to be left alone a while; anything else may
    /// have come after the tool ran.
    /// </summary>
    private static ForwardOutcome FailureOf(Exception error) => error switch
    {
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } => ForwardOutcome.NotConnected(Describe(error)),
        HttpRequestException { StatusCode: HttpStatusCode.ServiceUnavailable or HttpStatusCode.TooManyRequests } => ForwardOutcome.Refused(Describe(error), TimeSpan.FromSeconds(1)),
        HttpRequestException { StatusCode: { } status } when (int)status is >= 400 and < 500 => ForwardOutcome.NotConnected(Describe(error)),
        _ => ForwardOutcome.FailedAfterSend(Describe(error)),
    };

    /// <summary>
    /// The client's parameters as the server gets them: the tool or prompt they name under the server's own name, the
    /// client's arguments and <c>_meta</c>, less the <c>io.modelcontextprotocol/</c> members that describe the client's
    /// exchange with the coordinator (the SDK adds the server's own), and with a progress token of the coordinator's,
    /// unique in the shared session, in place of the client's, which is returned.
    /// </summary>
    private static (JsonObject Parameters, ProgressToken? ClientToken) UpstreamParams(JsonRpcRequest rpc, ExternalServerOptions settings)
    {
        var parameters = rpc.Params is JsonObject given ? (JsonObject)given.DeepClone() : [];
        var named = rpc.Method switch
        {
            RequestMethods.ToolsCall or RequestMethods.PromptsGet => parameters,
            RequestMethods.CompletionComplete when parameters["ref"] is JsonObject reference && McpParams.TryGetString(reference, out var type, "type") && type == "ref/prompt" => reference,
            _ => null,
        };
        if (named is not null && McpParams.TryGetString(named, out var name, "name"))
        {
            named["name"] = settings.UpstreamName(name);
        }

        ProgressToken? token = null;
        if (parameters["_meta"] is JsonObject meta)
        {
            foreach (var key in meta.Select(member => member.Key).Where(key => key.StartsWith("io.modelcontextprotocol/", StringComparison.Ordinal)).ToList())
            {
                meta.Remove(key);
            }

            if (meta["progressToken"] is JsonValue value)
            {
                token = value.GetValueKind() == JsonValueKind.Number && value.TryGetValue<long>(out var number) ? new ProgressToken(number)
                    : value.TryGetValue<string>(out var text) ? new ProgressToken(text) : null;
                meta.Remove("progressToken");
            }
        }

        return (parameters, token);
    }

    private static bool AcceptsEventStream(HttpRequest request) =>
        request.Headers.Accept.Any(value => value?.Contains("text/event-stream", StringComparison.OrdinalIgnoreCase) == true);

    private static async Task AnswerAsync(HttpContext context, ProgressRelay? progress, JsonRpcMessage answer, CancellationToken cancellationToken)
    {
        if (progress is not null && await progress.FinishAsync(answer, cancellationToken))
        {
            return;
        }

        await McpHttpResponses.WriteJsonAsync(context, StatusCodes.Status200OK, answer);
    }

    /// <summary>Opens a session with the server, bounded by <see cref="ConnectTimeout"/>.</summary>
    private async Task<McpClient> ConnectAsync(Upstream upstream)
    {
        var headers = new Dictionary<string, string>(upstream.Settings.Headers, StringComparer.OrdinalIgnoreCase);
        if (upstream.Settings.BearerToken is { } token)
        {
            headers["Authorization"] = $"Bearer {token}";
        }

        var transport = new HttpClientTransport(
            new HttpClientTransportOptions
            {
                Endpoint = upstream.Settings.Url!,
                TransportMode = HttpTransportMode.StreamableHttp,
                Name = upstream.Name,
                AdditionalHeaders = headers,
                ConnectionTimeout = ConnectTimeout,
            },
            _http,
            _loggers);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stopping.Token);
        timeout.CancelAfter(ConnectTimeout);
        var client = await McpClient.CreateAsync(
            transport,
            new McpClientOptions
            {
                ClientInfo = ClientInfo,
                InitializationTimeout = ConnectTimeout,
                Handlers = new McpClientHandlers
                {
                    NotificationHandlers =
                    [
                        .. ((string[])[NotificationMethods.ToolListChangedNotification, NotificationMethods.ResourceListChangedNotification, NotificationMethods.PromptListChangedNotification])
                            .Select(method => KeyValuePair.Create<string, Func<JsonRpcNotification, CancellationToken, ValueTask>>(method, (_, _) =>
                            {
                                ListsChanged?.Invoke(upstream.Name);
                                return ValueTask.CompletedTask;
                            })),
                        new(NotificationMethods.ProgressNotification, (notification, _) => upstream.RelayProgressAsync(notification)),
                    ],
                },
            },
            _loggers,
            timeout.Token);
        LogConnected(upstream.Name, client.ServerInfo?.Name ?? "?", client.ServerInfo?.Version ?? "?", client.NegotiatedProtocolVersion ?? "?", ClientVersion);
        return client;
    }

    /// <summary>An error as one line for a log or a client, without a stack trace or the server's secrets.</summary>
    internal static string Describe(Exception error) => error switch
    {
        HttpRequestException { StatusCode: { } status } => $"HTTP {(int)status} from the server",
        OperationCanceledException or TimeoutException => $"no answer within {ConnectTimeout.TotalSeconds:0} s",
        _ => error.GetBaseException().Message,
    };

    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Opened a session with external server {Server}: {ServerName} {ServerVersion}, protocol {ProtocolVersion} (coordinator {CoordinatorVersion})")]
    private partial void LogConnected(string server, string serverName, string serverVersion, string protocolVersion, string coordinatorVersion);

    /// <summary>One server: its settings, its session on this replica, its calls in flight and their progress relays.</summary>
    private sealed class Upstream(string name, ExternalServerOptions settings)
    {
        public string Name { get; } = name;

        public ExternalServerOptions Settings { get; } = settings;

        public SemaphoreSlim Calls { get; } = new(settings.MaxConcurrentCalls, settings.MaxConcurrentCalls);

        /// <summary>The session, opening or open; guarded by a lock on this object.</summary>
        public Task<McpClient>? Session { get; set; }

        /// <summary>The calls waiting for progress, by the progress token the coordinator gave the server.</summary>
        public ConcurrentDictionary<string, ProgressRelay> Relays { get; } = new(StringComparer.Ordinal);

        public ValueTask RelayProgressAsync(JsonRpcNotification notification) =>
            notification.Params?["progressToken"] is JsonValue token && token.TryGetValue<string>(out var key) && Relays.TryGetValue(key, out var relay)
                ? relay.SendAsync(notification)
                : ValueTask.CompletedTask;
    }

    /// <summary>
    /// Streams a server's progress notifications for one call to its client as server-sent events, under the
    /// client's own token, and then the answer as the last event. Until the first notification nothing is sent, so
    /// a call without progress is answered with plain JSON.
    /// </summary>
    private sealed class ProgressRelay : IAsyncDisposable
    {
        private readonly HttpContext _context;
        private readonly Upstream _upstream;
        private readonly ProgressToken _clientToken;
        private readonly string _token = $"mcpaspire-{Guid.NewGuid():N}";
        private readonly SemaphoreSlim _writing = new(1, 1);
        private bool _finished;

        public ProgressRelay(HttpContext context, Upstream upstream, ProgressToken clientToken, JsonObject parameters)
        {
            _context = context;
            _upstream = upstream;
            _clientToken = clientToken;
            ((JsonObject)parameters["_meta"]!)["progressToken"] = _token;
            upstream.Relays[_token] = this;
        }

        /// <summary>Whether any event has gone to the client.</summary>
        public bool Started { get; private set; }

        public async ValueTask SendAsync(JsonRpcNotification notification)
        {
            var parameters = (JsonObject)notification.Params!.DeepClone();
            parameters["progressToken"] = JsonSerializer.SerializeToNode(_clientToken, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(ProgressToken)));
            try
            {
                await WriteAsync(new JsonRpcNotification { Method = NotificationMethods.ProgressNotification, Params = parameters }, last: false, _context.RequestAborted);
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException)
            {
                // The client has gone; the call itself sees it and ends.
            }
        }

        /// <summary>Sends the answer as the last event, if the stream started; <see langword="false"/> if it did not, so the answer goes as JSON.</summary>
        public async Task<bool> FinishAsync(JsonRpcMessage answer, CancellationToken cancellationToken) =>
            await WriteAsync(answer, last: true, cancellationToken);

        /// <summary>
        /// Stops relaying. The semaphore is left to the collector: a notification that arrived just before may still
        /// be waiting on it, and finds the call finished.
        /// </summary>
        public ValueTask DisposeAsync()
        {
            _upstream.Relays.TryRemove(_token, out _);
            return ValueTask.CompletedTask;
        }

        private async Task<bool> WriteAsync(JsonRpcMessage message, bool last, CancellationToken cancellationToken)
        {
            await _writing.WaitAsync(cancellationToken);
            try
            {
                if (_finished || (last && !Started))
                {
                    _finished |= last;
                    return false;
                }

                _finished = last;
                if (!Started)
                {
                    _context.Response.StatusCode = StatusCodes.Status200OK;
                    McpHttpResponses.PrepareEventStream(_context.Response);
                    Started = true;
                }

                var json = JsonSerializer.SerializeToUtf8Bytes(message, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage)));
                await _context.Response.Body.WriteAsync("event: message\ndata: "u8.ToArray(), cancellationToken);
                await _context.Response.Body.WriteAsync(json, cancellationToken);
                await _context.Response.Body.WriteAsync("\n\n"u8.ToArray(), cancellationToken);
                await _context.Response.Body.FlushAsync(cancellationToken);
                return true;
            }
            finally
            {
                _writing.Release();
            }
        }
    }
}
