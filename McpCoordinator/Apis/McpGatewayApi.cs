using McpAspire.McpCoordinator.Routing;
using McpAspire.McpCoordinator.Security;

namespace McpAspire.McpCoordinator.Apis;

/// <summary>Maps the coordinator's MCP endpoint.</summary>
public static class McpGatewayApi
{
    /// <summary>
    /// Maps POST, GET and DELETE of <c>/mcp</c> to the gateway. Stateless (the default), GET and DELETE answer
    /// 405; stateful, they go to the node that holds the client's session. Once authentication is configured, each
    /// needs an authenticated caller; once rate limits apply, each counts against its caller's.
    /// </summary>
    public static IEndpointRouteBuilder MapMcpGateway(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var gateway = endpoints.ServiceProvider.GetRequiredService<McpGateway>();
        var services = endpoints.ServiceProvider;
        endpoints.MapPost("/mcp", gateway.HandlePostAsync)
            .RequireCaller(services, CoordinatorSecurity.CallerPolicy).RequireCallerLimit(services, CallerRateLimits.RequestsPolicy);
        endpoints.MapGet("/mcp", gateway.HandleGetAsync)
            .RequireCaller(services, CoordinatorSecurity.CallerPolicy).RequireCallerLimit(services, CallerRateLimits.StreamsPolicy);
        endpoints.MapDelete("/mcp", gateway.HandleDeleteAsync)
            .RequireCaller(services, CoordinatorSecurity.CallerPolicy).RequireCallerLimit(services, CallerRateLimits.RequestsPolicy);
        return endpoints;
    }
}
