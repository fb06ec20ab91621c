using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.Mcp;

/// <summary>
/// Serves <c>/mcp</c> with the SDK's <see cref="McpServer"/> over its Streamable HTTP transport.
/// Stateless mode creates a server per POST; stateful mode keeps one per session.
/// </summary>
internal sealed class McpServerEndpoint(
    IOptions<McpServerOptions> serverOptions,
    IOptions<McpEndpointOptions> endpointOptions,
    McpSessionStore sessions,
    McpHostGuard guard,
    TimeProvider time,
    IServiceProvider services,
    ILoggerFactory loggerFactory)
{
    // Resolved on first use: resolving it while endpoints are mapped would validate its options before
    // the host does, and report only the first bad section.
    private readonly Lazy<IMcpCallAdmission?> _admission = new(() => services.GetService(typeof(IMcpCallAdmission)) as IMcpCallAdmission);

    /// <summary>How long a stateless server gets to end its loop on its own before it is cancelled.</summary>
    private static readonly TimeSpan StatelessDrainTimeout = TimeSpan.FromSeconds(1);

    private McpEndpointOptions Options => endpointOptions.Value;

    public async Task HandlePostAsync(HttpContext context)
    {
        if (await guard.RefuseAsync(context))
        {
            return;
        }

        using var request = await McpHttpRequestReader.ReadAsync(context, Options);
        if (request is null)
        {
            return;
        }

        using var admission = request.Message is JsonRpcRequest { Method: RequestMethods.ToolsCall } && _admission.Value is { } admit
            ? await admit.AdmitAsync(request, context.RequestAborted)
            : null;
        if (admission?.Refusal is { } refusal)
        {
            await McpHttpResponses.WriteOverloadedAsync(context, refusal, admission.RetryAfter, McpParams.IdOf(request.Message));
            return;
        }

        admission?.AttachTo(request.Message);

        var sessionId = context.Request.Headers[McpProtocol.SessionIdHeader].ToString();
        var perRequest = McpProtocol.IsPerRequest(request.ProtocolVersion);
        if (perRequest && !Options.Stateless)
        {
            await McpSessionAnswers.WriteSessionsOnlyAsync(context, request);
            return;
        }

        if (Options.Stateless)
        {
            if (sessionId.Length > 0)
            {
                await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCodes.ServerError,
                    "Bad Request: this endpoint is stateless and does not accept Mcp-Session-Id.", McpParams.IdOf(request.Message));
                return;
            }

            await HandleStatelessAsync(context, request.Message, unknownMethodIsNotFound: perRequest);
            return;
        }

        if (sessionId.Length == 0)
        {
            if (request.Message is JsonRpcRequest { Method: RequestMethods.Initialize })
            {
                await HandleInitializeAsync(context, request.Message);
                return;
            }

            await McpSessionAnswers.WriteSessionRequiredAsync(context, McpParams.IdOf(request.Message));
            return;
        }

        if (await FindSessionAsync(context, sessionId, McpParams.IdOf(request.Message)) is not { } session)
        {
            return;
        }

        context.Response.Headers[McpProtocol.SessionIdHeader] = session.Id;
        using (session.Use())
        {
            await WriteThroughTransportAsync(context, session.Transport, request.Message, hold: false);
        }
    }

    public async Task HandleGetAsync(HttpContext context)
    {
        if (await guard.RefuseAsync(context))
        {
            return;
        }

        if (await McpSessionAnswers.RefuseWithoutSessionsAsync(context, Options.Stateless, "has no server-to-client stream; use POST"))
        {
            return;
        }

        if (!context.Request.GetTypedHeaders().Accept.Any(a => a.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase)))
        {
            await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status406NotAcceptable, McpErrorCodes.ServerError,
                "Not Acceptable: the Accept header must include text/event-stream.");
            return;
        }

        var sessionId = context.Request.Headers[McpProtocol.SessionIdHeader].ToString();
        if (sessionId.Length == 0)
        {
            await McpSessionAnswers.WriteSessionRequiredAsync(context);
            return;
        }

        if (await FindSessionAsync(context, sessionId, default) is not { } session)
        {
            return;
        }

        if (!session.TryOpenGetStream())
        {
            await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status409Conflict, McpErrorCodes.ServerError,
                "Conflict: this session already has an open GET stream.");
            return;
        }

        try
        {
            context.Response.Headers[McpProtocol.SessionIdHeader] = session.Id;
            McpHttpResponses.PrepareEventStream(context.Response);
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await session.Transport.HandleGetRequestAsync(context.Response.Body, context.RequestAborted);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client closed its stream.
        }
        finally
        {
            session.CloseGetStream();
        }
    }

    public async Task HandleDeleteAsync(HttpContext context)
    {
        if (await guard.RefuseAsync(context))
        {
            return;
        }

        if (await McpSessionAnswers.RefuseWithoutSessionsAsync(context, Options.Stateless, "has no sessions to end"))
        {
            return;
        }

        var sessionId = context.Request.Headers[McpProtocol.SessionIdHeader].ToString();
        if (sessionId.Length == 0)
        {
            await McpSessionAnswers.WriteSessionRequiredAsync(context);
            return;
        }

        if (await FindSessionAsync(context, sessionId, default) is null)
        {
            return;
        }

        if (!await sessions.EndAsync(sessionId))
        {
            await McpSessionAnswers.WriteSessionNotFoundAsync(context);
            return;
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
    }

    /// <summary>The session a request names, or <see langword="null"/> after answering 404 (unknown or ended) or 403 (another user's).</summary>
    private async Task<McpSession?> FindSessionAsync(HttpContext context, string sessionId, RequestId id)
    {
        if (!sessions.TryGet(sessionId, out var session))
        {
            await McpSessionAnswers.WriteSessionNotFoundAsync(context, id);
            return null;
        }

        return await McpSessionAnswers.IsOwnerAsync(context, session!.Owner, id) ? session : null;
    }

    private async Task HandleStatelessAsync(HttpContext context, JsonRpcMessage message, bool unknownMethodIsNotFound)
    {
        var transport = new StreamableHttpServerTransport(loggerFactory) { Stateless = true };
        var server = McpServer.Create(transport, serverOptions.Value, loggerFactory, context.RequestServices);
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted);
        var running = server.RunAsync(ending.Token);
        try
        {
            await WriteThroughTransportAsync(context, transport, message, hold: !HasProgressToken(message), unknownMethodIsNotFound);
        }
        finally
        {
            // Disposing the transport completes its message channel, so the server's loop ends normally;
            // cancelling first would end it with an exception, which costs more than the rest of an echo.
            await transport.DisposeAsync();
            if (!running.IsCompleted)
            {
                await running.WaitAsync(StatelessDrainTimeout).ContinueWith(static _ => { }, TaskScheduler.Default);
            }

            if (!running.IsCompleted)
            {
                await ending.CancelAsync();
            }

            await running.ContinueWith(static _ => { }, TaskScheduler.Default);
            await server.DisposeAsync();
        }
    }

    private async Task HandleInitializeAsync(HttpContext context, JsonRpcMessage message)
    {
        // The session outlives this request, so it resolves services from the root provider, not the request scope.
        var session = new McpSession(McpSessionStore.NewId(), McpSessionOwner.Of(context.User), serverOptions.Value, loggerFactory, services, time);
        using (session.Use())
        {
            await sessions.AddAsync(session);
            session.Start();
            context.Response.Headers[McpProtocol.SessionIdHeader] = session.Id;
            await WriteThroughTransportAsync(context, session.Transport, message, hold: false);
        }
    }

    /// <summary>
    /// Hands the message to the transport and writes what it answers. Not held, each event goes out as it is
    /// written: needed for progress, and in sessions, where the server may send requests to the client on the
    /// stream. Held, the answer is the response (plus any log messages the tool sent), written whole with a
    /// Content-Length in one send, unless it grows past <see cref="AnswerStream.MaxHeldBytes"/>.
    /// </summary>
    private static async Task WriteThroughTransportAsync(HttpContext context, StreamableHttpServerTransport transport, JsonRpcMessage message, bool hold, bool unknownMethodIsNotFound = false)
    {
        McpHttpResponses.PrepareEventStream(context.Response);
        bool wrote;
        await using (var answer = new AnswerStream(context.Response, hold, unknownMethodIsNotFound))
        {
            wrote = await transport.HandlePostRequestAsync(message, answer, context.RequestAborted);
            await answer.CompleteAsync(context.RequestAborted);
        }

        if (!wrote && !context.Response.HasStarted)
        {
            // Notifications and responses carry nothing back: 202 with no body, as the spec says.
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            context.Response.ContentType = null;
            context.Response.Headers.CacheControl = default;
            context.Response.Headers.ContentEncoding = default;
            context.Response.Headers.Remove("X-Accel-Buffering");
        }
    }

    /// <summary>Whether the request asked for progress (<c>params._meta.progressToken</c>), which must stream.</summary>
    private static bool HasProgressToken(JsonRpcMessage message) =>
        message is JsonRpcRequest { Params: JsonObject parameters } && parameters["_meta"] is JsonObject meta && meta.ContainsKey("progressToken");
}
