using System.Buffers;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Net.Http.Headers;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpAspire.ServiceDefaults.Mcp;

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
                "Unsupported Media Type: the Content-Type must be application/json.");
            return null;
        }

        var version = request.Headers[McpProtocol.ProtocolVersionHeader].ToString();
        if (version.Length == 0)
        {
            version = McpProtocol.DefaultVersion;
        }
        else if (!McpProtocol.IsSupported(version))
        {
            await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCodes.ServerError,
                $"Bad Request: unsupported MCP-Protocol-Version '{Truncate(version)}'. Supported: {string.Join(", ", McpProtocol.SupportedVersions)}.");
            return null;
        }

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

        var message = await ParseAsync(context, buffer.AsMemory(0, length));
        if (message is null)
        {
            ArrayPool<byte>.Shared.Return(buffer);
            return null;
        }

        return new McpHttpRequest(message, buffer, length, version);
    }

    private static bool AcceptsJsonAndEventStream(HttpRequest request)
    {
        var json = false;
        var eventStream = false;
        foreach (var accept in request.GetTypedHeaders().Accept)
        {
            json |= accept.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) || accept.MatchesAllTypes;
            eventStream |= accept.MediaType.Equals("text/event-stream", StringComparison.OrdinalIgnoreCase) || accept.MatchesAllTypes;
        }

        return json && eventStream;
    }

    private static bool IsJsonContent(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
        && contentType.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase);

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
    private static async Task<(byte[]? Buffer, int Length)> ReadBodyAsync(HttpRequest request, long limit, CancellationToken cancellationToken)
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

    private static async Task<JsonRpcMessage?> ParseAsync(HttpContext context, ReadOnlyMemory<byte> body)
    {
        var shape = Inspect(body.Span);
        switch (shape)
        {
            case BodyShape.Object:
                break;
            case BodyShape.Array:
                await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCodes.InvalidRequest,
                    "Invalid Request: JSON-RPC batches are not supported; send one message per POST.");
                return null;
            case BodyShape.OtherJson:
                await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCodes.InvalidRequest,
                    "Invalid Request: the body must be a JSON-RPC message object.");
                return null;
            default:
                await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCodes.ParseError,
                    "Parse error: the body is not valid JSON.");
                return null;
        }

        try
        {
            var message = JsonSerializer.Deserialize(body.Span, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage))) as JsonRpcMessage;
            if (message is not null && message.JsonRpc == "2.0")
            {
                return message;
            }
        }
        catch (JsonException)
        {
            // Valid JSON that the SDK cannot map to a message: answered below as an invalid request.
        }

        await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCodes.InvalidRequest,
            "Invalid Request: the body is not a JSON-RPC 2.0 request, notification or response (check 'jsonrpc', 'method', 'id').");
        return null;
    }

    private enum BodyShape
    {
        Invalid,
        Object,
        Array,
        OtherJson,
    }

    /// <summary>Checks the body is well-formed JSON and finds its top-level shape, without allocating a DOM.</summary>
    private static BodyShape Inspect(ReadOnlySpan<byte> body)
    {
        try
        {
            var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
            if (!reader.Read())
            {
                return BodyShape.Invalid;
            }

            var first = reader.TokenType;
            reader.Skip();
            if (reader.Read())
            {
                return BodyShape.Invalid;
            }

            return first switch
            {
                JsonTokenType.StartObject => BodyShape.Object,
                JsonTokenType.StartArray => BodyShape.Array,
                _ => BodyShape.OtherJson,
            };
        }
        catch (JsonException)
        {
            return BodyShape.Invalid;
        }
    }

    private static string Truncate(string value) => value.Length <= 40 ? value : string.Concat(value.AsSpan(0, 40), "...");
}
