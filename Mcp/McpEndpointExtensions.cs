using McpAspire.Mcp;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using ModelContextProtocol.AspNetCore;
using ModelContextProtocol.Server;

namespace Microsoft.Extensions.Hosting;

/// <summary>Configures the SDK's Streamable HTTP transport from the <c>Mcp</c> section, and puts the request gate in front of it.</summary>
public static class McpEndpointExtensions
{
    /// <summary>
    /// Binds <see cref="McpEndpointOptions"/> from the <c>Mcp</c> section, validated at start-up, and applies
    /// them to the SDK's <see cref="HttpServerTransportOptions"/>: the session mode, the idle timeout and the
    /// idle-session cap. Add the transport with the SDK's <c>AddMcpServer().WithHttpTransport()</c>, map it with
    /// <c>MapMcp("/mcp")</c>, and put <see cref="WithRequestGate"/> on what that returns.
    /// </summary>
    public static TBuilder AddMcpEndpoint<TBuilder>(this TBuilder builder)
        where TBuilder : IHostApplicationBuilder
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddMcpEndpointOptions();
        builder.Services.TryAddSingleton<McpLiveSessions>();
        builder.Services.TryAddSingleton<McpRequestGate>();
        builder.Services.AddSingleton<IOptionsFactory<McpServerOptions>>(services => new StatelessServerOptions(
            ActivatorUtilities.CreateInstance<OptionsFactory<McpServerOptions>>(services),
            services.GetRequiredService<IOptions<HttpServerTransportOptions>>()));

        // MapMcp reads these while the endpoints are mapped, before the host validates McpEndpointOptions;
        // read leniently here, so a bad value is reported by that validation, together with every other.
        builder.Services.AddOptions<HttpServerTransportOptions>().Configure<IConfiguration, McpLiveSessions>((transport, configuration, sessions) =>
        {
            var endpoint = new McpEndpointOptions();
            try
            {
                configuration.GetSection(McpEndpointOptions.SectionName).Bind(endpoint);
            }
            catch (InvalidOperationException)
            {
                // A value that does not convert: the host refuses to start and names it.
            }

            transport.SessionMode = endpoint.Mode;

            // The SDK marks its session settings obsolete to steer new servers to stateless mode; stateful mode
            // is still ours to offer to 2025 clients, and these are its limits.
#pragma warning disable MCP9006
            transport.IdleTimeout = endpoint.SessionIdleTimeout;
            transport.MaxIdleSessionCount = endpoint.MaxIdleSessions;
#pragma warning restore MCP9006

            // The session hook is experimental; it is the only way to learn which sessions run.
#pragma warning disable MCPEXP002
            transport.RunSessionHandler = (_, server, cancellationToken) => sessions.RunAsync(server, cancellationToken);
#pragma warning restore MCPEXP002
        });
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

    /// <summary>
    /// Puts the request gate (<see cref="McpRequestGate"/>: host guard, body cap, envelope checks, admission,
    /// held answers) in front of every endpoint in <paramref name="mcp"/>, the group <c>MapMcp()</c> returns.
    /// </summary>
    public static TBuilder WithRequestGate<TBuilder>(this TBuilder mcp)
        where TBuilder : IEndpointConventionBuilder
    {
        ArgumentNullException.ThrowIfNull(mcp);
        // Last, after the SDK's own conventions: its POST declares that it accepts application/json, and routing
        // would answer any other Content-Type with a bare 415 before the gate could say what is wrong.
        mcp.Finally(endpoint =>
        {
            var accepts = endpoint.Metadata.OfType<IAcceptsMetadata>().ToArray();
            foreach (var declared in accepts)
            {
                endpoint.Metadata.Remove(declared);
            }

            var handler = endpoint.RequestDelegate ?? throw new InvalidOperationException($"The endpoint '{endpoint.DisplayName}' has no request delegate to put the MCP request gate in front of.");
            var gate = endpoint.ApplicationServices.GetRequiredService<McpRequestGate>();
            endpoint.RequestDelegate = context => gate.InvokeAsync(context, handler);
        });
        return mcp;
    }
}
