using McpAspire.McpCoordinator.Routing;

namespace McpAspire.McpCoordinator.Apis;

/// <summary>Maps the coordinator's MCP endpoint.</summary>
public static class McpGatewayApi
{
    /// <summary>
    /// Maps POST, GET and DELETE of <c>/mcp</c> to the gateway. Stateless (the default), GET and DELETE answer
    /// 405; stateful, they go to the node that holds the client's session.
    /// </summary>
    public static IEndpointRouteBuilder MapMcpGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var gateway = endpoints.ServiceProvider.GetRequiredService<McpGateway>();
        endpoints.MapPost("/mcp", gateway.HandlePostAsync);
        endpoints.MapGet("/mcp", gateway.HandleGetAsync);
        endpoints.MapDelete("/mcp", gateway.HandleDeleteAsync);
        return endpoints;
    }
}
