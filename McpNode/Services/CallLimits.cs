using McpAspire.Mcp;
using Microsoft.Extensions.Options;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Services;

/// <summary>
/// The per-call limits every tool gets: its arguments are checked against its schema before it runs,
/// and it is cancelled when its time limit passes. Either failure is an <c>isError</c> result that
/// says what went wrong. The call's admission lease is held here until the tool has really finished,
/// so the node's concurrency limit counts tools, not HTTP requests.
/// </summary>
public sealed partial class CallLimits(IOptions<NodeOptions> options, TimeProvider time, IHttpContextAccessor http, ILogger<CallLimits> logger)
{
    /// <summary>
    /// How long a cancelled tool gets to stop before the caller stops waiting for it. A tool that ignores
    /// its cancellation token keeps its slot until it ends, but its caller gets the time-out answer.
    /// </summary>
    public static readonly TimeSpan CancellationGrace = TimeSpan.FromSeconds(2);

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

    /// <summary>Runs <paramref name="next"/> within the tool's limits, holding the call's admission lease until the tool ends.</summary>
    public async ValueTask<CallToolResult> RunAsync(
        RequestContext<CallToolRequestParams> context,
        McpRequestHandler<CallToolRequestParams, CallToolResult> next,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var lease = McpAdmission.TakeLease(http.HttpContext);
        Task<CallToolResult>? run = null;
        try
        {
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
            run = next(context, deadline.Token).AsTask();
            CallToolResult result;
            try
            {
                result = await WaitAsync(run, name, deadline.Token);
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
        finally
        {
            if (run is { IsCompleted: false })
            {
                // The tool outlived its caller: its slot stays taken until it really ends.
                _ = run.ContinueWith(
                    static (ended, lease) =>
                    {
                        _ = ended.Exception;
                        (lease as IDisposable)?.Dispose();
                    },
                    lease,
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
            else
            {
                lease?.Dispose();
            }
        }
    }

    /// <summary>
    /// The tool's result; once <paramref name="stop"/> fires, the tool gets <see cref="CancellationGrace"/> to
    /// finish, and then the wait ends with <see cref="OperationCanceledException"/> whether the tool has stopped or not.
    /// </summary>
    private async Task<CallToolResult> WaitAsync(Task<CallToolResult> run, string tool, CancellationToken stop)
    {
        try
        {
            return await run.WaitAsync(stop);
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested && !run.IsCompleted)
        {
            try
            {
                return await run.WaitAsync(CancellationGrace, time, CancellationToken.None);
            }
            catch (TimeoutException)
            {
                LogToolIgnoredCancellation(tool, CancellationGrace.TotalSeconds);
                throw new OperationCanceledException(stop);
            }
        }
    }

    private static CallToolResult TimedOut(string tool, TimeSpan timeout) =>
        Error($"Tool '{tool}' did not finish within {timeout.TotalSeconds:0.###} s and was cancelled (Node:CallTimeout, or Node:ToolTimeouts:{tool}).");

    private static CallToolResult Error(string text) => new() { IsError = true, Content = [new TextContentBlock { Text = text }] };

    [LoggerMessage(EventId = 4200, Level = LogLevel.Warning,
        Message = "Tool {Tool} was still running {GraceSeconds} s after it was cancelled; its caller was answered, and its slot stays taken until it ends")]
    private partial void LogToolIgnoredCancellation(string tool, double graceSeconds);
}
