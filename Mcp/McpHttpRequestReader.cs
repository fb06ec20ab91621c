using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpAspire.Mcp;

/// <summary>
/// Validates and reads a POST to <c>/mcp</c>: the <c>Accept</c>, <c>Content-Type</c> and
/// <c>MCP-Protocol-Version</c> headers, the body size and the JSON-RPC message. Every rejection
/// is answered here with the status and JSON-RPC error the specification names.
/// </summary>
public static class McpHttpRequestReader
{
    /// <summary>How much of an oversized body is read and discarded, at least, before the 413 is sent.</summary>
    private const long MinimumDrainBudget = 1024 * 1024;

    /// <summary>How long draining an oversized body may take.</summary>
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Reads the request, or answers it with an error and returns <see langword="null"/>.
    /// </summary>
    public static async Task<McpHttpRequest?> ReadAsync(HttpContext context, McpEndpointOptions options)
    {
        var request = await ReadUnparsedAsync(context, options);
        if (request is not null && !await ParseAsync(context, request))
        {
            request.Dispose();
            return null;
        }

        return request;
    }

    /// <summary>
    /// Checks the headers and reads the body, without parsing it, or answers with an error and returns
    /// <see langword="null"/>. A gateway that can route on the headers alone forwards the body as it is and
    /// leaves checking it to the server behind; anything it answers itself needs <see cref="ParseAsync"/> first.
    /// </summary>
    public static async ValueTask<McpHttpRequest?> ReadUnparsedAsync(HttpContext context, McpEndpointOptions options)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(options);
        var request = context.Request;

        if (!AcceptsJsonAndEventStream(request))
        {
            await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status406NotAcceptable, McpErrorCodes.ServerError,
                "Not Acceptable: the Accept header must include both application/json and text/event-stream.");
            return null;
        }

        if (!IsJsonContent(request))
        {
            await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status415UnsupportedMediaType, McpErrorCodes.ServerError,
                "Unsupported Media Type: the Content-Type must be application/json, in UTF-8.");
            return null;
        }

        if (!await HasSupportedVersionAsync(context))
        {
            return null;
        }

        var declared = DeclaredVersion(request);

        if (request.ContentLength > options.MaxRequestBodyBytes)
        {
            await RejectTooLargeAsync(context, options);
            return null;
        }

        // Kestrel has its own cap (30,000,000 bytes by default). The endpoint's option replaces it, with
        // room to drain an oversized chunked body (see DrainAsync) before answering.
        var drainBudget = Math.Max(options.MaxRequestBodyBytes, MinimumDrainBudget);
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = options.MaxRequestBodyBytes + drainBudget;
        }

        var (buffer, length) = await ReadBodyAsync(request, options.MaxRequestBodyBytes, context.RequestAborted);
        if (buffer is null)
        {
            await DrainAsync(request, context.RequestAborted);
            await RejectTooLargeAsync(context, options);
            return null;
        }

        return new McpHttpRequest(buffer, length, declared);
    }

    /// <summary>
    /// Parses and checks the body of a request from <see cref="ReadUnparsedAsync"/>: the JSON-RPC message, the
    /// shape of its params, and its agreement with the standard headers. Answers a failure with its error and
    /// returns <see langword="false"/>.
    /// </summary>
    public static async Task<bool> ParseAsync(HttpContext context, McpHttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);
        if (Parse(context.Request, request) is not { } failure)
        {
            return true;
        }

        await McpHttpResponses.WriteErrorAsync(context, failure.Status, failure.Code, failure.Message, failure.Id);
        return false;
    }

    /// <summary>As <see cref="ParseAsync"/>, without answering: for when an answer is already under way.</summary>
    public static bool TryParse(HttpRequest http, McpHttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(request);
        return Parse(http, request) is null;
    }

    /// <summary>
    /// Reads the request and checks its body as <see cref="ReadAsync"/> does, but does not deserialize the
    /// message, and leaves comparing the standard headers with the body to the server behind: for a gate in
    /// front of an SDK that reads the body again and compares them itself. What the gate needs of the message
    /// is in <see cref="McpHttpRequest.Summary"/>. Answers a failure and returns <see langword="null"/>.
    /// </summary>
    public static async ValueTask<McpHttpRequest?> ReadCheckedAsync(HttpContext context, McpEndpointOptions options)
    {
        var request = await ReadUnparsedAsync(context, options);
        if (request is null)
        {
            return null;
        }

        if (Check(request) is { } failure)
        {
            request.Dispose();
            await McpHttpResponses.WriteErrorAsync(context, failure.Status, failure.Code, failure.Message, failure.Id);
            return null;
        }

        return request;
    }

    /// <summary>Checks the envelope and the params; the error to answer, or <see langword="null"/> once the request holds its summary.</summary>
    private static ParseFailure? Check(McpHttpRequest request)
    {
        var body = request.Body.Span;
        if (JsonRpcEnvelope.Check(body) is { } problem)
        {
            return new ParseFailure(StatusCodes.Status400BadRequest, problem.Code, problem.Message, default);
        }

        var summary = JsonRpcScan.Scan(body);
        if (summary.ParamsProblem is { } invalid)
        {
            // A request gets its answer as a JSON-RPC error; a notification has none, so the status says it.
            var status = summary.IsRequest ? StatusCodes.Status200OK : StatusCodes.Status400BadRequest;
            return new ParseFailure(status, McpErrorCodes.InvalidParams, $"Invalid params: {invalid}.", summary.Id);
        }

        request.Checked(summary);
        return null;
    }

    /// <summary>Parses and checks the body; the error to answer, or <see langword="null"/> once the request holds the message.</summary>
    private static ParseFailure? Parse(HttpRequest http, McpHttpRequest request)
    {
        if (request.IsParsed)
        {
            return null;
        }

        // A gateway may have run the checks already (see ToolCalledInBody); a body that failed them is checked again here, to be answered.
        if (!request.IsChecked && Check(request) is { } failure)
        {
            return failure;
        }

        var body = request.Body.Span;
        JsonRpcMessage? message = null;
        try
        {
            message = JsonSerializer.Deserialize(body, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage))) as JsonRpcMessage;
        }
        catch (JsonException)
        {
            // A well-formed envelope the SDK still cannot map (a malformed 'error' member, say): answered below.
        }

        if (message is null)
        {
            return new ParseFailure(StatusCodes.Status400BadRequest, McpErrorCodes.InvalidRequest,
                "Invalid Request: the body is not a JSON-RPC 2.0 request, notification or response (check 'jsonrpc', 'method', 'id').", default);
        }

        if (Disagreement(http, message) is { } disagreement)
        {
            return disagreement;
        }

        request.Parsed(message);
        return null;
    }

    /// <summary>
    /// Checks <c>MCP-Protocol-Version</c> (on any method): absent means <see cref="McpProtocol.DefaultVersion"/>;
    /// an unsupported value is answered 400 with the supported list, and <see langword="false"/> returned.
    /// </summary>
    public static async Task<bool> HasSupportedVersionAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var headers = context.Request.Headers[McpProtocol.ProtocolVersionHeader];
        if (headers.Count == 0 || (headers.Count == 1 && McpProtocol.IsSupported(headers[0]!)))
        {
            return true;
        }

        var supported = McpProtocol.UnsupportedVersionData(McpProtocol.SupportedVersions, headers.ToString());
        await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCodes.UnsupportedProtocolVersion,
            $"Bad Request: unsupported MCP-Protocol-Version '{Truncate(headers.ToString())}'. Supported: {string.Join(", ", McpProtocol.SupportedVersions)}.", data: supported);
        return false;
    }

    /// <summary>
    /// The tool a 2026-07-28 <c>tools/call</c>, read by <see cref="ReadUnparsedAsync"/>, names in its headers,
    /// decoded: <c>Mcp-Method</c> and <c>Mcp-Name</c> each given once. <see langword="null"/> for any other request,
    /// or a name that does not decode; the body is not looked at.
    /// </summary>
    public static string? ToolNamedByHeaders(HttpRequest http, McpHttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(request);
        var headers = http.Headers;
        return McpProtocol.IsPerRequest(request.ProtocolVersion)
            && headers[McpProtocol.MethodHeader] is { Count: 1 } method && method[0] == RequestMethods.ToolsCall
            && headers[McpProtocol.NameHeader] is { Count: 1 } name && McpRequestHeaders.TryDecode(name[0] ?? string.Empty, out var decoded) && decoded.Length > 0
                ? decoded
                : null;
    }

    /// <summary>
    /// The tool a <c>tools/call</c> from before 2026-07-28, read by <see cref="ReadUnparsedAsync"/>, names in its body,
    /// read in one reader pass without deserializing the message: for a gateway that routes it on the name and passes
    /// the body on as it is. <see langword="null"/> unless <see cref="ParseAsync"/> would accept the request as that
    /// call: the body passes the checks, it sends no <c>Mcp-Method</c> or <c>Mcp-Name</c> header and no version in
    /// <c>params._meta</c> for <see cref="ParseAsync"/> to compare, nor a <c>tracestate</c> (which only the parsed
    /// message gives the span); anything else is left to <see cref="ParseAsync"/>.
    /// </summary>
    public static string? ToolCalledInBody(HttpRequest http, McpHttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(request);
        if (McpProtocol.IsPerRequest(request.ProtocolVersion)
            || http.Headers.ContainsKey(McpProtocol.MethodHeader) || http.Headers.ContainsKey(McpProtocol.NameHeader)
            || (!request.IsChecked && Check(request) is not null))
        {
            return null;
        }

        var summary = request.Summary;
        return summary is { IsRequest: true, Method: RequestMethods.ToolsCall, Target: { } tool, MetaVersion: null, HasTraceState: false } ? tool : null;
    }

    /// <summary>The version named by <c>MCP-Protocol-Version</c>, or <see langword="null"/> when the header is absent.</summary>
    public static string? DeclaredVersion(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers[McpProtocol.ProtocolVersionHeader].ToString();
        return header.Length == 0 ? null : header;
    }

    /// <summary>The error for a message whose standard headers disagree with it.</summary>
    private static ParseFailure? Disagreement(HttpRequest http, JsonRpcMessage message)
    {
        var id = McpParams.IdOf(message);
        if (McpRequestHeaders.MissingMetaVersion(message, DeclaredVersion(http)) is { } missing)
        {
            return new ParseFailure(StatusCodes.Status400BadRequest, McpErrorCodes.InvalidParams, $"Invalid params: {missing}.", id);
        }

        return McpRequestHeaders.Check(http.Headers, message, DeclaredVersion(http)) is { } mismatch
            ? new ParseFailure(StatusCodes.Status400BadRequest, McpErrorCodes.HeaderMismatch, $"Header mismatch: {mismatch}.", id)
            : null;
    }

    private static bool AcceptsJsonAndEventStream(HttpRequest request)
    {
        // What MCP clients send, checked without parsing it.
        if (request.Headers.Accept is { Count: 1 } single
            && string.Equals(single[0], "application/json, text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        var json = false;
        var eventStream = false;
        foreach (var accept in request.GetTypedHeaders().Accept)
        {
            json |= accept.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || accept.MatchesAllTypes;
            eventStream |= accept.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase) || accept.MatchesAllTypes;
        }

        return json && eventStream;
    }

    // JSON-RPC over HTTP is UTF-8: another charset would not be read as the bytes were checked. The first two values
    // are what MCP clients send (.NET's JsonContent and StringContent send the second), compared without parsing them.
    private static bool IsJsonContent(HttpRequest request) =>
        string.Equals(request.ContentType, "application/json", StringComparison.OrdinalIgnoreCase)
        || string.Equals(request.ContentType, "application/json; charset=utf-8", StringComparison.OrdinalIgnoreCase)
        || MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
        && contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
        && (!contentType.Charset.HasValue || HeaderUtilities.RemoveQuotes(contentType.Charset).Equals("utf-8", StringComparison.OrdinalIgnoreCase));

    private static Task RejectTooLargeAsync(HttpContext context, McpEndpointOptions options) =>
        McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status413PayloadTooLarge, McpErrorCodes.InvalidRequest,
            $"Payload Too Large: the request body exceeds the limit of {options.MaxRequestBodyBytes} bytes (Mcp:MaxRequestBodyBytes).");

    /// <summary>
    /// Reads and discards the rest of an oversized body, so the client, still sending, sees the 413
    /// rather than a reset connection (closing a socket with unread data resets it, and the reset
    /// discards the answer on the client's side). Kestrel's raised cap and its minimum data rate bound
    /// the drain, and so does <see cref="DrainTimeout"/>; past them the connection is closed.
    /// </summary>
    private static async Task DrainAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(DrainTimeout);
        var scratch = ArrayPool<byte>.Shared.Rent(16 * 1024);
        try
        {
            while (await request.Body.ReadAsync(scratch, timeout.Token) > 0)
            {
            }
        }
        catch (Exception ex) when (ex is BadHttpRequestException or OperationCanceledException or IOException)
        {
            // Too much, too slow, or gone: the answer may not arrive, and the connection will not be reused.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(scratch);
        }
    }

    /// <summary>Reads the whole body into a pooled buffer, stopping as soon as it passes the limit.</summary>
    private static async ValueTask<(byte[]? Buffer, int Length)> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
    {
        // One byte more than a declared length, so reading the end of the body needs no second buffer.
        var initial = (int)Math.Min(limit + 1, request.ContentLength is > 0 and var known ? known + 1 : 4096);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(initial, 256));
        var length = 0;
        try
        {
            while (true)
            {
                if (length == buffer.Length)
                {
                    var larger = ArrayPool<byte>.Shared.Rent((int)Math.Min(limit + 1, (long)buffer.Length * 2));
                    buffer.AsSpan(0, length).CopyTo(larger);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = larger;
                }

                int read;
                try
                {
                    read = await request.Body.ReadAsync(buffer.AsMemory(length), cancellationToken);
                }
                catch (BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                {
                    // The server's cap tripped first (when it is lower than the endpoint's, as under a test host).
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0);
                }

                if (read == 0)
                {
                    return (buffer, length);
                }

                length += read;
                if (length > limit)
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                    return (null, 0);
                }
            }
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(buffer);
            throw;
        }
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : string.Concat(value.AsSpan(0, 40), "...");
}

/// <summary>Why a body failed the checks, as its answer: HTTP status, JSON-RPC code, message and the request's id.</summary>
internal readonly record struct ParseFailure(int Status, int Code, string Message, RequestId Id);
