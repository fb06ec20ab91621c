using McpAspire.Mcp;
using McpAspire.McpCoordinator.Registry;
using McpAspire.McpCoordinator.Security;
using McpAspire.McpCoordinator.Sessions;
using McpAspire.McpCoordinator.Telemetry;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// Stateful mode (<c>Mcp:Stateless=false</c>): <c>initialize</c> opens a session on a lightly loaded ready
/// node, and the client gets a sealed id that names the node and the node's session (see
/// <see cref="PinnedSessionIds"/>). Every later POST, GET and DELETE with that id goes to that node, so
/// server-to-client requests, GET streams and notifications flow both ways. The coordinator keeps no
/// session state: any replica with the same key routes any session. When the node is gone, the session
/// is too, and the client gets 404 and initializes again.
/// </summary>
public sealed partial class McpGateway
{
    /// <summary>Handles a GET of <c>/mcp</c>: a pinned session's server-to-client stream.</summary>
    public Task HandleGetAsync(HttpContext context) => HandleSessionRequestAsync(context, HttpMethod.Get, "has no server-to-client stream; use POST");

    /// <summary>Handles a DELETE of <c>/mcp</c>: ends a pinned session on its node.</summary>
    public Task HandleDeleteAsync(HttpContext context) => HandleSessionRequestAsync(context, HttpMethod.Delete, "has no sessions to end");

    private async Task HandleSessionRequestAsync(HttpContext context, HttpMethod method, string what)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await guard.RefuseAsync(context) || await GatewaySessionAnswers.RefuseWithoutSessionsAsync(context, endpointOptions.Value.IsStateless, what))
        {
            return;
        }

        var sessionId = context.Request.Headers[McpProtocol.SessionIdHeader].ToString();
        if (sessionId.Length == 0)
        {
            await McpSessionAnswers.WriteSessionRequiredAsync(context);
            return;
        }

        if (await FindPinnedAsync(context, sessionId, default) is not var (session, node))
        {
            return;
        }

        // A GET stream lasts as long as the client keeps it: end it when the coordinator stops, so the client
        // reconnects to another replica instead of holding up this one's shutdown.
        using var ending = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        try
        {
            var outcome = await forwarder.ForwardAsync(context, node, new NodeRequest
            {
                Method = method,
                ProtocolVersion = McpHttpRequestReader.DeclaredVersion(context.Request),
                SessionId = session.UpstreamSessionId,
                SessionIdForClient = _ => sessionId,
            }, ending.Token);
            if (method == HttpMethod.Delete && outcome.Kind == ForwardOutcomeKind.Forwarded)
            {
                await quota.ReturnAsync(Caller.Of(context), session.QuotaSlot);
            }

            await SessionForwardFailedAsync(context, node.Id, outcome, default);
        }
        catch (OperationCanceledException) when (lifetime.ApplicationStopping.IsCancellationRequested && !context.RequestAborted.IsCancellationRequested)
        {
            // The coordinator is stopping; the stream ends here.
        }
    }

    private async Task HandleSessionPostAsync(HttpContext context, McpHttpRequest request)
    {
        var id = McpParams.IdOf(request.Message);
        if (McpProtocol.IsPerRequest(request.ProtocolVersion))
        {
            // The nodes behind a stateful coordinator are stateful too, and refuse it the same way.
            await GatewaySessionAnswers.WriteSessionsOnlyAsync(context, request);
            return;
        }

        var sessionId = context.Request.Headers[McpProtocol.SessionIdHeader].ToString();
        if (sessionId.Length == 0)
        {
            if (request.Message is JsonRpcRequest { Method: RequestMethods.Initialize } initialize)
            {
                await OpenSessionAsync(context, request, initialize);
                return;
            }

            await McpSessionAnswers.WriteSessionRequiredAsync(context, id);
            return;
        }

        if (await FindPinnedAsync(context, sessionId, id) is not var (session, node))
        {
            return;
        }

        var rpc = request.Message as JsonRpcRequest;
        var toolName = rpc?.Method == RequestMethods.ToolsCall ? ToolNameOf(rpc) : null;
        using var operation = rpc is null ? null : McpOperation.StartServer(rpc, toolName, request.ProtocolVersion);
        if (operation is not null)
        {
            context.Features.Set<IMcpErrorFeature>(operation);
        }

        if (rpc?.Method == RequestMethods.ToolsList && access.HasRules)
        {
            // The node would list every tool it has; the caller sees only those the rules grant them.
            await ListToolsAsync(context, rpc, perRequest: false, new ToolListing([.. node.Tools.Tools.OrderBy(tool => tool.Name, StringComparer.Ordinal)]));
            return;
        }

        using var audited = toolName is null ? null : audit.Start(context, toolName, operation!);
        if (audited is not null)
        {
            if (!await AdmitCallAsync(context, request, audited))
            {
                return;
            }

            audited.NodeId = node.Id;
        }

        var outcome = await ForwardTracedAsync(context, request, rpc?.Method, toolName, node,
            NodeRequest.Post(request) with { SessionId = session.UpstreamSessionId, SessionIdForClient = _ => sessionId }, guarded: false);
        if (rpc is not null && toolName is not null && outcome.Kind is ForwardOutcomeKind.FailedAfterSend or ForwardOutcomeKind.BrokenMidStream)
        {
            await CallFailedAsync(context, rpc, toolName, node.Id, outcome, operation!);
            return;
        }

        await SessionForwardFailedAsync(context, node.Id, outcome, id);
    }

    /// <summary>
    /// Opens a session on the less loaded of two random ready, live nodes whose breakers admit calls. A node that cannot be reached was sent nothing, so the
    /// next one is tried, up to <see cref="CoordinatorOptions.MaxAttempts"/> nodes.
    /// </summary>
    private async Task OpenSessionAsync(HttpContext context, McpHttpRequest request, JsonRpcRequest initialize)
    {
        using var operation = McpOperation.StartServer(initialize, toolName: null, request.ProtocolVersion);
        context.Features.Set<IMcpErrorFeature>(operation);
        var owner = McpSessionOwner.Of(context.User);
        var caller = Caller.Of(context);
        if (await quota.TakeAsync(caller) is not { } slot)
        {
            await CallerRateLimits.WriteRefusalAsync(context, "its limit of open sessions (end one with DELETE, or wait until one expires)", TimeSpan.FromSeconds(60), initialize.Id);
            return;
        }

        var opened = false;
        var tried = new HashSet<string>(StringComparer.Ordinal);
        string? lastFailure = null;
        try
        {
            for (var attempt = 1; attempt <= options.Value.MaxAttempts; attempt++)
            {
                if (router.SelectForSession(tried) is not { } node)
                {
                    break;
                }

                tried.Add(node.Id);
                var outcome = await ForwardTracedAsync(context, request, initialize.Method, toolName: null, node,
                    NodeRequest.Post(request) with
                    {
                        SessionIdForClient = upstream =>
                        {
                            opened = true;
                            return sessionIds.Seal(new PinnedSession(node.Id, upstream, owner, slot.Length > 0 ? slot : null));
                        },
                    },
                    guarded: true);
                if (outcome.Kind == ForwardOutcomeKind.NotConnected)
                {
                    lastFailure = $"node {node.Id}: {outcome.Reason}";
                    LogUnreachable(RequestMethods.Initialize, node.Id, outcome.Reason!);
                    continue;
                }

                await SessionForwardFailedAsync(context, node.Id, outcome, initialize.Id);
                return;
            }
        }
        finally
        {
            if (!opened)
            {
                await quota.ReturnAsync(caller, slot);
            }
        }

        var why = lastFailure is not null ? $"{tried.Count} node(s) tried and none could be reached (last: {lastFailure})"
            : registry.Current.Nodes.Count == 0 ? "the cluster has no live nodes"
            : "no ready node has a live heartbeat and a closed circuit breaker";
        await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status503ServiceUnavailable, McpErrorCodes.ServerError,
            $"No node can open a session: {why}. Retry later.", initialize.Id);
    }

    /// <summary>
    /// The session and node a client's <c>Mcp-Session-Id</c> names, or <see langword="null"/> after answering:
    /// 404 for an id this coordinator's key did not seal (unknown, changed, or from another cluster) or whose node
    /// has left the cluster; 403 for another user's session.
    /// </summary>
    private async Task<(PinnedSession Session, RegisteredNode Node)?> FindPinnedAsync(HttpContext context, string sessionId, RequestId id)
    {
        if (!sessionIds.TryOpen(sessionId, out var session))
        {
            await McpSessionAnswers.WriteSessionNotFoundAsync(context, id);
            return null;
        }

        if (!await GatewaySessionAnswers.IsOwnerAsync(context, session!.Owner, id))
        {
            return null;
        }

        if (registry.Current.Node(session.NodeId) is not { } node)
        {
            LogSessionNodeGone(session.NodeId);
            await McpSessionAnswers.WriteSessionNotFoundAsync(context, id, $"the session's node ({session.NodeId}) has left the cluster");
            return null;
        }

        return (session, node);
    }

    /// <summary>
    /// Answers a forward in a session that did not complete. A node that cannot be reached has lost the
    /// session with it (404, so the client initializes again); a node that failed after the request was sent,
    /// or whose answer cannot be passed on, gets 502, unless its answer had already started, which then just ends.
    /// </summary>
    private async Task SessionForwardFailedAsync(HttpContext context, string nodeId, ForwardOutcome outcome, RequestId id)
    {
        switch (outcome.Kind)
        {
            case ForwardOutcomeKind.Forwarded:
                return;
            case ForwardOutcomeKind.NotConnected:
                LogSessionNodeUnreachable(nodeId, outcome.Reason!);
                await McpSessionAnswers.WriteSessionNotFoundAsync(context, id, $"the session's node ({nodeId}) cannot be reached ({outcome.Reason})");
                return;
            case ForwardOutcomeKind.NotPassedOn:
                LogSessionNotPassedOn(nodeId, outcome.Reason!);
                await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status502BadGateway, McpErrorCodes.ServerError,
                    $"Bad Gateway: the answer of node {nodeId} cannot be passed on: {outcome.Reason}.", id);
                return;
            default:
                LogSessionForwardFailed(nodeId, outcome.Reason!);
                if (!context.Response.HasStarted)
                {
                    await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status502BadGateway, McpErrorCodes.ServerError,
                        $"Bad Gateway: node {nodeId} failed after the request was sent ({outcome.Reason}).", id);
                }

                return;
        }
    }

    [LoggerMessage(EventId = 3111, Level = LogLevel.Information, Message = "A session pinned to node {NodeId} was refused: the node has left the cluster")]
    private partial void LogSessionNodeGone(string nodeId);

    [LoggerMessage(EventId = 3112, Level = LogLevel.Warning, Message = "Node {NodeId} cannot be reached for a pinned session ({Reason}); the session is lost")]
    private partial void LogSessionNodeUnreachable(string nodeId, string reason);

    [LoggerMessage(EventId = 3114, Level = LogLevel.Warning, Message = "The answer of node {NodeId} to a session request cannot be passed on: {Reason}")]
    private partial void LogSessionNotPassedOn(string nodeId, string reason);

    [LoggerMessage(EventId = 3113, Level = LogLevel.Warning, Message = "A request in a session pinned to node {NodeId} failed after it was sent: {Reason}")]
    private partial void LogSessionForwardFailed(string nodeId, string reason);
}
