using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Protocol;

namespace McpAspire.Mcp;

/// <summary>
/// Runs in front of each endpoint <c>MapMcp()</c> maps, and adds what the SDK's transport does not do:
/// <list type="bullet">
/// <item>the Host and Origin checks against DNS rebinding (<see cref="McpHostGuard"/>), on every method;</item>
/// <item>on POST: the <c>Content-Type</c>, the body cap (413 before a declared oversize body is read), and the
/// JSON-RPC envelope and params checks with their precise errors (<see cref="McpHttpRequestReader"/>), in reader
/// passes over the bytes, without deserializing the message the SDK then reads;</item>
/// <item>admission for <c>tools/call</c> (<see cref="IMcpCallAdmission"/>): 503 and <c>Retry-After</c> before the
/// SDK sees a call the server cannot take;</item>
/// <item>a stateless answer without a progress token is held and sent whole with a <c>Content-Length</c>;</item>
/// <item>DELETE without a session id is 400, and with one no session has, 404.</item>
/// </list>
/// The SDK then reads the body again from the bytes already read, and does the rest.
/// </summary>
internal sealed class McpRequestGate(IOptions<McpEndpointOptions> options, McpHostGuard guard, McpLiveSessions sessions, IServiceProvider services)
{
    // Resolved on first use, so a node's options are validated by the host, all sections at once.
    private readonly Lazy<IMcpCallAdmission?> _admission = new(() => services.GetService(typeof(IMcpCallAdmission)) as IMcpCallAdmission);

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        if (await guard.RefuseAsync(context))
        {
            return;
        }

        if (HttpMethods.IsPost(context.Request.Method))
        {
            await PostAsync(context, next);
            return;
        }

        if (HttpMethods.IsDelete(context.Request.Method) && await RefuseDeleteAsync(context))
        {
            return;
        }

        await next(context);
    }

    private async Task PostAsync(HttpContext context, RequestDelegate next)
    {
        using var request = await McpHttpRequestReader.ReadCheckedAsync(context, options.Value);
        if (request is null)
        {
            return;
        }

        var message = request.Summary;
        using var admission = message is { IsRequest: true, Method: RequestMethods.ToolsCall } && _admission.Value is { } admit
            ? await admit.AdmitAsync(context.RequestAborted)
            : null;
        if (admission?.Refusal is { } refusal)
        {
            await McpHttpResponses.WriteOverloadedAsync(context, refusal, admission.RetryAfter, message.Id);
            return;
        }

        admission?.AttachTo(context);
        context.Request.Body = request.OpenBody();
        // The body was checked as UTF-8 JSON; the SDK reads it under the bare media type, whatever parameters came
        // with it (it fails on a quoted charset).
        if (!string.Equals(context.Request.ContentType, "application/json", StringComparison.Ordinal))
        {
            context.Request.ContentType = "application/json";
        }

        if (!ServedWithoutSession(context.Request) || message.HasProgressToken)
        {
            // In a session the server may send requests to the client on this stream, and progress must
            // reach the client as it happens: both stream.
            await next(context);
            return;
        }

        var body = context.Response.Body;
        await using var answer = new AnswerStream(context.Response, body);
        context.Response.Body = answer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = body;
        }

        await answer.CompleteAsync(context.RequestAborted);
    }

    /// <summary>Answers DELETE without a session id (400) or for a session that is not running (404), as the spec says.</summary>
    private async Task<bool> RefuseDeleteAsync(HttpContext context)
    {
        // Unsupported and per-request versions get the SDK's own answers (400, 405).
        var version = McpHttpRequestReader.DeclaredVersion(context.Request);
        if (version is not null && (!McpProtocol.IsSupported(version) || McpProtocol.IsPerRequest(version)))
        {
            return false;
        }

        var sessionId = context.Request.Headers[McpProtocol.SessionIdHeader].ToString();
        if (sessionId.Length == 0)
        {
            await McpSessionAnswers.WriteSessionRequiredAsync(context);
            return true;
        }

        if (!sessions.Contains(sessionId))
        {
            await McpSessionAnswers.WriteSessionNotFoundAsync(context);
            return true;
        }

        return false;
    }

    /// <summary>Whether the SDK serves this POST on its own, without a session: a stateless endpoint, or a per-request version.</summary>
    private bool ServedWithoutSession(HttpRequest request) => options.Value.Mode switch
    {
        HttpServerSessionMode.Stateless => true,
        HttpServerSessionMode.StatefulForInitializeClients => McpHttpRequestReader.DeclaredVersion(request) is { } version && McpProtocol.IsPerRequest(version),
        _ => false,
    };
}
