using McpAspire.McpCoordinator.Routing;
using McpAspire.ServiceDefaults.Mcp;

namespace McpAspire.McpCoordinator.Apis;

/// <summary>Maps the coordinator's MCP endpoint.</summary>
public static class McpGatewayApi
{
    /// <summary>
    /// Maps POST <c>/mcp</c> to the gateway. GET and DELETE answer 405: the coordinator is stateless,
    /// so it has no server-to-client stream and no sessions to end.
    /// </summary>
    public static IEndpointRouteBuilder MapMcpGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var gateway = endpoints.ServiceProvider.GetRequiredService<McpGateway>();
        endpoints.MapPost("/mcp", gateway.HandlePostAsync);
        endpoints.MapMethods("/mcp", [HttpMethods.Get, HttpMethods.Delete], static context =>
        {
            context.Response.Headers.Allow = HttpMethods.Post;
            return McpHttpResponses.WriteErrorAsync(context, StatusCodes.Status405MethodNotAllowed, McpErrorCodes.ServerError,
                "Method Not Allowed: the coordinator is stateless; send every message with POST.");
        });
        return endpoints;
    }
}
