namespace McpAspire.Mcp;

/// <summary>
/// A request feature that hears the JSON-RPC code of each error answer <see cref="McpHttpResponses"/> writes,
/// so whatever traces the request (the coordinator's MCP span) records it. Set it with
/// <c>context.Features.Set&lt;IMcpErrorFeature&gt;(...)</c>.
/// </summary>
public interface IMcpErrorFeature
{
    /// <summary>Records that the answer is a JSON-RPC error with <paramref name="code"/>.</summary>
    void FailWithCode(int code);
}
