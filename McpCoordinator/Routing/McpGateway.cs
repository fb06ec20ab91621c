using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using McpAspire.Mcp;
using McpAspire.McpCoordinator.Federation;
using McpAspire.McpCoordinator.Registry;
using McpAspire.McpCoordinator.Security;
using McpAspire.McpCoordinator.Sessions;
using McpAspire.McpCoordinator.Telemetry;
using Microsoft.Extensions.Options;
using ModelContextProtocol;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Routing;

/// <summary>
/// The coordinator's MCP endpoint. Stateless (the default), it answers <c>initialize</c>, <c>ping</c> and the list
/// methods itself, from the registry, and forwards each <c>tools/call</c> to a chosen node, trying another node when
/// the chosen one cannot be reached (and reads of resources, prompts and completions, see McpGateway.Primitives.cs).
/// Stateful, it pins each session to a node session (see McpGateway.Sessions.cs).
/// </summary>
public sealed partial class McpGateway(
    ToolRouter router,
    NodeForwarder forwarder,
    UpstreamServers servers,
    LocalCallTracker calls,
    NodeRegistry registry,
    NodeBreakers breakers,
    PinnedSessionIds sessionIds,
    ToolAccess access,
    CallerRateLimits limits,
    SessionQuota quota,
    CallAudit audit,
    IOptions<CoordinatorOptions> options,
    IOptions<McpEndpointOptions> endpointOptions,
    McpHostGuard guard,
    IHostApplicationLifetime lifetime,
    ILogger<McpGateway> logger)
{
    private static readonly IReadOnlySet<string> NoneTried = new HashSet<string>();

    /// <summary>The protocol version offered to clients that ask for one this gateway does not know.</summary>
    public const string FallbackInitializeVersion = "2025-11-25";

    private static readonly Implementation ServerInfo = new()
    {
        Name = "McpAspire.McpCoordinator",
        Version = typeof(McpGateway).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
    };

    private static readonly string Instructions =
        $"McpAspire coordinator {typeof(McpGateway).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0"}: " +
        "tools, resources and prompts come from the cluster's nodes and the MCP servers behind it; each request runs on the least-loaded one that has what it names.";

    /// <summary>Handles a POST to <c>/mcp</c>.</summary>
    public async Task HandlePostAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (await guard.RefuseAsync(context))
        {
            return;
        }

        using var request = await McpHttpRequestReader.ReadUnparsedAsync(context, endpointOptions.Value);
        if (request is null)
        {
            return;
        }

        if (endpointOptions.Value.IsStateless && !context.Request.Headers.ContainsKey(McpProtocol.SessionIdHeader)
            && McpHttpRequestReader.ToolNamedByHeaders(context.Request, request) is { } routed)
        {
            // A 2026-07-28 call names its tool in Mcp-Name: it is routed on that, and its body goes to the node
            // unparsed. The node checks the body and its agreement with the headers, and refuses a mismatch, so
            // nothing runs but what the headers name.
            using var routedOperation = McpOperation.StartServer(RequestMethods.ToolsCall, routed, request.ProtocolVersion, request.MetaTraceParent);
            context.Features.Set<IMcpErrorFeature>(routedOperation);
            await CallToolAsync(context, request, routed, routedOperation);
            return;
        }

        if (endpointOptions.Value.IsStateless && !context.Request.Headers.ContainsKey(McpProtocol.SessionIdHeader)
            && McpHttpRequestReader.ToolCalledInBody(context.Request, request) is { } called)
        {
            // An earlier version's call, routed on the tool its body names, read in one pass: the body goes to the
            // node as it came, and is deserialized here only if the coordinator must answer it itself.
            using var calledOperation = McpOperation.StartServer(RequestMethods.ToolsCall, called, request.ProtocolVersion, request.MetaTraceParent, request.Summary.Id);
            context.Features.Set<IMcpErrorFeature>(calledOperation);
            await CallToolAsync(context, request, called, calledOperation);
            return;
        }

        if (!await McpHttpRequestReader.ParseAsync(context, request))
        {
            return;
        }

        if (!endpointOptions.Value.IsStateless)
        {
            await HandleSessionPostAsync(context, request);
            return;
        }

        if (context.Request.Headers.ContainsKey(McpProtocol.SessionIdHeader))
        {
            await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status400BadRequest, McpErrorCodes.ServerError,
                "Bad Request: the coordinator is stateless (Mcp:Stateless) and does not accept Mcp-Session-Id.", McpParams.IdOf(request.Message));
            return;
        }

        if (request.Message is not JsonRpcRequest rpc)
        {
            // Notifications and responses need no answer; the nodes keep no state for this client.
            context.Response.StatusCode = StatusCodes.Status202Accepted;
            return;
        }

        var toolName = rpc.Method == RequestMethods.ToolsCall ? ToolNameOf(rpc) : null;
        using var operation = McpOperation.StartServer(rpc, toolName, request.ProtocolVersion);
        // Error answers written anywhere below mark the operation failed (see McpHttpResponses.WriteErrorAsync).
        context.Features.Set<IMcpErrorFeature>(operation);
        var perRequest = McpProtocol.IsPerRequest(request.ProtocolVersion);
        switch (rpc.Method)
        {
            case RequestMethods.Initialize:
                await ReplyAsync(context, rpc, Initialize(rpc), typeof(InitializeResult));
                break;
            case RequestMethods.Ping:
                await ReplyAsync(context, rpc, new EmptyResult(), typeof(EmptyResult));
                break;
            case RequestMethods.ServerDiscover when perRequest:
                await ReplyAsync(context, rpc, Discover(), typeof(DiscoverResult));
                break;
            case RequestMethods.ToolsList:
                await ListToolsAsync(context, rpc, perRequest, registry.Current.Listing);
                break;
            case RequestMethods.ResourcesList or RequestMethods.ResourcesTemplatesList or RequestMethods.PromptsList:
                await ListPrimitivesAsync(context, rpc, perRequest);
                break;
            case RequestMethods.ResourcesRead or RequestMethods.PromptsGet or RequestMethods.CompletionComplete:
                await ForwardPrimitiveAsync(context, request, rpc, perRequest);
                break;
            case RequestMethods.ToolsCall when toolName is null:
                await McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status200OK, McpErrorCodes.InvalidParams,
                    "Invalid params: tools/call needs params.name, a string.", rpc.Id);
                break;
            case RequestMethods.ToolsCall:
                await CallToolAsync(context, request, toolName, operation);
                break;
            default:
                // From 2026-07-28 an unknown method is also an HTTP 404, so intermediaries can tell.
                await McpHttpResponses.WriteErrorAsync(context, perRequest ? StatusCodes.Status404NotFound : StatusCodes.Status200OK, McpErrorCodes.MethodNotFound,
                    $"Method not found: '{rpc.Method}'. The coordinator serves {(perRequest ? "server/discover" : "initialize")}, ping, tools/list, tools/call, resources/list, resources/templates/list, resources/read, prompts/list, prompts/get and completion/complete.", rpc.Id);
                break;
        }
    }

    /// <summary>
    /// One page of the tools of <paramref name="listing"/> that the caller may call, after the cursor's tool, at most
    /// <see cref="CoordinatorOptions.ToolsPageSize"/>: found by binary search, and written from the definitions the
    /// listing serialized once, so its cost does not grow with the cluster's tools. (See <see cref="ListPageAsync{T}"/>.)
    /// </summary>
    private async Task ListToolsAsync(HttpContext context, JsonRpcRequest rpc, bool perRequest, ToolListing listing)
    {
        if (!TryReadCursor(rpc, "tools", out var after))
        {
            await RefuseCursorAsync(context, rpc, "tools");
            return;
        }

        var caller = access.HasRules ? Caller.Of(context) : null;
        var tools = listing.Tools;
        var pageSize = options.Value.ToolsPageSize;
        var page = new List<int>(Math.Min(pageSize, tools.Count));
        string? next = null;
        for (var index = after is null ? 0 : listing.IndexAfter(after); index < tools.Count; index++)
        {
            if (caller is not null && !access.MayCall(caller, tools[index]))
            {
                continue;
            }

            if (page.Count == pageSize)
            {
                next = ListCursor.Encode("tools", tools[page[^1]].Name);
                break;
            }

            page.Add(index);
        }

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        listing.WriteAnswer(context.Response.BodyWriter, rpc.Id, page, next, uncacheable: perRequest);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted);
    }

    /// <summary>
    /// One page of <paramref name="all"/> (in key order), <see cref="CoordinatorOptions.ToolsPageSize"/> items at most.
    /// The cursor names the last item of the page before, so pages stay consistent while nodes come and go. From
    /// 2026-07-28 a list says how long it may be cached: the builder marks it uncacheable, since the cluster's set can
    /// change at any time.
    /// </summary>
    private async Task ListPageAsync<T>(HttpContext context, JsonRpcRequest rpc, string list, IReadOnlyList<T> all, Func<T, string> keyOf, Func<List<T>, string?, Result> build)
    {
        if (!TryReadCursor(rpc, list, out var after))
        {
            await RefuseCursorAsync(context, rpc, list);
            return;
        }

        var start = 0;
        while (after is not null && start < all.Count && string.CompareOrdinal(keyOf(all[start]), after) <= 0)
        {
            start++;
        }

        var page = all.Skip(start).Take(options.Value.ToolsPageSize).ToList();
        var result = build(page, start + page.Count < all.Count ? ListCursor.Encode(list, keyOf(page[^1])) : null);
        await ReplyAsync(context, rpc, result, result.GetType());
    }

    /// <summary>
    /// The key a list request's cursor names (<see langword="null"/> without one, for the first page); false when the
    /// cursor is not one this coordinator gave out for <paramref name="list"/>.
    /// </summary>
    private static bool TryReadCursor(JsonRpcRequest rpc, string list, out string? after)
    {
        after = null;
        if (rpc.Params is not JsonObject parameters || !parameters.ContainsKey("cursor"))
        {
            return true;
        }

        after = McpParams.TryGetString(rpc.Params, out var cursor, "cursor") ? ListCursor.Decode(list, cursor) : null;
        return after is not null;
    }

    private static Task RefuseCursorAsync(HttpContext context, JsonRpcRequest rpc, string list) =>
        McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status200OK, McpErrorCodes.InvalidParams,
            $"Invalid params: 'cursor' is not one this server gave out for {list}; send the request without it to start again.", rpc.Id);

    /// <summary>What the stateless coordinator serves: the cluster's tools, resources and prompts, and completion of their arguments.</summary>
    private static ServerCapabilities Capabilities => new()
    {
        Tools = new ToolsCapability(),
        Resources = new ResourcesCapability(),
        Prompts = new PromptsCapability(),
        Completions = new CompletionsCapability(),
    };

    private static DiscoverResult Discover() => new()
    {
        SupportedVersions = [McpProtocol.LatestVersion],
        Capabilities = Capabilities,
        Instructions = Instructions,
        TimeToLive = TimeSpan.Zero,
        CacheScope = CacheScope.Private,
        Meta = new System.Text.Json.Nodes.JsonObject
        {
            ["io.modelcontextprotocol/serverInfo"] = JsonSerializer.SerializeToNode(ServerInfo, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(Implementation))),
        },
    };

    private static InitializeResult Initialize(JsonRpcRequest rpc)
    {
        var requested = McpParams.TryGetString(rpc.Params, out var text, "protocolVersion") ? text : null;
        return new InitializeResult
        {
            ProtocolVersion = requested is not null && McpProtocol.IsSupported(requested) && requested != McpProtocol.LatestVersion
                ? requested
                : FallbackInitializeVersion,
            Capabilities = Capabilities,
            ServerInfo = ServerInfo,
            Instructions = Instructions,
        };
    }

    private static string? ToolNameOf(JsonRpcRequest rpc) =>
        McpParams.TryGetString(rpc.Params, out var toolName, "name") ? toolName : null;

    /// <summary>
    /// The JSON-RPC request, parsing the body first if the call was routed on its headers, for an answer the
    /// coordinator writes itself. <see langword="null"/> once a body that fails the checks has been answered,
    /// or a notification accepted.
    /// </summary>
    private static async Task<JsonRpcRequest?> RequestOfAsync(HttpContext context, McpHttpRequest request)
    {
        if (context.Response.HasStarted)
        {
            // An answer is under way, so the node took the body; should it still fail the checks, nothing can be added.
            if (!McpHttpRequestReader.TryParse(context.Request, request))
            {
                context.Abort();
                return null;
            }
        }
        else if (!await McpHttpRequestReader.ParseAsync(context, request))
        {
            return null;
        }

        if (request.Message is not JsonRpcRequest rpc)
        {
            // A notification needs no answer; one the node had started to answer just ends.
            if (context.Response.HasStarted)
            {
                context.Abort();
            }
            else
            {
                context.Response.StatusCode = StatusCodes.Status202Accepted;
            }

            return null;
        }

        return rpc;
    }

    /// <summary>
    /// Whether <paramref name="call"/> may go on: the caller may call its tool, and is within the tool's rate limit.
    /// If not, answers (a refusal reads the same whether or not the tool exists) and returns <see langword="false"/>.
    /// </summary>
    private async Task<bool> AdmitCallAsync(HttpContext context, McpHttpRequest request, AuditedCall call)
    {
        var allowed = access.MayCall(call.Caller, call.Tool, registry.Current.Tool(call.Tool));
        var wait = allowed ? limits.RefuseToolCall(call.Caller, call.Tool) : null;
        if (allowed && wait is null)
        {
            return true;
        }

        call.Outcome = allowed ? "rate_limited" : "forbidden";
        if (!allowed)
        {
            LogForbidden(call.Tool, call.Caller.DisplayName);
        }

        if (await RequestOfAsync(context, request) is not { } rpc)
        {
            return false;
        }

        await (allowed
            ? CallerRateLimits.WriteRefusalAsync(context, $"its limit on '{call.Tool}'", wait!.Value, rpc.Id)
            : McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status200OK, McpErrorCodes.InvalidParams,
                $"Tool '{call.Tool}' is not available to this caller: no node offers it, or the caller's scopes and roles do not allow it. tools/list shows the tools this caller may use.", rpc.Id));
        return false;
    }

    private async ValueTask CallToolAsync(HttpContext context, McpHttpRequest request, string toolName, McpOperation operation)
    {
        using var audited = audit.Start(context, toolName, operation);
        if (!await AdmitCallAsync(context, request, audited))
        {
            return;
        }

        // Made only when a call is tried again: the first attempt, which most calls need alone, excludes nothing.
        HashSet<string>? tried = null;
        List<ForwardOutcome>? failures = null;
        var route = RouteDecision.Unknown;
        for (var attempt = 1; attempt <= options.Value.MaxAttempts; attempt++)
        {
            route = router.Select(toolName, (IReadOnlySet<string>?)tried ?? NoneTried);
            if (route.Node is not { } node)
            {
                break;
            }

            audited.NodeId = node.Id;
            if (node.Server is not null && await RequestOfAsync(context, request) is null)
            {
                // An external server is called through a session of the coordinator's: the body must be read first.
                return;
            }

            var outcome = await ForwardTracedAsync(context, request, RequestMethods.ToolsCall, toolName, node, NodeRequest.Post(request, mayTryElsewhere: true), guarded: true);
            if (outcome.Kind == ForwardOutcomeKind.Forwarded)
            {
                return;
            }

            if (!CanTryElsewhere(context, node, toolName, outcome))
            {
                if (await RequestOfAsync(context, request) is { } failed)
                {
                    await CallFailedAsync(context, failed, toolName, node.Id, outcome, operation);
                }

                return;
            }

            (tried ??= new(StringComparer.Ordinal)).Add(node.Id);
            (failures ??= []).Add(outcome with { Reason = $"node {node.Id}: {outcome.Reason}" });
            LogTryingElsewhere(toolName, node.Id, outcome.Kind, outcome.Reason!);
            // Only headers were set, never sent: the next node's answer replaces them.
            context.Response.Clear();
        }

        if (await RequestOfAsync(context, request) is { } rpc)
        {
            await NoRouteAsync(context, rpc, toolName, route, failures ?? []);
        }
    }

    /// <summary>
    /// Whether a call that did not complete on <paramref name="node"/> may go to another node: always when
    /// nothing ran (the node could not be reached, or refused it as overloaded or draining); after it was sent,
    /// only if none of the answer has reached the client and the tool says running it again does no harm, both as
    /// the failed node defines it and as clients were told (a node on an older version may differ).
    /// </summary>
    private bool CanTryElsewhere(HttpContext context, RegisteredNode node, string toolName, ForwardOutcome outcome) => outcome.Kind switch
    {
        ForwardOutcomeKind.NotConnected or ForwardOutcomeKind.Refused => true,
        ForwardOutcomeKind.FailedAfterSend or ForwardOutcomeKind.BrokenMidStream =>
            !context.Response.HasStarted && node.IsSafeToRepeat(toolName) && registry.Current.Tool(toolName) is { } served && RegisteredNode.IsSafeToRepeat(served),
        _ => false,
    };

    /// <summary>
    /// Forwards to <paramref name="node"/> inside a client span of its own, counted in this coordinator's load
    /// on the node when it is a request (<paramref name="method"/> is set). <paramref name="guarded"/>: only while the node's circuit
    /// breaker is closed, and the outcome is fed to it.
    /// </summary>
    private async ValueTask<ForwardOutcome> ForwardTracedAsync(HttpContext context, McpHttpRequest request, string? method, string? toolName, RegisteredNode node, NodeRequest upstream, bool guarded)
    {
        RequestId? id = request.IsParsed ? (request.Message as JsonRpcRequest)?.Id : request.Summary.IsRequest ? request.Summary.Id : null;
        using var forward = method is null ? null : McpOperation.StartClient(method, id, toolName, request.ProtocolVersion, node.Heartbeat.McpUrl);
        using var call = method is null ? null : calls.Start(node.Id);
        forward?.Activity?.SetTag(McpTelemetry.Attributes.NodeId, node.Id);
        if (forward?.Activity is { } span)
        {
            // The node's MCP span should hang under this call, not under the client's original span.
            request.TryReplaceTraceParent(span.Id!);
        }

        ForwardOutcome outcome;
        if (guarded && breakers.RefusalOf(node.Id) is { } refused)
        {
            // Its breaker opened since the router chose it: nothing is sent.
            outcome = refused;
        }
        else
        {
            outcome = await SendAsync(context, request, node, upstream);
            if (guarded)
            {
                await breakers.RecordAsync(node.Id, outcome);
            }
        }

        if (outcome.Kind != ForwardOutcomeKind.Forwarded)
        {
            forward?.Fail(outcome.Kind.ToString());
        }

        return outcome;
    }

    /// <summary>Sends to the node; an external server takes the parsed request through this replica's session with it.</summary>
    private ValueTask<ForwardOutcome> SendAsync(HttpContext context, McpHttpRequest request, RegisteredNode node, NodeRequest upstream) => node.Server is { } server
        ? new(servers.ForwardAsync(context, (JsonRpcRequest)request.Message!, server, context.RequestAborted))
        : forwarder.ForwardAsync(context, node, upstream);

    /// <summary>A tool call failed after it reached the node: it may or may not have run, and is not retried.</summary>
    private async Task CallFailedAsync(HttpContext context, JsonRpcRequest rpc, string toolName, string nodeId, ForwardOutcome outcome, McpOperation operation)
    {
        operation.Fail(McpTelemetry.ToolError);
        if (outcome.Kind == ForwardOutcomeKind.FailedAfterSend)
        {
            LogMayHaveRun(toolName, nodeId, outcome.Reason!);
            await ReplyAsync(context, rpc, MayHaveRun(toolName, nodeId, outcome.Reason!), typeof(CallToolResult));
            return;
        }

        LogBrokenStream(toolName, nodeId, outcome.Reason!);
        await MayHaveRunAfterBreakAsync(context, rpc, toolName, nodeId, outcome.Reason!);
    }

    /// <summary>
    /// Answers a call that no node completed: an unknown tool is the spec's -32602; refusals (every node tried
    /// was overloaded or draining) are a 503 with <c>Retry-After</c>, as a node gives; otherwise -32000 with
    /// the reason for each node tried. In every case the tool did not run to completion anywhere.
    /// </summary>
    private static Task NoRouteAsync(HttpContext context, JsonRpcRequest rpc, string toolName, RouteDecision route, List<ForwardOutcome> failures)
    {
        if (route.OfferingNodes == 0 && failures.Count == 0)
        {
            // The spec's answer for a tool the server does not have.
            return McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status200OK, McpErrorCodes.InvalidParams,
                $"Unknown tool: '{toolName}'. No live node offers it; tools/list shows the tools available now.", rpc.Id);
        }

        var tried = string.Join("; ", failures.Select(failure => failure.Reason));
        if (failures.Count > 0 && failures.All(failure => failure.Kind == ForwardOutcomeKind.Refused))
        {
            return McpHttpResponses.WriteOverloadedAsync(context,
                $"every node offering '{toolName}' that was tried refused the call ({tried}).", failures.Max(failure => failure.RetryAfter), rpc.Id);
        }

        var reason = failures.Count == 0
            ? $"all {route.OfferingNodes} node(s) offering it are draining or unavailable, or their circuit breakers are open"
            : $"{failures.Count} node(s) tried and none completed it ({tried})";
        return McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status200OK, McpErrorCodes.ServerError,
            $"Tool '{toolName}' is unavailable: {reason}. Retry later.", rpc.Id);
    }

    private static CallToolResult MayHaveRun(string toolName, string nodeId, string reason) => new()
    {
        IsError = true,
        Content =
        [
            new TextContentBlock
            {
                Text = $"The call to '{toolName}' on node {nodeId} failed after it was sent ({reason}). It may or may not have run; it was not retried elsewhere.",
            },
        ],
    };

    /// <summary>
    /// The node's answer broke off: the client still needs a response to its request. If nothing has
    /// reached it yet, the result is the whole response; if the event stream had started, it is the last event.
    /// </summary>
    private static async Task MayHaveRunAfterBreakAsync(HttpContext context, JsonRpcRequest rpc, string toolName, string nodeId, string reason)
    {
        var result = MayHaveRun(toolName, nodeId, reason);
        if (!context.Response.HasStarted)
        {
            await ReplyAsync(context, rpc, result, typeof(CallToolResult));
            return;
        }

        if (!string.Equals(context.Response.ContentType, "text/event-stream", StringComparison.OrdinalIgnoreCase))
        {
            // Part of a JSON answer went out and nothing can complete it: reset the connection, so the client
            // sees a failed request rather than a body that ends early.
            context.Abort();
            return;
        }

        var response = new JsonRpcResponse { Id = rpc.Id, Result = JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(CallToolResult))) };
        var json = JsonSerializer.SerializeToUtf8Bytes(response, McpJsonUtilities.DefaultOptions.GetTypeInfo(typeof(JsonRpcMessage)));
        // The stream may have broken inside an event: a blank line ends (and discards) that partial event first;
        // after a complete one it is just an empty line.
        await context.Response.Body.WriteAsync("\n\nevent: message\ndata: "u8.ToArray(), context.RequestAborted);
        await context.Response.Body.WriteAsync(json, context.RequestAborted);
        await context.Response.Body.WriteAsync("\n\n"u8.ToArray(), context.RequestAborted);
    }

    private static Task ReplyAsync(HttpContext context, JsonRpcRequest rpc, object result, Type resultType) =>
        McpHttpResponses.WriteJsonAsync(context, StatusCodes.Status200OK, new JsonRpcResponse
        {
            Id = rpc.Id,
            Result = JsonSerializer.SerializeToNode(result, McpJsonUtilities.DefaultOptions.GetTypeInfo(resultType)),
        });

    [LoggerMessage(EventId = 3105, Level = LogLevel.Information, Message = "Refused a call to {Tool} by {Caller}: no authorization rule grants it")]
    private partial void LogForbidden(string tool, string caller);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Warning, Message = "Node {NodeId} unreachable for {Tool} ({Reason}); trying another node")]
    private partial void LogUnreachable(string tool, string nodeId, string reason);

    [LoggerMessage(EventId = 3104, Level = LogLevel.Warning, Message = "Call to {Tool} on node {NodeId} did not complete ({Outcome}: {Reason}); trying another node")]
    private partial void LogTryingElsewhere(string tool, string nodeId, ForwardOutcomeKind outcome, string reason);

    [LoggerMessage(EventId = 3102, Level = LogLevel.Warning, Message = "Call to {Tool} on node {NodeId} failed after it was sent ({Reason}); not retried")]
    private partial void LogMayHaveRun(string tool, string nodeId, string reason);

    [LoggerMessage(EventId = 3103, Level = LogLevel.Warning, Message = "The answer of {Tool} from node {NodeId} broke off mid-stream: {Reason}")]
    private partial void LogBrokenStream(string tool, string nodeId, string reason);
}
