using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Services;

/// <summary>
/// The per-call limits every tool gets: its arguments are checked against its schema before it runs,
/// and it is cancelled when its time limit passes. Either failure is an <c>isError</c> result that
/// says what went wrong.
/// </summary>
public sealed class CallLimits(IOptions<NodeOptions> options)
{
    /// <summary>The time limit of <paramref name="tool"/>: configuration, then its attribute, then the node's default.</summary>
    public TimeSpan TimeoutOf(McpServerTool tool)
    {
        ArgumentNullException.ThrowIfNull(tool);
        var name = tool.ProtocolTool.Name;
        if (options.Value.ToolTimeouts.TryGetValue(name, out var configured))
        {
            return configured;
        }

        return tool.Metadata.OfType<CallTimeoutAttribute>().FirstOrDefault()?.Timeout ?? options.Value.CallTimeout;
    }

    /// <summary>Runs <paramref name="next"/> within the tool's limits.</summary>
    public async ValueTask<CallToolResult> RunAsync(
        RequestContext<CallToolRequestParams> context,
        McpRequestHandler<CallToolRequestParams, CallToolResult> next,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        if (context.MatchedPrimitive is not McpServerTool tool)
        {
            // Unknown tools are answered by the SDK with -32602.
            return await next(context, cancellationToken);
        }

        var name = tool.ProtocolTool.Name;
        var violations = ToolArgumentValidator.Validate(tool.ProtocolTool.InputSchema, context.Params?.Arguments);
        if (violations.Count > 0)
        {
            return Error($"Invalid arguments for '{name}': {string.Join("; ", violations)}.");
        }

        var timeout = TimeoutOf(tool);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        CallToolResult result;
        try
        {
            result = await next(context, deadline.Token);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            return TimedOut(name, timeout);
        }

        // A tool may turn its cancellation into an error result of its own; the deadline is the real cause.
        return deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested && result.IsError == true
            ? TimedOut(name, timeout)
            : result;
    }

    private static CallToolResult TimedOut(string tool, TimeSpan timeout) =>
        Error($"Tool '{tool}' did not finish within {timeout.TotalSeconds:0.###} s and was cancelled (Node:CallTimeout, or Node:ToolTimeouts:{tool}).");

    private static CallToolResult Error(string text) => new() { IsError = true, Content = [new TextContentBlock { Text = text }] };
}
