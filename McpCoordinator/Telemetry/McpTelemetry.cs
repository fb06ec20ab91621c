using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using ModelContextProtocol.Protocol;

namespace McpAspire.McpCoordinator.Telemetry;

/// <summary>
/// MCP spans and metrics after OpenTelemetry's MCP semantic conventions, for the parts of the system
/// the SDK does not instrument itself (the coordinator's gateway and its forwarded calls). Nodes get the
/// same from the SDK's own <c>Experimental.ModelContextProtocol</c> source and meter.
/// </summary>
public static class McpTelemetry
{
    /// <summary>The name of the <see cref="ActivitySource"/> and <see cref="Meter"/>.</summary>
    public const string SourceName = "McpAspire.Mcp";

    /// <summary>The attribute names the conventions define and this project sets.</summary>
    public static class Attributes
    {
        /// <summary>The JSON-RPC method, e.g. <c>tools/call</c>.</summary>
        public const string MethodName = "mcp.method.name";

        /// <summary>The tool of a <c>tools/call</c>.</summary>
        public const string ToolName = "gen_ai.tool.name";

        /// <summary><c>execute_tool</c> for <c>tools/call</c>.</summary>
        public const string OperationName = "gen_ai.operation.name";

        /// <summary>The MCP session, when there is one.</summary>
        public const string SessionId = "mcp.session.id";

        /// <summary>The JSON-RPC request id, as a string.</summary>
        public const string RequestId = "jsonrpc.request.id";

        /// <summary>The negotiated protocol version.</summary>
        public const string ProtocolVersion = "mcp.protocol.version";

        /// <summary>A JSON-RPC error code, <c>tool_error</c> for a tool result with <c>isError</c>, or a transport failure.</summary>
        public const string ErrorType = "error.type";

        /// <summary>The JSON-RPC error code, as a string.</summary>
        public const string ResponseStatusCode = "rpc.response.status_code";

        /// <summary>The node a forwarded call went to (this project's own attribute).</summary>
        public const string NodeId = "mcpaspire.node.id";
    }

    /// <summary>The <c>error.type</c> of a tool result with <c>isError: true</c>.</summary>
    public const string ToolError = "tool_error";

    internal static readonly ActivitySource Source = new(SourceName, typeof(McpTelemetry).Assembly.GetName().Version?.ToString(3));

    private static readonly Meter Meter = new(SourceName, typeof(McpTelemetry).Assembly.GetName().Version?.ToString(3));

    // The buckets the conventions advise for these histograms, in seconds.
    private static readonly InstrumentAdvice<double> DurationBuckets = new()
    {
        HistogramBucketBoundaries = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30, 60, 120, 300],
    };

    internal static readonly Histogram<double> ServerDuration = Meter.CreateHistogram(
        "mcp.server.operation.duration", "s", "MCP request duration as observed by the receiver.", advice: DurationBuckets);

    internal static readonly Histogram<double> ClientDuration = Meter.CreateHistogram(
        "mcp.client.operation.duration", "s", "MCP request duration as observed by the sender.", advice: DurationBuckets);

    /// <summary>The span name the conventions give: the method, then the tool when there is one.</summary>
    public static string SpanName(string method, string? toolName) =>
        toolName is null ? method : string.Create(CultureInfo.InvariantCulture, $"{method} {toolName}");

    /// <summary>The request id as the conventions record it.</summary>
    public static string? FormatRequestId(RequestId id) => id.Id switch
    {
        null => null,
        string text => text,
        long number => number.ToString(CultureInfo.InvariantCulture),
        var other => other.ToString(),
    };
}
