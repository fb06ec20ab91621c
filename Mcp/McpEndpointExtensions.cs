using McpAspire.Mcp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.Hosting;

/// <summary>Registers and maps the MCP Streamable HTTP endpoint.</summary>
public static class McpEndpointExtensions
{
    /// <summary>
    /// Adds the services behind <see cref="MapMcpEndpoint"/> and binds <see cref="McpEndpointOptions"/> from the
    /// <c>Mcp</c> section, validated at start-up. Register tools with the SDK's <c>AddMcpServer()</c>.
    /// </summary>
    public static TBuilder AddMcpEndpoint<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddMcpEndpointOptions();
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<McpSessionStore>();
        builder.Services.AddSingleton<McpServerEndpoint>();
        return builder;
    }

    /// <summary>Binds and validates <see cref="McpEndpointOptions"/>; also used by services that serve <c>/mcp</c> themselves.</summary>
    public static IServiceCollection AddMcpEndpointOptions(this IServiceCollection services)
    {
        services.AddOptions<McpEndpointOptions>()
            .BindConfiguration(McpEndpointOptions.SectionName)
            .ValidateDataAnnotations()
            .ValidateOnStart();
        services.AddSingleton<McpHostGuard>();
        return services;
    }

    /// <summary>Maps POST, GET and DELETE on <paramref name="pattern"/> (default <c>/mcp</c>) to the SDK-backed MCP server.</summary>
    public static IEndpointConventionBuilder MapMcpEndpoint(this IEndpointRouteBuilder endpoints, string pattern = "/mcp")
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        var endpoint = endpoints.ServiceProvider.GetRequiredService<McpServerEndpoint>();
        var group = endpoints.MapGroup(pattern);
        group.MapPost(string.Empty, endpoint.HandlePostAsync);
        group.MapGet(string.Empty, endpoint.HandleGetAsync);
        group.MapDelete(string.Empty, endpoint.HandleDeleteAsync);
        return group;
    }
}
