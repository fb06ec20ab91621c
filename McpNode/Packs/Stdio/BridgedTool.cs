using McpAspire.Cluster;
using ModelContextProtocol;
using ModelContextProtocol.Client;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace McpAspire.McpNode.Packs.Stdio;

/// <summary>
/// One tool of the child MCP server, served by the node: its definition as the child gives it (under
/// <c>Stdio:Prefix</c> plus its name, and named as being in the <c>stdio</c> pack), and each call passed to the child
/// under its own name through the bridge's current session, with the caller's
/// progress token, so the child's progress reaches the caller. The node's own checks (arguments against the schema,
/// time limit, backpressure) run first, as for every tool.
/// </summary>
internal sealed class BridgedTool(Tool definition, string? prefix, Func<McpClient?> session) : McpServerTool
{
    /// <inheritdoc/>
    public override Tool ProtocolTool { get; } = ToolCatalog.Renamed(definition, prefix + definition.Name, StdioPack.Name);

    /// <inheritdoc/>
    public override IReadOnlyList<object> Metadata { get; } = [];

    /// <inheritdoc/>
    public override async ValueTask<CallToolResult> InvokeAsync(RequestContext<CallToolRequestParams> request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (session() is not { } client)
        {
            return Failed($"The MCP server behind '{definition.Name}' is not running; it is being restarted. Retry shortly.");
        }

        IProgress<ProgressNotificationValue>? progress = request.Params?.ProgressToken is { } token
            ? new Progress<ProgressNotificationValue>(value => _ = request.Server.NotifyProgressAsync(token, value, cancellationToken: CancellationToken.None))
            : null;
        try
        {
            return await client.CallToolAsync(
                definition.Name,
                request.Params?.Arguments?.ToDictionary(argument => argument.Key, argument => (object?)argument.Value),
                progress,
                cancellationToken: cancellationToken);
        }
        catch (McpProtocolException ex)
        {
            return Failed($"The MCP server behind '{definition.Name}' refused the call: {ex.Message}");
        }
        catch (Exception ex) when (ex is IOException or McpException or ObjectDisposedException && !cancellationToken.IsCancellationRequested)
        {
            return Failed($"The MCP server behind '{definition.Name}' stopped during the call ({ex.Message}). It may or may not have run; it is being restarted.");
        }
    }

    private static CallToolResult Failed(string message) => new() { IsError = true, Content = [new TextContentBlock { Text = message }] };
}
