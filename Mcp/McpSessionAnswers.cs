using Microsoft.AspNetCore.Http;
using ModelContextProtocol.Protocol;

namespace McpAspire.Mcp;

/// <summary>
/// The answers about sessions that a node's request gate and the coordinator give the same way, where the
/// SDK does not answer for the node.
/// </summary>
public static class McpSessionAnswers
{
    /// <summary>400: a stateful endpoint needs <c>Mcp-Session-Id</c> on everything but <c>initialize</c>.</summary>
    public static Task WriteSessionRequiredAsync(HttpContext context, RequestId id = default) =>
        McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCodes.ServerError,
            "Bad Request: Mcp-Session-Id header is required for every request after initialize.", id);

    /// <summary>
    /// 404: the session is unknown or has ended, so the client must send <c>initialize</c> again.
    /// <paramref name="why"/>, when given, replaces the general reason.
    /// </summary>
    public static Task WriteSessionNotFoundAsync(HttpContext context, RequestId id = default, string? why = null) =>
        McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status404NotFound, McpErrorCodes.SessionNotFound,
            $"Session not found: {why ?? "the Mcp-Session-Id is unknown or the session has ended"}; send initialize to start a new one.", id);
}
