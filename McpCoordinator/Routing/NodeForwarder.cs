using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.Cluster.Security;
using McpAspire.Mcp;
using McpAspire.McpCoordinator.Registry;
using McpAspire.McpCoordinator.Security;
using McpAspire.McpCoordinator.Sessions;
using Microsoft.Extensions.Options;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// Forwards one MCP request (a POST, or a pinned session's GET or DELETE) to a node and streams the
/// node's answer to the client as it arrives, so progress notifications reach the client while the tool
/// runs. Only an answer the node sent whole, with a <c>Content-Length</c> of at most <see cref="WholeAnswerLimit"/>,
/// is read whole first. A client disconnect aborts the upstream request, which cancels the tool on the node.
/// </summary>
/// <remarks>
/// Node traffic goes through one <see cref="SocketsHttpHandler"/>, which keeps a pool of connections per node.
/// It is called directly rather than through <see cref="IHttpClientFactory"/>: the factory's logging and
/// service-discovery handlers cost every forwarded call a share of the coordinator's CPU and add nothing here,
/// since node URLs are concrete and the gateway logs and traces calls itself. The HTTP client span remains.
/// No proxy is used: nodes are reached at the addresses they publish, whatever <c>HTTP_PROXY</c> says.
/// </remarks>
public sealed class NodeForwarder : IDisposable
{
    /// <summary>
    /// The largest answer with a <c>Content-Length</c> that is read whole before any of it is sent on. A node
    /// sends an answer that way when it had nothing to stream, so holding it costs the client nothing, and a
    /// failure while reading it leaves the client's response untouched.
    /// </summary>
    public const int WholeAnswerLimit = 64 * 1024;

    private static readonly MediaTypeHeaderValue JsonContentType = new("application/json");

    private static readonly ReadOnlyMemory<byte> PingBody = """{"jsonrpc":"2.0","id":"mcpaspire-breaker-probe","method":"ping"}"""u8.ToArray();

    private static readonly ForwardOutcome SessionNotCarried = ForwardOutcome.NotPassedOn(
        $"the id of the session it opened, sealed with its user, would be longer than {PinnedSessionIds.MaxIdLength} characters");

    private readonly HttpMessageInvoker _nodes;
    private readonly ClusterCredentials _credentials;
    private readonly CallerAssertion _callers;

    /// <summary>
    /// Creates the forwarder and its connection pools, configured by <paramref name="options"/>. Every connection
    /// is opened through <paramref name="urls"/>. When there is a cluster key, every request carries a credential, and
    /// the authenticated caller it is for, signed by <paramref name="callers"/>.
    /// </summary>
    public NodeForwarder(IOptions<CoordinatorOptions> options, NodeUrlPolicy urls, ClusterCredentials credentials, CallerAssertion callers)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(urls);
        ArgumentNullException.ThrowIfNull(credentials);
        ArgumentNullException.ThrowIfNull(callers);
        _credentials = credentials;
        _callers = callers;
        var settings = options.Value;
        _nodes = new HttpMessageInvoker(new SocketsHttpHandler
        {
            ConnectCallback = urls.ConnectAsync,
            ConnectTimeout = settings.ConnectTimeout,
            PooledConnectionLifetime = settings.PooledConnectionLifetime,
            MaxConnectionsPerServer = settings.MaxConnectionsPerNode,
            AllowAutoRedirect = false,
            UseCookies = false,
            UseProxy = false,
            AutomaticDecompression = DecompressionMethods.None,
        });
    }

    /// <summary>
    /// Sends <paramref name="request"/> to the node, with the client's MCP headers, and copies the node's
    /// answer to the client (as it arrives, unless it came whole).
    /// </summary>
    public ValueTask<ForwardOutcome> ForwardAsync(HttpContext context, RegisteredNode node, NodeRequest request) =>
        ForwardAsync(context, node, request, context?.RequestAborted ?? default);

    /// <summary>
    /// As <see cref="ForwardAsync(HttpContext, RegisteredNode, NodeRequest)"/>, ended by <paramref name="cancellationToken"/>
    /// (which must include the client's disconnect) rather than by the client's disconnect alone.
    /// </summary>
    public async ValueTask<ForwardOutcome> ForwardAsync(HttpContext context, RegisteredNode node, NodeRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(request);
        using var upstream = Upstream(context, node, request);
        HttpResponseMessage response;
        try
        {
            response = await _nodes.SendAsync(upstream, cancellationToken);
        }
        catch (Exception ex) when (SendFailure(ex, cancellationToken) is { } failure)
        {
            return failure;
        }

        using (response)
        {
            if (request.MayTryElsewhere && response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                // Overloaded or draining: the node refused before running anything, so the caller may pick another.
                return ForwardOutcome.Refused(await RefusalReasonAsync(response, cancellationToken), response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
            }

            return response.Content.Headers.ContentLength is <= WholeAnswerLimit and var length && request.Method != HttpMethod.Get
                ? await ForwardWholeAsync(context, request, response, (int)length, cancellationToken)
                : await ForwardStreamAsync(context, request, response, cancellationToken);
        }
    }

    /// <summary>
    /// A JSON-RPC <c>ping</c> POST, for <see cref="INodeProbe"/>. Any HTTP answer short of a server error shows the node
    /// is up: a stateful node answers 400 to a request without a session, and a busy or draining one 503.
    /// </summary>
    public async Task<ForwardOutcome> ProbeAsync(RegisteredNode node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(NodeBreakers.ProbeTimeout);
        using var ping = new HttpRequestMessage(HttpMethod.Post, node.Heartbeat.McpUrl) { Content = new ReadOnlyMemoryContent(PingBody) };
        ping.Content.Headers.ContentType = JsonContentType;
        ping.Headers.TryAddWithoutValidation("Accept", "application/json, text/event-stream");
        AddCredential(ping);
        try
        {
            HttpResponseMessage response;
            try
            {
                response = await _nodes.SendAsync(ping, timeout.Token);
            }
            catch (Exception ex) when (SendFailure(ex, timeout.Token) is { } failure)
            {
                return failure;
            }

            using (response)
            {
                return (int)response.StatusCode >= 500 && response.StatusCode != HttpStatusCode.ServiceUnavailable
                    ? ForwardOutcome.FailedAfterSend($"the probe got HTTP {(int)response.StatusCode}")
                    : ForwardOutcome.Forwarded;
            }
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested)
        {
            return ForwardOutcome.FailedAfterSend($"the probe had no answer within {NodeBreakers.ProbeTimeout.TotalSeconds:0} s");
        }
    }

    /// <summary>
    /// Why a request sent to its node got no response, when <paramref name="ex"/> says: nothing was sent when the node
    /// could not be reached (or connecting timed out); otherwise it may have been. <see langword="null"/> for anything
    /// else, the caller's own cancellation among it.
    /// </summary>
    private static ForwardOutcome? SendFailure(Exception ex, CancellationToken cancellationToken) => ex switch
    {
        HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } => ForwardOutcome.NotConnected(ex.Message),
        OperationCanceledException { InnerException: TimeoutException } when !cancellationToken.IsCancellationRequested => ForwardOutcome.NotConnected("connecting timed out"),
        HttpRequestException => ForwardOutcome.FailedAfterSend(ex.Message),
        _ => null,
    };

    /// <inheritdoc />
    public void Dispose() => _nodes.Dispose();

    private void AddCredential(HttpRequestMessage request)
    {
        if (_credentials.IsEnabled)
        {
            request.Headers.TryAddWithoutValidation(ClusterCredentials.HeaderName, _credentials.Current());
        }
    }

    private HttpRequestMessage Upstream(HttpContext context, RegisteredNode node, NodeRequest request)
    {
        var upstream = new HttpRequestMessage(request.Method, node.Heartbeat.McpUrl);
        AddCredential(upstream);
        if (_callers.IsEnabled && Caller.Of(context).SignedAssertion(_callers) is { } caller)
        {
            upstream.Headers.TryAddWithoutValidation(CallerAssertion.HeaderName, caller);
        }

        if (request.Method == HttpMethod.Post)
        {
            upstream.Content = new ReadOnlyMemoryContent(request.Body);
            upstream.Content.Headers.ContentType = JsonContentType;
        }

        var accept = context.Request.Headers.Accept;
        upstream.Headers.TryAddWithoutValidation("Accept", accept.Count > 0 ? accept.ToString() : "application/json, text/event-stream");
        if (request.ProtocolVersion is { } version)
        {
            upstream.Headers.TryAddWithoutValidation(McpProtocol.ProtocolVersionHeader, version);
        }

        if (request.SessionId is { } sessionId)
        {
            upstream.Headers.TryAddWithoutValidation(McpProtocol.SessionIdHeader, sessionId);
        }

        foreach (var header in (ReadOnlySpan<string>)[McpProtocol.MethodHeader, McpProtocol.NameHeader])
        {
            // The reader checked they match the body; a 2026-07-28 node requires them.
            if (context.Request.Headers[header] is { Count: 1 } value)
            {
                upstream.Headers.TryAddWithoutValidation(header, value.ToString());
            }
        }

        return upstream;
    }

    /// <summary>
    /// An answer the node sent whole, with its length: read all of it, then send it on in one write. If reading
    /// fails, nothing has reached the client, and the caller may still answer it afresh.
    /// </summary>
    private static async ValueTask<ForwardOutcome> ForwardWholeAsync(HttpContext context, NodeRequest request, HttpResponseMessage response, int length, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            try
            {
                // The node's answer is already a stream of the connection: taking it blocks nothing, and makes no task.
                await using var body = response.Content.ReadAsStream(cancellationToken);
                await body.ReadExactlyAsync(buffer.AsMemory(0, length), cancellationToken);
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                return ForwardOutcome.FailedAfterSend(ex.Message);
            }

            if (!CopyHeaders(context, request, response))
            {
                return SessionNotCarried;
            }

            context.Response.ContentLength = length;
            await context.Response.Body.WriteAsync(buffer.AsMemory(0, length), cancellationToken);
            return ForwardOutcome.Forwarded;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>An answer of unknown length (an event stream that carries progress, say): copy it as it comes.</summary>
    private static async ValueTask<ForwardOutcome> ForwardStreamAsync(HttpContext context, NodeRequest request, HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (!CopyHeaders(context, request, response))
        {
            return SessionNotCarried;
        }

        var eventStream = string.Equals(context.Response.ContentType, "text/event-stream", StringComparison.Ordinal);
        if (request.Method == HttpMethod.Get && eventStream)
        {
            // A GET stream may carry nothing for a long time: the client needs the headers now. A POST's
            // go out with its first event, so until then a failed call can still be answered afresh.
            await context.Response.Body.FlushAsync(cancellationToken);
        }

        // A POST's event stream ends with the answer to its request: once that has gone through, a break after
        // it costs the client nothing, and another answer would be one too many.
        var watch = request.Method == HttpMethod.Post && eventStream ? new SseAnswerWatch() : null;
        try
        {
            await CopyAsync(response, context.Response.Body, watch, cancellationToken);
        }
        catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
        {
            // Some bytes may have reached the client already; all that is left is to end the stream.
            return watch?.SawResponse == true ? ForwardOutcome.Forwarded : ForwardOutcome.BrokenMidStream(ex.Message);
        }

        return ForwardOutcome.Forwarded;
    }

    /// <summary>Copies the node's answer to the client as it arrives, showing it to <paramref name="watch"/> on the way.</summary>
    private static async Task CopyAsync(HttpResponseMessage response, Stream client, SseAnswerWatch? watch, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            int read;
            while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                await client.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                watch?.Observe(buffer.AsSpan(0, read));
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>
    /// The node's status and the headers the client needs, with the session id mapped to the client's.
    /// <see langword="false"/>, with nothing set, when a successful answer's session id cannot be mapped.
    /// </summary>
    private static bool CopyHeaders(HttpContext context, NodeRequest request, HttpResponseMessage response)
    {
        if (response.IsSuccessStatusCode && request.SessionIdForClient is { } map)
        {
            if (map(response.Headers.TryGetValues(McpProtocol.SessionIdHeader, out var ids) ? ids.First() : null) is not { } clientSessionId)
            {
                return false;
            }

            context.Response.Headers[McpProtocol.SessionIdHeader] = clientSessionId;
        }

        context.Response.StatusCode = (int)response.StatusCode;

        if (response.Content.Headers.Allow.Count > 0)
        {
            context.Response.Headers.Allow = string.Join(", ", response.Content.Headers.Allow);
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        if (string.Equals(mediaType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            McpHttpResponses.PrepareEventStream(context.Response);
        }
        else if (response.Content.Headers.ContentType is { } contentType)
        {
            context.Response.ContentType = contentType.ToString();
        }

        return true;
    }

    /// <summary>The JSON-RPC error message of a node's refusal, read from at most 4 KiB of its body.</summary>
    private static async Task<string> RefusalReasonAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var length = 0;
        await using (var body = await response.Content.ReadAsStreamAsync(cancellationToken))
        {
            int read;
            while (length < buffer.Length && (read = await body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
            }
        }

        try
        {
            return JsonNode.Parse(buffer.AsSpan(0, length))?["error"]?["message"]?.GetValue<string>() ?? "HTTP 503";
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            return "HTTP 503";
        }
    }
}

/// <summary>What to send a node: the client's request, as the node should see it.</summary>
public sealed record NodeRequest
{
    /// <summary>POST, GET or DELETE.</summary>
    public required HttpMethod Method { get; init; }

    /// <summary>The exact body to send with a POST.</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>The <c>MCP-Protocol-Version</c> to send, when there is one.</summary>
    public string? ProtocolVersion { get; init; }

    /// <summary>
    /// Whether a 503 (overloaded or draining) comes back as <see cref="ForwardOutcome.Refused"/> instead of going
    /// to the client, so the call can be sent to another node.
    /// </summary>
    public bool MayTryElsewhere { get; init; }

    /// <summary>The node's own session id, for a request in a pinned session.</summary>
    public string? SessionId { get; init; }

    /// <summary>
    /// Maps the node's <c>Mcp-Session-Id</c> answer header (or <see langword="null"/> without one) to the one the
    /// client gets, when the node's answer is a success. Without it, no session id reaches the client. When it
    /// gives <see langword="null"/>, the answer is not passed on and the forward fails.
    /// </summary>
    public Func<string?, string?>? SessionIdForClient { get; init; }

    /// <summary>
    /// A POST of <paramref name="request"/>'s exact body outside any session; <paramref name="mayTryElsewhere"/> sets
    /// <see cref="MayTryElsewhere"/> (made here, not with <c>with</c>, since a call makes one per attempt).
    /// </summary>
    public static NodeRequest Post(McpHttpRequest request, bool mayTryElsewhere = false)
    {
        ArgumentNullException.ThrowIfNull(request);
        return new NodeRequest { Method = HttpMethod.Post, Body = request.Body, ProtocolVersion = request.DeclaredVersion, MayTryElsewhere = mayTryElsewhere };
    }
}

/// <summary>How a forward ended.</summary>
/// <param name="Kind">What happened.</param>
/// <param name="Reason">The error, when there was one.</param>
public sealed record ForwardOutcome(ForwardOutcomeKind Kind, string? Reason = null)
{
    /// <summary>The node's answer reached the client (should its stream have broken, only after the answer itself).</summary>
    public static ForwardOutcome Forwarded { get; } = new(ForwardOutcomeKind.Forwarded);

    /// <summary>The node could not be reached; the request was never sent, so another node may take it.</summary>
    public static ForwardOutcome NotConnected(string reason) => new(ForwardOutcomeKind.NotConnected, reason);

    /// <summary>The request was sent, but no answer came: the tool may or may not have run.</summary>
    public static ForwardOutcome FailedAfterSend(string reason) => new(ForwardOutcomeKind.FailedAfterSend, reason);

    /// <summary>The answer broke off after it had started reaching the client.</summary>
    public static ForwardOutcome BrokenMidStream(string reason) => new(ForwardOutcomeKind.BrokenMidStream, reason);

    /// <summary>The node answered 503, overloaded or draining: nothing ran, and nothing reached the client.</summary>
    public static ForwardOutcome Refused(string reason, TimeSpan retryAfter) => new(ForwardOutcomeKind.Refused, reason) { RetryAfter = retryAfter };

    /// <summary>
    /// The node answered, but its answer cannot be passed on (the session it opened would need an id too long to
    /// seal): nothing reached the client, and the node is not at fault.
    /// </summary>
    public static ForwardOutcome NotPassedOn(string reason) => new(ForwardOutcomeKind.NotPassedOn, reason);

    /// <summary>For <see cref="ForwardOutcomeKind.Refused"/>: how long the node asked callers to wait.</summary>
    public TimeSpan RetryAfter { get; private init; }

    /// <summary>Whether the node failed (it could not be reached, or its answer failed), as its circuit breaker counts.</summary>
    public bool IsNodeFailure => Kind is ForwardOutcomeKind.NotConnected or ForwardOutcomeKind.FailedAfterSend or ForwardOutcomeKind.BrokenMidStream;
}

/// <summary>The kinds of <see cref="ForwardOutcome"/>.</summary>
public enum ForwardOutcomeKind
{
    /// <summary>See <see cref="ForwardOutcome.Forwarded"/>.</summary>
    Forwarded,

    /// <summary>See <see cref="ForwardOutcome.NotConnected"/>.</summary>
    NotConnected,

    /// <summary>See <see cref="ForwardOutcome.FailedAfterSend"/>.</summary>
    FailedAfterSend,

    /// <summary>See <see cref="ForwardOutcome.BrokenMidStream"/>.</summary>
    BrokenMidStream,

    /// <summary>See <see cref="ForwardOutcome.Refused"/>.</summary>
    Refused,

    /// <summary>See <see cref="ForwardOutcome.NotPassedOn"/>.</summary>
    NotPassedOn,
}
