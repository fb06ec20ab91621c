using McpAspire.Mcp;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Sessions;

/// <summary>
/// The answers about sessions that only the coordinator gives itself; behind it, a node's SDK gives its own.
/// </summary>
internal static class GatewaySessionAnswers
{
    /// <summary>
    /// Refuses a per-request version (2026-07-28) on a stateful endpoint. That revision removed sessions, and
    /// the features a stateful endpoint exists for (sampling, elicitation, logging levels, subscriptions) work
    /// differently there; rather than serve such a client without them, the error lists the versions that
    /// have them, and clients fall back to <c>initialize</c> with one (the official SDKs do so by themselves).
    /// </summary>
    public static Task WriteSessionsOnlyAsync(HttpContext context, McpHttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var sessionVersions = McpProtocol.SupportedVersions.Where(version => !McpProtocol.IsPerRequest(version)).ToArray();
        var data = McpProtocol.UnsupportedVersionData(sessionVersions, request.ProtocolVersion);
        return McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCodes.UnsupportedProtocolVersion,
            $"Unsupported protocol version: this endpoint runs stateful sessions, which {request.ProtocolVersion} removed. " +
            $"Send initialize with one of {string.Join(", ", sessionVersions)}.", McpParams.IdOf(request.Message), data);
    }

    /// <summary>
    /// Answers GET and DELETE where there are no sessions, and returns whether it did: an unsupported version
    /// is 400; a stateless endpoint, or a per-request version (2026-07-28 removed sessions and the GET stream),
    /// is 405. <paramref name="what"/> ends the 405's message, e.g. "has no sessions to end".
    /// </summary>
    public static async Task<bool> RefuseWithoutSessionsAsync(HttpContext context, bool stateless, string what)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!await McpHttpRequestReader.HasSupportedVersionAsync(context))
        {
            return true;
        }

        var version = McpHttpRequestReader.DeclaredVersion(context.Request);
        var why = version is not null && McpProtocol.IsPerRequest(version) ? $"protocol version {version}"
            : stateless ? "this endpoint, which is stateless,"
            : null;
        if (why is null)
        {
            return false;
        }

        context.Response.Headers.Allow = HttpMethods.Post;
        await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, McpErrorCodes.ServerError,
            $"Method Not Allowed: {why} {what}.");
        return true;
    }

    /// <summary>
    /// Whether the request comes from the user who opened the session; if not, answers 403 and the session
    /// stays usable by its owner.
    /// </summary>
    public static async Task<bool> IsOwnerAsync(HttpContext context, McpSessionOwner? owner, RequestId id = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (owner == McpSessionOwner.Of(context.User))
        {
            return true;
        }

        await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status403Forbidden, McpErrorCodes.ServerError,
            "Forbidden: the signed-in user does not match the user who initiated the session; send initialize to start your own.", id);
        return false;
    }
}
