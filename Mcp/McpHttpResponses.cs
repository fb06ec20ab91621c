using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpAspire.Mcp;

/// <summary>Writes the HTTP side of MCP answers: JSON-RPC errors and the headers of SSE streams.</summary>
public static class McpHttpResponses
{
    /// <summary>
    /// Answers with a JSON-RPC error as the whole HTTP response.
    /// </summary>
    /// <param name="context">The request being answered.</param>
    /// <param name="statusCode">The HTTP status (400, 404, 406, 413, ... or 200 for errors about a valid exchange).</param>
    /// <param name="code">The JSON-RPC error code.</param>
    /// <param name="message">What went wrong, in words a client developer can act on.</param>
    /// <param name="id">The id of the request, when it could be read.</param>
    /// <param name="data">Optional structured detail.</param>
    public static Task WriteErrorAsync(HttpContext context, int statusCode, int code, string message, RequestId id = default, JsonNode? data = null)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Features.Get<IMcpErrorFeature>()?.FailWithCode(code);
        var error = new JsonRpcError { Id = id, Error = new JsonRpcErrorDetail { Code = code, Message = message, Data = data } };
        return WriteJsonAsync(context, statusCode, error);
    }

    /// <summary>
    /// Refuses a call the server cannot take now: HTTP 503 with <c>Retry-After</c> (whole seconds, at
    /// least 1) and a JSON-RPC error whose message starts "Server overloaded". Nothing ran, so the
    /// caller, or a gateway, may send it elsewhere.
    /// </summary>
    public static Task WriteOverloadedAsync(HttpContext context, string reason, TimeSpan retryAfter, RequestId id = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, McpErrorCodes.ServerError,
            $"Server overloaded: {reason} The call did not run; retry in {seconds} s or on another server.", id);
    }

    /// <summary>Answers with one JSON-RPC message as <c>application/json</c>.</summary>
    public static async Task WriteJsonAsync(HttpContext context, int statusCode, JsonRpcMessage message)
    {
        ArgumentNullException.ThrowIfNull(context);
        context.Response.StatusCode = statusCode;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, message, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage)), context.RequestAborted);
    }

    /// <summary>
    /// Sets the headers of a Server-Sent Events response and turns off response buffering, so each
    /// event reaches the client (and any proxy) as soon as it is written.
    /// </summary>
    public static void PrepareEventStream(HttpResponse response)
    {
        ArgumentNullException.ThrowIfNull(response);
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache,no-store";
        response.Headers.ContentEncoding = "identity";
        response.Headers["X-Accel-Buffering"] = "no";
        response.HttpContext.Features.Get<IHttpResponseBodyFeature>()?.DisableBuffering();
    }
}
