using System.Diagnostics;
using System.Globalization;
using McpAspire.Mcp;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Telemetry;

/// <summary>
/// One MCP request as seen by one side: a span (server or client kind) and, when it ends, one
/// measurement of <c>mcp.server.operation.duration</c> or <c>mcp.client.operation.duration</c> with the
/// same low-cardinality attributes. Dispose it when the answer has been sent or received.
/// </summary>
public sealed class McpOperation : IMcpErrorFeature, IDisposable
{
    private readonly bool _server;
    private readonly long _started;
    private readonly string _method;
    private readonly string _protocolVersion;
    private readonly string? _toolName;
    private bool _ended;

    // The attributes are kept as their values, and made into tags only when they are recorded: a TagList is a large
    // struct, and an operation is made twice for every forwarded call.
    private McpOperation(bool server, Activity? activity, string method, string protocolVersion, string? toolName)
    {
        _server = server;
        Activity = activity;
        _method = method;
        _protocolVersion = protocolVersion;
        _toolName = toolName;
        _started = Stopwatch.GetTimestamp();
    }

    /// <summary>The span, when anything listens.</summary>
    public Activity? Activity { get; }

    /// <summary>Why the operation failed, as its <c>error.type</c> says; <see langword="null"/> while it has not.</summary>
    public string? ErrorType { get; private set; }

    /// <summary>
    /// Starts the server side of a request. The parent is the <c>traceparent</c> in <c>params._meta</c>
    /// when the client sent one (the conventions' carrier), else the current activity (the HTTP request).
    /// </summary>
    public static McpOperation StartServer(JsonRpcRequest request, string? toolName, string protocolVersion)
    {
        ArgumentNullException.ThrowIfNull(request);
        var parent = ParentFrom(
            McpParams.TryGetString(request.Params, out var traceparent, "_meta", "traceparent") ? traceparent : null,
            McpParams.TryGetString(request.Params, out var tracestate, "_meta", "tracestate") ? tracestate : null);
        return Start(server: true, request.Method, request.Id, toolName, protocolVersion, ActivityKind.Server, parent, serverAddress: null);
    }

    /// <summary>
    /// Starts the server side of a request routed without deserializing its body: a 2026-07-28 request known from
    /// its headers (without its id), or an earlier tool call read in one reader pass (with <paramref name="id"/>).
    /// The parent is <paramref name="metaTraceParent"/> when it is a valid <c>traceparent</c>, else the current activity.
    /// </summary>
    public static McpOperation StartServer(string method, string? toolName, string protocolVersion, string? metaTraceParent, RequestId? id = null)
    {
        ArgumentNullException.ThrowIfNull(method);
        return Start(server: true, method, id, toolName, protocolVersion, ActivityKind.Server, ParentFrom(metaTraceParent, tracestate: null), serverAddress: null);
    }

    /// <summary>
    /// Starts the client side of a request sent to <paramref name="server"/>, as a child of the current activity.
    /// <paramref name="id"/> is the request's id, when it is known.
    /// </summary>
    public static McpOperation StartClient(string method, RequestId? id, string? toolName, string protocolVersion, Uri server)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(server);
        return Start(server: false, method, id, toolName, protocolVersion, ActivityKind.Client, default, server);
    }

    /// <inheritdoc/>
    public void FailWithCode(int code)
    {
        var text = code.ToString(CultureInfo.InvariantCulture);
        Fail(text);
        Activity?.SetTag(McpTelemetry.Attributes.ResponseStatusCode, text);
    }

    /// <summary>Records a failure: a tool error (<see cref="McpTelemetry.ToolError"/>) or a transport failure's low-cardinality name.</summary>
    public void Fail(string errorType)
    {
        ErrorType = errorType;
        Activity?.SetTag(McpTelemetry.Attributes.ErrorType, errorType);
        Activity?.SetStatus(ActivityStatusCode.Error, errorType);
    }

    /// <summary>Ends the span and records the duration, once.</summary>
    public void Dispose()
    {
        if (_ended)
        {
            return;
        }

        _ended = true;
        var duration = _server ? McpTelemetry.ServerDuration : McpTelemetry.ClientDuration;
        if (duration.Enabled)
        {
            var tags = Tags(_method, _protocolVersion, _toolName);
            if (ErrorType is not null)
            {
                tags.Add(McpTelemetry.Attributes.ErrorType, ErrorType);
            }

            duration.Record(Stopwatch.GetElapsedTime(_started).TotalSeconds, tags);
        }

        Activity?.Dispose();
    }

    private static McpOperation Start(bool server, string method, RequestId? id, string? toolName, string protocolVersion, ActivityKind kind, ActivityContext parent, Uri? serverAddress)
    {
        // The operation is named by its method, a constant; the span's name, with the tool, is made only for a span
        // that records (an unsampled trace makes none, or one that only carries the trace on).
        var activity = McpTelemetry.Source.StartActivity(kind, parent, name: method);
        if (activity is { IsAllDataRequested: true })
        {
            activity.DisplayName = McpTelemetry.SpanName(method, toolName);
            foreach (var tag in Tags(method, protocolVersion, toolName))
            {
                activity.SetTag(tag.Key, tag.Value);
            }

            if (id is { } requestId)
            {
                activity.SetTag(McpTelemetry.Attributes.RequestId, McpTelemetry.FormatRequestId(requestId));
            }

            if (serverAddress is not null)
            {
                activity.SetTag("server.address", serverAddress.Host);
                activity.SetTag("server.port", serverAddress.Port);
            }
        }

        return new McpOperation(server, activity, method, protocolVersion, toolName);
    }

    /// <summary>The operation's low-cardinality attributes, shared by its span and its duration.</summary>
    private static TagList Tags(string method, string protocolVersion, string? toolName)
    {
        var tags = new TagList
        {
            { McpTelemetry.Attributes.MethodName, method },
            { McpTelemetry.Attributes.ProtocolVersion, protocolVersion },
            { "network.transport", "tcp" },
            { "network.protocol.name", "http" },
        };
        if (toolName is not null)
        {
            tags.Add(McpTelemetry.Attributes.ToolName, toolName);
            tags.Add(McpTelemetry.Attributes.OperationName, "execute_tool");
        }

        return tags;
    }

    /// <summary>The remote parent a <c>traceparent</c> names, or none (the current activity then) when it is absent or invalid.</summary>
    private static ActivityContext ParentFrom(string? traceparent, string? tracestate) =>
        traceparent is not null && ActivityContext.TryParse(traceparent, tracestate, isRemote: true, out var context) ? context : default;
}
